"""The node: owns the store, chain state, mempool and miner; a locked facade over the node's modules."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from chain import crypto
from chain.block import Block
from chain.chainstate import AcceptResult, ChainState
from chain.consensus import schedule
from chain.errors import InvalidAddress, StoreError, UsageError
from chain.genesis import initialize, load_params
from chain.mempool import Mempool, PoolPolicy
from chain.params import Params, get_preset, with_overrides
from chain.tx import Tx
from node import accept, explorer, keys, ledgers, mining, pos_api, rewind, sigcheck, submit, timectl
from node import events as ev
from node.clock import PausingClock, uses_paused_clock
from node.energy import EnergyMeter
from node.health import Health
from node.miner import Miner, ProgressFn
from node.p2p import chainview
from node.validator import ValidatorClient
from storage.store import ChainStore

if TYPE_CHECKING:
    from node.p2p.service import P2PService
    from node.service import NodeService

Clock = Callable[[], float]


def locked(fn):
    """Node methods run one at a time: RPC threads, the miner loop and the TUI share one node."""

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        with self.lock:
            return fn(self, *args, **kwargs)

    return wrapper


class Node:
    """One open data dir. Methods return JSON-ready dicts: the same shapes the CLI prints and RPC returns.

    Implements node.api.NodeAPI; the work is in keys, explorer, submit, mining, accept and pos_api.
    """

    def __init__(self, store: ChainStore, clock: Clock | None = None, workers: int | None = None) -> None:
        self.store = store
        self.params: Params = load_params(store)
        if clock is None:  # the chain's clock (node/clock.py): `time increase` moves it on, on any network;
            # a slot-clocked devnet's also stands still while it is closed
            clock = PausingClock(store.datadir, pause_while_closed=uses_paused_clock(self.params))
        self.clock = clock
        # Block and vote signatures are checked on every core (the pure core's default is sequential).
        self.chain = ChainState(store, self.params, clock, verify_batch=sigcheck.verify_many_parallel)
        self.energy_meter = EnergyMeter(store.get_energy)  # the energy ledger (node/energy.py)
        self.chain.verify_votes = self.energy_meter.metered_votes(sigcheck.verify_many_parallel)
        self.chain.batch_hooks.append(self.energy_meter.record)
        p = self.params
        policy = PoolPolicy(p.chain_id, p.min_fee, p.min_fee_rate, p.mempool_max_bytes, p.mempool_expiry,
                            schedule.uses_validators(p))
        self.mempool = Mempool(policy, self.chain.get_account,
                               lambda txid: store.get_tx_location(txid) is not None)
        self.lock = threading.RLock()
        self.mining_lock = threading.Lock()  # one nonce search at a time: the miner's workers are shared
        self.events = ev.EventBus()
        self.removed_txs = submit.RemovedTxs.load(store.datadir)  # why a tx left the pool without a block
        self._workers = workers
        self._miner: Miner | None = None
        self.service: NodeService | None = None  # the service running this node's threads attaches itself
        self.health = Health(self)  # failed writes (a full disk) and failed threads, as events and state
        self.network: P2PService | None = None  # the p2p service (node/p2p), when the node is on a network
        self._dev_keys = [crypto.dev_keypair(i) for i in range(self.params.dev_accounts)]
        self.validator = ValidatorClient(self) if schedule.uses_validators(self.params) else None
        if self.validator is not None:
            self.mempool.check_state = functools.partial(submit.check_staking_tx, self)
        submit.load_pool(self)

    # -- lifecycle -------------------------------------------------------------------------
    @classmethod
    def open(cls, datadir: str | Path, clock: Clock | None = None, workers: int | None = None) -> Node:
        store = ChainStore.open(datadir)
        try:
            return cls(store, clock, workers)
        except BaseException:
            store.close()
            raise

    @classmethod
    def create(cls, datadir: str | Path, network: str = "devnet", clock: Clock | None = None,
               **overrides) -> Node:
        params = with_overrides(get_preset(network), **overrides) if overrides else get_preset(network)
        if params.genesis_time == 0:  # PoS: the slot clock starts when the chain is created
            params = with_overrides(params, genesis_time=int((clock or time.time)()))
        path = Path(datadir).expanduser()
        if (path / "chain").exists():
            raise StoreError("already-initialized",
                             f"{path} already holds a chain; use another --datadir or remove it")
        store = ChainStore.open(path, create=True)
        try:
            initialize(store, params)
            return cls(store, clock)
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        if self._miner is not None:
            self._miner.close()
            self._miner = None
        if isinstance(self.clock, PausingClock):
            self.clock.close()  # the heartbeat: the pause starts now
        self.removed_txs.save(self.store.datadir)
        self.store.close()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- names -----------------------------------------------------------------------------
    def dev_label(self, address: bytes) -> str | None:
        return keys.dev_label(self, address)

    def resolve_address(self, text: str) -> bytes:
        """A bech32m address of this network, or a dev key's label (dev0, dev1, ...)."""
        return keys.resolve_address(self, text)

    def resolve_key(self, text: str) -> crypto.KeyPair:
        return keys.resolve_key(self, text)

    @locked
    def keys(self) -> list[dict]:
        """Dev accounts (public seed) with their addresses: label, address, dev."""
        return keys.keys(self)

    # -- reads -----------------------------------------------------------------------------
    @locked
    def status(self) -> dict:
        """The head (height, hash, time), difficulty, chain work, mempool size; epoch and finality (PoS);
        health: None, or what stopped (a full disk: no writes until there is room) and which thread failed."""
        return {**explorer.status(self), "health": self.health.view()}

    @locked
    def height(self) -> dict:
        """The head's height and hash: the cheapest read, for scripts that poll (bitcoind's getblockcount,
        eth_blockNumber); the hash tells a reorg to the same height apart."""
        head = self.chain.head
        return {"height": head.height, "head": head.hash.hex()}

    @locked
    def block(self, ident: str | int, verbose: bool = False) -> dict:
        """A block's header fields, txids, votes and evidence; verbose adds every transaction's view."""
        return explorer.block(self, ident, verbose)

    @locked
    def blocks(self, last: int = 10, start: int | None = None) -> list[dict]:
        """Header views of `last` main-chain blocks, newest first, from the head or from height `start`."""
        return explorer.blocks(self, last, start)

    @locked
    def account_history(self, address: str, limit: int = 100) -> list[dict]:
        """The account's confirmed transactions, newest first (from the address index)."""
        return explorer.account_history(self, address, limit)

    @locked
    def tx(self, txid: str) -> dict:
        """A transaction: pending (ready or queued), confirmed (block, confirmations) or removed (why)."""
        return explorer.tx(self, txid)

    @locked
    def account(self, address: str) -> dict:
        """An account's balance and nonce, the next nonce to use and how many are pending."""
        return explorer.account(self, address)

    @locked
    def mempool_view(self) -> list[dict]:
        """Pending transactions, highest fee rate first, each ready or queued behind a nonce gap."""
        return explorer.mempool_view(self)

    @locked
    def proof(self, txid: str) -> dict:
        """A Merkle inclusion proof of a confirmed transaction against its block's tx root."""
        return explorer.proof(self, txid)

    def params_view(self) -> dict:
        """The chain's parameters (network preset and any overrides chosen at init)."""
        return self.params.to_dict()

    # -- the ledgers (node/ledgers.py) ------------------------------------------------------------
    @locked
    def supply(self, at: int | None = None) -> dict:
        """Total supply at a height (default the head) and its parts: genesis, minted, burned, moved, held."""
        return ledgers.supply_view(self, at)

    @locked
    def energy(self, watts: float | None = None) -> dict:
        """CPU seconds and joules this node spent per block: the PoW search against the PoS duties."""
        return ledgers.energy_view(self, watts)

    # -- proof of stake ----------------------------------------------------------------------
    @locked
    def validators(self) -> list[dict]:
        """Every validator: status, effective balance, balance, rewards, slashed, epochs."""
        return pos_api.validators(self)

    @locked
    def committees(self, epoch: int | None = None) -> dict:
        """An epoch's committee per slot and (under PoS) each slot's proposer."""
        return pos_api.committees(self, epoch)

    @locked
    def finality(self) -> dict:
        """Justified and finalized checkpoints, participation, and whether the inactivity leak runs."""
        return pos_api.finality(self)

    @locked
    def duties(self) -> list[dict]:
        """Upcoming proposals and votes of the validators this node runs."""
        return pos_api.duties(self)

    @locked
    def stake(self, sender: str, amount: int, fee: int | None = None,
              validator_key: str | None = None) -> dict:
        """Bond `amount` base units from a dev account to a validator key (default: a fresh dev one)."""
        return pos_api.stake(self, sender, amount, fee, validator_key)

    @locked
    def unstake(self, sender: str, index: int, fee: int | None = None) -> dict:
        """Start the exit of validator `index`; its balance returns after the withdrawal delay."""
        return pos_api.unstake(self, sender, index, fee)

    @locked
    def validator_fault(self, index: int, mode: str) -> dict:
        """Fault injection for a local validator: mode offline, online or equivocate."""
        return pos_api.fault(self, index, mode)

    @locked
    def on_slot(self, slot: int):
        """PoS duties for `slot` (the service's slot ticker calls this; tests call it with a fake clock)."""
        if self.validator is None:
            return None
        with self.energy_meter.duty():  # proposing and voting: the energy ledger's PoS figure
            return self.validator.on_slot(slot)

    # -- writes ----------------------------------------------------------------------------
    def submit_tx(self, tx: Tx | bytes | str, replace: bool = True) -> dict:
        """Admit a transaction (object, raw bytes or hex) to the mempool; says what it replaced or evicted.
        replace=False refuses one whose sender and nonce are pending already (nonce-taken)."""
        tx = submit.decode_tx(tx)
        # The signature is verified before the lock is taken: OpenSSL releases the GIL, so submissions on
        # other threads (RPC clients) verify on other cores while one of them holds the node.
        signature_ok = sigcheck.check_signature(tx)  # (pre-verified by the RPC server, when it could)
        with self.lock:
            return submit.submit_tx(self, tx, replace, signature_ok)

    def submit_txs(self, txs: list[str | bytes]) -> list[dict]:
        """Admit many transactions (raw bytes or hex), signatures verified on every core; one answer each."""
        return submit.submit_txs(self, txs)

    @locked
    def drop_tx(self, txid: str) -> dict:
        """Take a pending transaction out of the mempool; the sender's later nonces wait for the gap."""
        return submit.drop_tx(self, txid)

    @locked
    def send(self, sender: str, to: str, amount: int, fee: int | None = None,
             nonce: int | None = None) -> dict:
        """Sign with a dev key (their seed is public, so the node holds them) and submit."""
        return submit.send(self, sender, to, amount, fee, nonce)

    @locked
    def fee_estimate(self) -> dict:
        """Percentiles of fee rates included in recent blocks; the relay minimum when history is thin."""
        return submit.fee_estimate(self)

    # -- mining ----------------------------------------------------------------------------
    # mine and mine_block take the lock only around each block's acceptance: the nonce search runs unlocked.
    def _get_miner(self) -> Miner:
        return mining.get_miner(self)

    @locked
    def build_template(self, beneficiary: bytes) -> Block:
        """What the next block would hold: ready transactions by fee rate, within the size limit."""
        return mining.build_template(self, beneficiary)

    @locked
    def template_view(self, beneficiary: str | None = None) -> dict:
        """The projected next block: which pending transactions the template would take."""
        return mining.template_view(self, beneficiary)

    def mine_block(self, beneficiary: bytes, progress: ProgressFn | None = None,
                   should_stop=None, sync: bool = True) -> AcceptResult | None:
        """Search a nonce for a template on the head; gives up (None) when the head moves or should_stop()."""
        return mining.mine_block(self, beneficiary, progress, should_stop, sync)

    def mine(self, blocks: int = 1, to: str | None = None, progress: ProgressFn | None = None,
             on_block: Callable[[dict], None] | None = None, should_stop=None) -> dict:
        """Mine `blocks` blocks on the head; the reward and fees go to `to` (default dev0)."""
        return mining.mine(self, blocks, to, progress, on_block, should_stop)

    def expected_hashes(self) -> float:
        return mining.expected_hashes(self)

    # The service's controls are not locked: set_workers waits for the mining lock, which a search holds
    # while it waits for this lock to accept its block.
    def mining_state(self) -> dict:
        """The running node's mining mode, worker count, whether it searches now, traffic rate."""
        return mining.mining_state(self)

    def set_mining(self, mode: str) -> dict:
        """Switch the running node's mining mode: auto, interval, manual or off."""
        return mining.get_service(self).set_mining(mode)

    def set_traffic(self, rate: float) -> dict:
        """Set the generated transfers per second (0: none)."""
        return mining.get_service(self).set_traffic(rate)

    def set_workers(self, workers: int) -> dict:
        """Set how many worker processes search nonces (1-64)."""
        return mining.get_service(self).set_workers(workers)

    def stop_node(self) -> dict:
        """Stop the running node cleanly (pending transactions are kept)."""
        return mining.get_service(self).stop_node()

    def set_block_time(self, seconds: float) -> dict:
        """Seconds between blocks in interval mining mode (anvil's --block-time); not a consensus rule."""
        return mining.get_service(self).set_block_time(seconds)

    # -- time control (bitcoind's setmocktime, anvil's evm_increaseTime) ----------------------
    @locked
    def time_view(self) -> dict:
        """The chain's clock: now, its offset from the wall clock, the shift asked for, the slot."""
        return timectl.time_view(self)

    @locked
    def increase_time(self, seconds: float) -> dict:
        """Move the chain's clock `seconds` on; kept across restarts."""
        return timectl.increase_time(self, seconds)

    @locked
    def set_time(self, timestamp: float) -> dict:
        """Set the chain's clock to a unix time, never before the head's timestamp; kept across restarts."""
        return timectl.set_time(self, timestamp)

    # -- acceptance ------------------------------------------------------------------------
    @locked
    def accept_block(self, block: Block | None, result: AcceptResult | None = None,
                     sync: bool = True) -> AcceptResult:
        """Validate and store a block (possibly reorganising); then bring the mempool up to date."""
        return accept.accept_block(self, block, result, sync)

    @locked
    def reorg_to(self, tip) -> AcceptResult:
        """Fork choice moved the head to a stored block."""
        return accept.reorg_to(self, tip)

    @locked
    def invalidate_block(self, block: str | int, below_finality: bool = False) -> dict:
        """bitcoind's invalidateblock: set a block and its descendants aside, rewinding the head to its
        parent (txs back to the mempool). Refuses a finalized block unless below_finality (the attack
        playground's override)."""
        return rewind.invalidate_block(self, block, below_finality)

    @locked
    def reconsider_block(self, block: str | int) -> dict:
        """bitcoind's reconsiderblock: clear invalidate_block's marks; fork choice may move the head back."""
        return rewind.reconsider_block(self, block)

    # -- the network (node/p2p): peers, and what the p2p service asks of the node, in wire bytes ------
    def _get_network(self) -> P2PService:
        if self.network is None:
            raise UsageError("no-network", "this node is not on a network: start it with `chaintop node "
                                           "--peer HOST:PORT` or `--listen HOST:PORT` (or use `chaintop "
                                           "devnet up`)")
        return self.network

    def peers(self) -> dict:
        """This node's id and listen address, its peers (head, score, latency), bans with reasons."""
        return self._get_network().peers_view()

    def net_connect(self, peer: str) -> dict:
        """Dial a peer (HOST:PORT) and keep it in the address book; lifts a `net disconnect` of it."""
        return self._get_network().connect(peer)

    def net_disconnect(self, peer: str) -> dict:
        """Say Goodbye to a peer (address or node id) and refuse it until `net connect`."""
        return self._get_network().disconnect(peer)

    def net_partition(self) -> dict:
        """Drop every peer and refuse or dial none until `net_heal` (split this node off the network)."""
        return self._get_network().partition()

    def net_heal(self) -> dict:
        """End `net_partition`: redial the peers it dropped and the address book."""
        return self._get_network().heal()

    @locked
    def chain_summary(self) -> dict:
        return chainview.chain_summary(self)

    @locked
    def blocks_by_range_raw(self, start: int, count: int) -> list[bytes]:
        return chainview.blocks_by_range(self, start, count)

    @locked
    def blocks_by_root_raw(self, roots: list[bytes]) -> list[bytes]:
        return chainview.blocks_by_root(self, roots)

    @locked
    def block_raw(self, block_hash: bytes) -> bytes | None:
        return chainview.block_raw(self, block_hash)

    @locked
    def finality_conflict(self, epoch: int, root: bytes) -> bool:
        return chainview.finality_conflict(self, epoch, root)

    @locked
    def is_known_block(self, block_hash: bytes) -> bool:
        return chainview.is_known_block(self, block_hash)

    @locked
    def pending_txs_raw(self, limit: int) -> list[bytes]:
        return chainview.pending_txs(self, limit)

    @locked
    def pending_tx_raw(self, txid: bytes) -> bytes | None:
        return chainview.pending_tx(self, txid)

    @locked
    def accept_vote(self, attestation) -> bool:
        """A gossiped vote: checked against the head and pooled (False: ignored); InvalidBlock if forged.
        Checking it is a validator duty, so the energy ledger counts it (node/energy.py)."""
        with self.energy_meter.duty():
            return chainview.accept_vote(self, attestation)

    @locked
    def accept_evidence(self, evidence) -> bool:
        """Gossiped slashing evidence: checked and kept for the next block (False: known already); a
        validator duty for the energy ledger, like a vote."""
        with self.energy_meter.duty():
            return chainview.accept_evidence(self, evidence)

    # -- maintenance -----------------------------------------------------------------------
    @locked
    def export_blocks(self, file: str, start: int = 1, end: int | None = None) -> dict:
        """Write main-chain blocks (heights `from` to `to`, default all) to a file on the node's machine."""
        from node.maintenance import export_blocks

        return export_blocks(self, file, start, end)

    @locked
    def import_blocks(self, file: str) -> dict:
        """Validate and connect the blocks in a file written by export."""
        from node.maintenance import import_blocks

        return import_blocks(self, file)

    @locked
    def verify(self) -> dict:
        """Check the store: every record read back with checksums, then every block, index and state record,
        and the supply ledger."""
        from node.dbcheck import verify

        return verify(self)


__all__ = ["Node", "InvalidAddress"]
