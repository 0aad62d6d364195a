"""NodeAPI: the operations both the in-process node and the RPC client offer, and the RPC method table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class NodeAPI(Protocol):
    """Every method returns JSON-ready data (hex bytes, integer base units); the CLI and TUI code against it.

    Node implements it in process and RpcClient over JSON-RPC (METHODS below maps each RPC name onto it);
    tests/unit/test_node_api.py checks that the three agree.
    """

    # -- explorer reads
    def status(self) -> dict: ...
    def blocks(self, last: int = 10, start: int | None = None) -> list[dict]: ...
    def block(self, ident: str | int, verbose: bool = False) -> dict: ...
    def account_history(self, address: str, limit: int = 100) -> list[dict]: ...
    def tx(self, txid: str) -> dict: ...
    def account(self, address: str) -> dict: ...
    def keys(self) -> list[dict]: ...
    def mempool_view(self) -> list[dict]: ...
    def proof(self, txid: str) -> dict: ...
    def params_view(self) -> dict: ...
    def supply(self, at: int | None = None) -> dict: ...
    def energy(self, watts: float | None = None) -> dict: ...

    # -- submission
    def fee_estimate(self) -> dict: ...
    def send(self, sender: str, to: str, amount: int, fee: int | None = None,
             nonce: int | None = None) -> dict: ...
    def submit_tx(self, tx: str | bytes, replace: bool = True) -> dict: ...
    def submit_txs(self, txs: list[str | bytes]) -> list[dict]: ...
    def drop_tx(self, txid: str) -> dict: ...

    # -- mining; over RPC the node streams progress and blocks to the callbacks (rpc.LONG_CALLS)
    def mine(self, blocks: int = 1, to: str | None = None, progress: Callable[[Any], None] | None = None,
             on_block: Callable[[dict], None] | None = None,
             should_stop: Callable[[], bool] | None = None) -> dict: ...
    def template_view(self) -> dict: ...

    # -- the running service: mining mode, traffic generator, worker processes, shutdown
    def mining_state(self) -> dict: ...
    def set_mining(self, mode: str) -> dict: ...
    def set_traffic(self, rate: float) -> dict: ...
    def set_workers(self, workers: int) -> dict: ...
    def stop_node(self) -> dict: ...
    def set_block_time(self, seconds: float) -> dict: ...

    # -- the chain's clock: setmocktime / evm_increaseTime
    def time_view(self) -> dict: ...
    def increase_time(self, seconds: float) -> dict: ...
    def set_time(self, timestamp: float) -> dict: ...

    # -- maintenance
    def export_blocks(self, file: str, start: int = 1, end: int | None = None) -> dict: ...
    def import_blocks(self, file: str) -> dict: ...
    def verify(self) -> dict: ...

    # -- proof of stake
    def validators(self) -> list[dict]: ...
    def committees(self, epoch: int | None = None) -> dict: ...
    def finality(self) -> dict: ...
    def duties(self) -> list[dict]: ...
    def stake(self, sender: str, amount: int, fee: int | None = None,
              validator_key: str | None = None) -> dict: ...
    def unstake(self, sender: str, index: int, fee: int | None = None) -> dict: ...
    def validator_fault(self, index: int, mode: str) -> dict: ...

    # -- the network (node/p2p)
    def peers(self) -> dict: ...
    def net_connect(self, peer: str) -> dict: ...
    def net_disconnect(self, peer: str) -> dict: ...


@dataclass(frozen=True)
class Param:
    name: str  # the wire name (JSON-RPC named params, CLI spelling)
    kind: type | tuple[type, ...]
    required: bool = True
    default: Any = None
    arg: str | None = None  # the Python keyword when the wire name is reserved ("from") or differs

    @property
    def kwarg(self) -> str:
        return self.arg or self.name


# RPC method name -> (NodeAPI method, parameters in positional order). Names follow the CLI.
METHODS: dict[str, tuple[str, tuple[Param, ...]]] = {
    "status": ("status", ()),
    "blocks": ("blocks", (Param("last", int, False, 10), Param("start", int, False))),
    "block": ("block", (Param("id", (str, int), arg="ident"), Param("verbose", bool, False))),
    "account_history": ("account_history", (Param("address", str), Param("limit", int, False, 100))),
    "tx": ("tx", (Param("txid", str),)),
    "account": ("account", (Param("address", str),)),
    "keys": ("keys", ()),
    "mempool": ("mempool_view", ()),
    "proof": ("proof", (Param("txid", str),)),
    "fee_estimate": ("fee_estimate", ()),
    "send": ("send", (Param("from", str, arg="sender"), Param("to", str), Param("amount", int),
                      Param("fee", int, False), Param("nonce", int, False))),
    "submit_tx": ("submit_tx", (Param("tx", str), Param("replace", bool, False, True))),
    "submit_txs": ("submit_txs", (Param("txs", list),)),
    "mempool_drop": ("drop_tx", (Param("txid", str),)),
    "mine": ("mine", (Param("blocks", int, False, 1), Param("to", str, False))),
    "export": ("export_blocks", (Param("file", str), Param("from", int, False, 1, "start"),
                                 Param("to", int, False, None, "end"))),
    "import": ("import_blocks", (Param("file", str),)),
    "db_verify": ("verify", ()),
    "params": ("params_view", ()),
    "supply": ("supply", (Param("at", int, False),)),
    "energy": ("energy", (Param("watts", (int, float), False),)),
    "mining_get": ("mining_state", ()),
    "mining_set": ("set_mining", (Param("mode", str),)),
    "traffic_set": ("set_traffic", (Param("rate", (int, float)),)),
    "workers_set": ("set_workers", (Param("workers", int),)),
    "template": ("template_view", ()),
    "stop": ("stop_node", ()),
    "block_time_set": ("set_block_time", (Param("seconds", (int, float)),)),
    "time_get": ("time_view", ()),
    "time_increase": ("increase_time", (Param("seconds", (int, float)),)),
    "time_set": ("set_time", (Param("timestamp", (int, float)),)),
    "validators": ("validators", ()),
    "committees": ("committees", (Param("epoch", int, False),)),
    "finality": ("finality", ()),
    "duties": ("duties", ()),
    "stake": ("stake", (Param("from", str, arg="sender"), Param("amount", int), Param("fee", int, False),
                        Param("validator_key", str, False))),
    "unstake": ("unstake", (Param("from", str, arg="sender"), Param("index", int), Param("fee", int, False))),
    "validator_fault": ("validator_fault", (Param("index", int), Param("mode", str))),
    "peers": ("peers", ()),
    "net_connect": ("net_connect", (Param("peer", str),)),
    "net_disconnect": ("net_disconnect", (Param("peer", str),)),
}
