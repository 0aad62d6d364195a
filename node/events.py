"""Past-tense node events and the bus that delivers them; the node never touches a widget or socket."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Event:
    """Base: every event serialises to a JSON object with its type name under "event"."""

    def to_dict(self) -> dict:
        return {"event": type(self).__name__, **asdict(self)}

    coalesce = False  # a newer event of the same type may replace an undelivered older one


@dataclass(frozen=True)
class BlockConnected(Event):
    height: int
    hash: str
    parent: str
    timestamp: int
    txs: list[str] = field(default_factory=list)
    beneficiary: str = ""
    bits: str = ""
    proposer: int | None = None  # a PoS block's proposer (validator index); None on a PoW block


@dataclass(frozen=True)
class Reorg(Event):
    old_head: str
    new_head: str
    depth: int
    returned_txs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TxAdded(Event):
    txid: str
    sender: str
    nonce: int
    fee: int
    fee_rate: float
    replaced: str | None = None


@dataclass(frozen=True)
class TxRemoved(Event):
    txid: str
    reason: str  # included, replaced, evicted, expired, invalid:<code>


@dataclass(frozen=True)
class MiningProgress(Event):
    height: int
    hashes: int
    hash_rate: float
    best_hash: str
    target: str
    expected_hashes: float
    eta: float
    workers: int
    worker_rates: tuple[float, ...] = ()  # hashes/s of each worker process in this search
    coalesce = True


@dataclass(frozen=True)
class BlockMined(Event):
    height: int
    hash: str
    hashes: int
    seconds: float


@dataclass(frozen=True)
class MiningStateChanged(Event):
    """Any mining setting changed (mode, workers, traffic) or a search started or ended. `active` is true
    while any search runs: the mode's own, or a `mine` call (the CLI over RPC, the TUI's Space), which
    `mine_calls` counts."""

    mode: str
    workers: int
    active: bool
    traffic: float = 0.0  # transfers a second from the traffic generator
    mine_calls: int = 0
    block_time: float = 0.0  # interval mode's seconds between blocks


@dataclass(frozen=True)
class ClockMoved(Event):
    """`time increase` or `time set` moved the chain's clock `by` seconds: it reads `time` now, `shift`
    seconds ahead of the wall clock's course in all (node/timectl.py)."""

    time: float
    shift: float
    by: float


Listener = Callable[[Event], None]


class EventBus:
    """Synchronous fan-out to listeners; a listener that raises is dropped, not allowed to stop the node."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    @property
    def has_listeners(self) -> bool:
        return bool(self._listeners)

    def emit(self, event: Event) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 — a broken subscriber must not break block processing
                with self._lock:
                    if listener in self._listeners:
                        self._listeners.remove(listener)


# -- proof of stake -------------------------------------------------------------------------
@dataclass(frozen=True)
class SlotStarted(Event):
    slot: int
    epoch: int
    proposer: int | None


@dataclass(frozen=True)
class AttestationSeen(Event):
    slot: int
    validator_index: int
    head: str
    source_epoch: int
    target_epoch: int


@dataclass(frozen=True)
class CheckpointJustified(Event):
    epoch: int
    root: str


@dataclass(frozen=True)
class CheckpointFinalized(Event):
    epoch: int
    root: str


@dataclass(frozen=True)
class ValidatorStaked(Event):
    """A stake created validator `index` with `amount` base units; it waits in the activation queue."""

    index: int
    amount: int


@dataclass(frozen=True)
class ValidatorActivated(Event):
    index: int
    epoch: int


@dataclass(frozen=True)
class ValidatorExited(Event):
    index: int
    epoch: int


@dataclass(frozen=True)
class StakeWithdrawn(Event):
    """The lock-up of validator `index` ended: `amount` base units went back to the account that staked it."""

    index: int
    amount: int


@dataclass(frozen=True)
class ValidatorSlashed(Event):
    index: int
    reason: str  # double-proposal, double-vote, surround-vote
    whistleblower: int | None
    penalty: int


@dataclass(frozen=True)
class InactivityLeak(Event):
    epoch: int
    finality_delay: int


@dataclass(frozen=True)
class MiningFailed(Event):
    """The nonce search failed (not the block): the miner says why and retries after `retry_in` seconds."""

    reason: str
    message: str
    retry_in: float


@dataclass(frozen=True)
class StorageFailed(Event):
    """A write failed (reason disk-full, db-io-error): the node stopped producing and accepting; reads go on
    until it resumes (StorageRecovered) when `needed_bytes` are free, or a restart."""

    reason: str
    message: str
    free_bytes: int
    needed_bytes: int


@dataclass(frozen=True)
class StorageRecovered(Event):
    """There is room again and the store reopened cleanly: blocks and transactions are accepted again."""

    free_bytes: int


@dataclass(frozen=True)
class WorkerFailed(Event):
    """A background thread (slots, traffic) met an unexpected error; it goes on after `retry_in` seconds."""

    worker: str
    reason: str
    message: str
    retry_in: float


# -- the network (node/p2p) ------------------------------------------------------------------
@dataclass(frozen=True)
class PeerJoined(Event):
    """A peer finished the Status handshake: it is on our chain (same chain id and genesis)."""

    node_id: str
    address: str
    direction: str  # outbound (we dialled it) or inbound
    head_height: int


@dataclass(frozen=True)
class PeerLeft(Event):
    node_id: str
    address: str
    reason: str  # timeout, goodbye:<reason>, banned, disconnect-requested, shutdown


@dataclass(frozen=True)
class PeerBanned(Event):
    """A peer sent something invalid (a block, too many bad transactions or votes): banned `seconds`."""

    node_id: str
    address: str
    reason: str
    seconds: float


@dataclass(frozen=True)
class BlockReceived(Event):
    """A block arrived by gossip from `peer`, `delay_ms` after its origin published it; `status` is what
    accepting it did (connected, reorg, side) or why it was not (duplicate, ignored:<code>). Who produced it
    comes along (a side block never connects, so no BlockConnected says it)."""

    height: int
    hash: str
    peer: str
    delay_ms: float
    status: str
    beneficiary: str = ""
    proposer: int | None = None  # a PoS block's proposer (validator index); None on a PoW block
