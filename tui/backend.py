"""The TUI's one door to the node: public Node / NodeService calls, proof-of-stake calls that may be missing,
and the few fallbacks used until the node offers a call (each marked). Called from worker threads only."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chain import crypto
from chain.consensus.schedule import uses_validators
from chain.errors import ChaintopError, NotFound, UsageError
from chain.params import Params

if TYPE_CHECKING:
    from node.api import NodeAPI
    from node.events import EventBus

POS_HINT = ("Validators exist on proof-of-stake networks. Start one with "
            "`chaintop --network pos-devnet init` and `chaintop --network pos-devnet tui`.")


class PosUnavailable(Exception):
    """This node cannot answer a proof-of-stake question: a PoW network, or a node without the PoS API."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Backend:
    def __init__(self, node: NodeAPI, service=None, running=None, datadir: str | Path | None = None) -> None:
        self.node = node
        self.service = service
        self.running = running
        self.datadir = Path(datadir) if datadir else Path(node.status()["datadir"])
        self.params = Params.from_dict(node.params_view())
        self.hrp = self.params.hrp
        self.network = self.params.network
        self.consensus = self.params.consensus

    @property
    def events(self) -> EventBus:
        """The node's event bus: the TUI runs its node in this process (RPC clients stream events instead)."""
        return self.node.events  # type: ignore[attr-defined]

    # -- reads -----------------------------------------------------------------------------
    def status(self) -> dict:
        return self.node.status()

    def recent_blocks(self, n: int = 12) -> list[dict]:
        return self.node.blocks(last=n)

    def headers(self, top: int, count: int) -> list[dict]:
        """Header views for heights top, top-1, ... (count of them, stopping at genesis): one page."""
        if top < 0 or count < 1:
            return []
        return self.node.blocks(last=min(count, top + 1), start=top)

    def block(self, ident: str | int) -> dict:
        return self.node.block(ident)

    def block_txs(self, block: dict, limit: int = 200) -> list[dict]:
        """Transaction views of a block's first `limit` transactions (the block decoded once, on the node)."""
        views = (block["tx_views"] if "tx_views" in block
                 else self.node.block(block["hash"], verbose=True)["tx_views"])
        return views[:limit]

    def tx(self, txid: str) -> dict:
        return self.node.tx(txid)

    def proof(self, txid: str) -> dict:
        return self.node.proof(txid)

    def account(self, address: str) -> dict:
        return self.node.account(address)

    def account_history(self, address: str, limit: int = 100) -> dict:
        """Confirmed transactions that touch an address, newest first (the node's address index)."""
        return {"txs": self.node.account_history(address, limit=limit), "scanned": None}

    def keys(self) -> list[dict]:
        return self.node.keys()

    def wallet(self) -> list[dict]:
        """Each key the node can sign with, with its balance and nonce."""
        out = []
        for k in self.node.keys():
            acct = self.node.account(k["address"])
            out.append({**k, "balance": acct["balance"], "nonce": acct["nonce"],
                        "pending": acct.get("pending", 0),
                        "next_nonce": acct.get("next_nonce", acct["nonce"])})
        return out

    def mempool_view(self) -> list[dict]:
        return self.node.mempool_view()

    def template(self) -> dict:
        return self.node.template_view()

    def fee_estimate(self) -> dict:
        return self.node.fee_estimate()

    def mining_state(self) -> dict:
        if self.service is None:
            return {"mode": "manual", "workers": 0, "active": False, "traffic": 0.0}
        return self.service.mining_state()

    def verify(self) -> dict:
        return self.node.verify()

    def energy(self) -> dict:
        return self.node.energy()

    def supply(self, at: int | None = None) -> dict:
        return self.node.supply(at)

    # -- proof of stake ----------------------------------------------------------------------
    def _pos(self, name: str, *args, **kwargs):
        fn = getattr(self.node, name, None)
        if fn is None:
            raise PosUnavailable(f"This node has no proof-of-stake API yet (Node.{name} is missing). "
                                 f"{POS_HINT}", "no-pos-api")
        try:
            return fn(*args, **kwargs)
        except ChaintopError as e:
            if e.code == "not-pos":
                raise PosUnavailable(f"This chain runs {self.consensus} consensus: no validators, no "
                                     "committees, no checkpoints; finality is probabilistic (count "
                                     f"confirmations). {POS_HINT}",
                                     "not-pos") from None
            raise

    @property
    def is_pos(self) -> bool:
        return uses_validators(self.params)

    def validators(self) -> list[dict]:
        return self._pos("validators")

    def committees(self, epoch: int | None = None) -> dict:
        return self._pos("committees", epoch)

    def finality(self) -> dict:
        return self._pos("finality")

    def duties(self) -> list[dict]:
        return self._pos("duties")

    def votes_included(self, first_slot: int, last_slot: int, depth: int) -> dict[int, int]:
        """slot -> how many validators' votes for it (first_slot..last_slot) the newest `depth` blocks carry.
        Votes cast before this node started were never seen live; the blocks still hold them."""
        head = self.node.status()["height"]
        voters: dict[int, set[int]] = {}
        for height in range(head, max(0, head - depth), -1):
            for a in self.node.block(height).get("attestations", []):
                if first_slot <= a["slot"] <= last_slot:
                    voters.setdefault(a["slot"], set()).add(a["validator"])
        return {slot: len(v) for slot, v in voters.items()}

    # -- writes ----------------------------------------------------------------------------
    def send(self, sender: str, to: str, amount: int, fee: int | None = None) -> dict:
        return self.node.send(sender, to, amount, fee)

    def stake(self, sender: str, amount: int) -> dict:
        return self._pos("stake", sender, amount)

    def unstake(self, sender: str, index: int) -> dict:
        return self._pos("unstake", sender, index)

    def validator_fault(self, index: int, mode: str) -> dict:
        return self._pos("validator_fault", index, mode)

    def mine(self, blocks: int = 1, to: str | None = None, should_stop=None) -> dict:
        return self.node.mine(blocks, to, should_stop=should_stop)

    def set_mining(self, mode: str) -> dict:
        if self.service is None:
            raise UsageError("no-service", "this node runs without its mining service")
        return self.service.set_mining(mode)

    def set_workers(self, workers: int) -> dict:
        if self.service is None:
            raise UsageError("no-service", "this node runs without its mining service")
        return self.service.set_workers(workers)

    def set_traffic(self, rate: float) -> dict:
        if self.service is None:
            raise UsageError("no-service", "this node runs without its traffic generator")
        return self.service.set_traffic(rate)

    def export_blocks(self, file: str) -> dict:
        return self.node.export_blocks(file)

    # -- names -----------------------------------------------------------------------------
    # -- the network (node/p2p) --------------------------------------------------------------
    @property
    def is_networked(self) -> bool:
        return getattr(self.node, "network", None) is not None

    def peers(self) -> dict:
        return self.node.peers()

    def net_partition(self) -> dict:
        return self.node.net_partition()

    def net_heal(self) -> dict:
        return self.node.net_heal()

    def devnet_name(self) -> tuple[Path, str] | None:
        """(devnet root, this node's name) when this node is one of a devnet's (`devnet tui NODE`)."""
        from node.devnet import member_of

        _, me = member_of(self.datadir)
        return (self.datadir.resolve().parent, me["name"]) if me else None

    def attack_majority(self, confirmations: int = 2, say=None, stop=None) -> dict:
        """The 51% attack playground (node/attack.py) with this node as the attacker and the devnet's other
        nodes, each through its RPC, as the honest ones."""
        from node import attack, devnet

        _, honest, mine_account, victim = devnet.attack_sides(self.datadir)
        plan = attack.Attack(self.node, honest, mine_account, victim, None, confirmations,
                             branch_file=str(self.datadir / "attack-branch.blk"),
                             say=say or (lambda text: None), stop=stop or (lambda: False))
        try:
            return attack.run(plan)
        finally:
            for client in honest.values():
                client.close()

    def check_address(self, text: str) -> str | None:
        """None if `text` is a dev label or a valid address of this network, else why not."""
        text = text.strip()
        if not text:
            return (f"enter an address ({self.hrp}1…) or a dev label "
                    f"(dev0…dev{self.params.dev_accounts - 1})")
        if crypto.parse_dev_label(text, None) is not None:  # a label: in range, or say what the range is
            if crypto.parse_dev_label(text, self.params.dev_accounts) is not None:
                return None
            return (f"there are {self.params.dev_accounts} dev accounts: "
                    f"dev0…dev{self.params.dev_accounts - 1}")
        try:
            crypto.decode_address(self.hrp, text)
        except ChaintopError as e:
            return f"not an address of this network ({self.hrp}1…): {e.message}"
        return None

    def label_for(self, address: str) -> str | None:
        for k in self.node.keys():
            if k["address"] == address:
                return k["label"]
        return None


__all__ = ["Backend", "PosUnavailable", "NotFound", "POS_HINT"]
