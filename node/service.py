"""The running node: mining modes (continuous, auto, interval, manual, off) and the traffic generator, on
threads."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from chain.consensus import schedule
from chain.errors import ChaintopError, UsageError
from chain.params import COIN
from node import events as ev
from node.node import Node

# continuous: always searching, as real miners do (the retarget sets the pace); the others are for scripting
MINING_MODES = ("continuous", "auto", "interval", "manual", "off")
MAX_WORKERS = 64


# One rule for each setting, wherever it is given (`node`, `tui`, `mining`, RPC), checked before anything
# changes: a command that sets several refuses them all if one is wrong.
def check_mining_mode(mode: str) -> str:
    if mode not in MINING_MODES:
        raise UsageError("bad-mining-mode",
                         f"mining mode {mode!r}; choose one of: {', '.join(MINING_MODES)}")
    return mode


def check_workers(workers: int) -> int:
    if not 1 <= workers <= MAX_WORKERS:
        raise UsageError("bad-workers", f"workers must be between 1 and {MAX_WORKERS}")
    return workers


def check_traffic_rate(rate: float) -> float:
    if not 0 <= rate <= 10_000:  # also refuses NaN, which compares false both ways
        raise UsageError("bad-traffic-rate",
                         "traffic rate must be between 0 and 10000 transactions per second")
    return float(rate)


MIN_BLOCK_TIME, MAX_BLOCK_TIME = 0.1, 86_400.0


def check_block_time(seconds: float) -> float:
    if not MIN_BLOCK_TIME <= seconds <= MAX_BLOCK_TIME:  # also refuses NaN
        raise UsageError("bad-block-time",
                         f"the block time is {MIN_BLOCK_TIME:g} to {MAX_BLOCK_TIME:g} seconds")
    return float(seconds)


class NodeService:
    """Owns the background threads around a Node. Mode changes take effect at once (searches stop)."""

    def __init__(self, node: Node, mining: str = "manual", traffic: float = 0.0,
                 beneficiary: str | None = None, on_stop: Callable[[], None] | None = None,
                 block_time: float | None = None) -> None:
        check_mining_mode(mining)
        check_traffic_rate(traffic)
        self.node = node
        self.mode = mining
        self.traffic_rate = 0.0
        # interval mode's seconds between blocks, as anvil's --block-time (None: the chain's target spacing)
        self.block_time: float | None = None
        if block_time is not None:
            self._check_block_time_here()
            self.block_time = check_block_time(block_time)
        self.beneficiary = node.resolve_address(beneficiary) if beneficiary else node.resolve_address("dev0")
        self._wake = threading.Event()  # an Event, not a Condition: event listeners run under the node lock
        self._stopping = threading.Event()
        self._generation = 0  # bumped on every mode change so a running search stops
        self._resizing = 0  # set_workers is replacing the pool: the mode starts no search meanwhile
        self._last_block = time.monotonic()
        self._round: float | None = None  # on a network: this round's drawn wait (see round_interval)
        self._mining_active = False  # the mode's own search
        self._mine_calls = 0  # `mine` calls searching now (RPC, the TUI): a search as much as the mode's
        self._calls_lock = threading.Lock()
        self._mine_cancels = 0  # bumped by `mining off`: every `mine` call running then ends
        self.mining_error: dict | None = None  # the last search failure, until a search succeeds again
        self._threads: list[threading.Thread] = []
        self._traffic_thread: threading.Thread | None = None
        self._unsubscribe = node.events.subscribe(self._on_event)
        self._on_stop = on_stop  # how the owner (RunningNode) shuts down when asked over RPC
        self.set_traffic(traffic)
        node.service = self  # so the node itself answers mining_state, set_mining, ... (NodeAPI)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> NodeService:
        t = threading.Thread(target=self._mining_loop, name="miner", daemon=True)
        t.start()
        self._threads.append(t)
        # a store that stopped writing (a full disk) is told and watched until there is room again
        t = threading.Thread(target=self.node.health.watch, args=(self._stopping,), name="storage",
                             daemon=True)
        t.start()
        self._threads.append(t)
        if self.node.validator is not None:
            t = threading.Thread(target=self._slot_loop, name="slots", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _slot_loop(self) -> None:
        """Proof of stake: at each slot's start, run the local validators' duties (propose, then vote)."""
        chain = self.node.chain
        while not self._stopping.is_set():
            if not schedule.is_pos_height(self.node.params, chain.head.height + 1):
                self._stopping.wait(0.2)  # still proof of work (hybrid, or merge before the merge height)
                continue
            slot = chain.current_slot()
            with self.node.health.guard("slots", self._stopping):  # e.g. no active validator: the next slot
                self.node.on_slot(slot)
            wait = chain.slot_start_time(slot + 1) - self.node.clock()
            self._stopping.wait(max(0.01, min(wait, self.node.params.slot_time)))

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        for t in self._threads + ([self._traffic_thread] if self._traffic_thread else []):
            t.join(timeout=5)
        self._unsubscribe()
        if self.node.service is self:
            self.node.service = None

    def stop_node(self) -> dict:
        """RPC `stop`: answer first, then let the owner shut down on its own thread."""
        if self._on_stop is None:
            raise UsageError("no-daemon",
                             "this node runs inside another program; close that program to stop it")
        threading.Timer(0.05, self._on_stop).start()
        return {"stopping": True}

    # -- mining ----------------------------------------------------------------------------
    def mining_state(self) -> dict:
        return {"mode": self.mode, "workers": self._workers(), "active": self._searching(),
                "traffic": self.traffic_rate, "mine_calls": self._mine_calls,
                "error": self.mining_error or self._write_error(),
                "block_time": self.interval()}

    def _write_error(self) -> dict | None:
        """A store that stopped writing stops the mining too: said as mining's error while it lasts."""
        err = self.node.store.get_write_error()
        return None if err is None else {"reason": err.code, "message": err.message, "at": None,
                                         "retry_in": None}

    def interval(self) -> float:
        """Seconds between blocks in interval mode: the live block time, else the chain's target spacing."""
        return self.block_time if self.block_time is not None else float(self.node.params.target_spacing)

    def _check_block_time_here(self) -> None:
        if self.node.params.consensus == "pos":
            raise UsageError("not-for-network", "a proof-of-stake chain makes a block per slot: its block "
                                                "time is the slot time, chosen at init (--slot-time)")

    def set_block_time(self, seconds: float) -> dict:
        """Interval mode mines a block every `seconds` (the retarget still aims at the chain's spacing)."""
        self._check_block_time_here()
        self.block_time = check_block_time(seconds)
        self._wake.set()  # a shorter interval may be due already
        self._emit_state()
        return self.mining_state()

    def _workers(self) -> int:
        return self.node._miner.workers if self.node._miner else (self.node._workers or _cpus())

    def _searching(self) -> bool:
        return self._mining_active or self._mine_calls > 0

    def _emit_state(self) -> None:
        """Every setting change and every search start or end is an event: a TUI follows what the CLI
        changes over RPC."""
        self.node.events.emit(ev.MiningStateChanged(self.mode, self._workers(), self._searching(),
                                                    self.traffic_rate, self._mine_calls, self.interval()))

    @contextmanager
    def mine_call(self) -> Iterator[Callable[[], str | None]]:
        """Around a `mine` call (Node.mine): the search it runs shows as active while it lasts. Yields the
        call's cancel check: why it must end now (`mining off` since it began, the node stopping) or None."""
        with self._calls_lock:
            self._mine_calls += 1
            cancels = self._mine_cancels
        self._emit_state()

        def cancelled() -> str | None:
            if self._stopping.is_set():
                return "node-stopping"
            return "mining-off" if self._mine_cancels != cancels else None

        try:
            yield cancelled
        finally:
            with self._calls_lock:
                self._mine_calls -= 1
            self._emit_state()

    def set_mining(self, mode: str) -> dict:
        check_mining_mode(mode)
        self.mode = mode
        self._generation += 1
        if mode == "off":
            with self._calls_lock:
                self._mine_cancels += 1  # off means no search at all: running `mine` calls end too
        self._wake.set()
        self._emit_state()
        return self.mining_state()

    def round_interval(self) -> float:
        """Seconds this round of interval mining waits. Alone: the block time. On a network: drawn afresh
        after every new head, from an exponential distribution with the block time as its mean, because
        finding a proof of work is memoryless; so N miners with one block time each do not all fire at once,
        and two finding blocks within the propagation delay of each other fork, as real miners do."""
        if self.node.network is None:
            return self.interval()
        if self._round is None:
            self._round = random.expovariate(1.0 / self.interval())
        return self._round

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.StorageRecovered) and self.mining_error is not None:
            self.mining_error = None  # the disk-full the last search met is over
            self._wake.set()
        if isinstance(event, ev.StorageFailed | ev.StorageRecovered):
            self._emit_state()  # mining_get's error follows the store
        if isinstance(event, ev.BlockConnected) and self.node.network is not None:
            self._last_block, self._round = time.monotonic(), None  # a peer's block starts a new round too
        if isinstance(event, ev.TxAdded | ev.BlockConnected):
            self._wake.set()

    def _should_mine(self) -> bool:
        if self.node.store.write_error is not None:
            return False  # a full disk: nothing is produced until there is room (health.watch reopens)
        if self._resizing:
            return False
        if schedule.is_pos_height(self.node.params, self.node.chain.head.height + 1):
            return False  # validators propose from here on
        if self.mode == "auto":
            with self.node.lock:  # the mode again once the lock is ours: `mining off` may have come meanwhile
                return self.mode == "auto" and any(True for _ in self.node.mempool.iter_by_fee_rate())
        if self.mode == "interval":
            return time.monotonic() - self._last_block >= self.round_interval()
        return self.mode == "continuous"

    def _mining_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            while not self._stopping.is_set() and not self._should_mine():
                # Inactive only once there is nothing to search for: back-to-back blocks (auto mining a busy
                # pool) are one search, not two state events per block for every screen to redraw.
                self._set_active(False)
                timeout = 1.0
                if self.mode == "interval":
                    since = time.monotonic() - self._last_block
                    timeout = max(0.05, self.round_interval() - since)
                self._wake.wait(timeout)
                self._wake.clear()
            generation = self._generation
            if self._stopping.is_set():
                self._set_active(False)
                return
            self._set_active(True)
            try:
                result = self.node.mine_block(
                    self.beneficiary,
                    should_stop=lambda g=generation: self._stopping.is_set() or self._generation != g,
                )
                if result is not None:
                    self._last_block = time.monotonic()
                failures = 0
                if self.mining_error is not None:
                    self.mining_error = None
                    self._emit_state()
            except Exception as e:  # noqa: BLE001 — the loop must outlive any failure, and say what it was
                failures += 1
                retry_in = min(30.0, 0.5 * 2 ** min(failures - 1, 6))
                code = e.code if isinstance(e, ChaintopError) else "miner-failed"
                message = e.message if isinstance(e, ChaintopError) else f"{type(e).__name__}: {e}"
                self.mining_error = {"reason": code, "message": message, "at": time.time(),
                                     "retry_in": retry_in}
                self.node.events.emit(ev.MiningFailed(code, message, retry_in))
                self._set_active(False)
                self._stopping.wait(retry_in)
        self._set_active(False)

    def _set_active(self, active: bool) -> None:
        if active != self._mining_active:
            self._mining_active = active
            self._emit_state()

    def set_workers(self, workers: int) -> dict:
        """Change the number of mining worker processes (the next search starts with the new pool)."""
        check_workers(workers)
        # Live: the mode's running search (continuous mining always has one) ends now rather than at its
        # block, and no new one takes the mining lock until the pool is replaced.
        self._resizing += 1
        self._generation += 1
        try:
            with self.node.mining_lock:
                if self.node._miner is not None:
                    self.node.energy_meter.take_miner_cpu(self.node._miner)  # the old pool's spending
                    self.node._miner.close()
                    self.node._miner = None
                self.node._workers = workers
        finally:
            self._resizing -= 1
            self._wake.set()
        self._emit_state()
        return self.mining_state()

    # -- traffic ---------------------------------------------------------------------------
    def set_traffic(self, rate: float) -> dict:
        check_traffic_rate(rate)
        changed = float(rate) != self.traffic_rate
        self.traffic_rate = float(rate)
        if changed:
            self._emit_state()
        if rate > 0 and (self._traffic_thread is None or not self._traffic_thread.is_alive()):
            self._traffic_thread = threading.Thread(target=self._traffic_loop, name="traffic", daemon=True)
            self._traffic_thread.start()
        return self.mining_state()

    def _traffic_loop(self) -> None:
        """Signed transfers among dev accounts at the chosen rate, fees spread over 1x..5x the minimum."""
        rng = random.Random()
        n = self.node.params.dev_accounts
        next_at = time.monotonic()
        while not self._stopping.is_set() and self.traffic_rate > 0:
            now = time.monotonic()
            if now < next_at:
                self._stopping.wait(min(0.2, next_at - now))
                continue
            next_at = max(next_at + 1.0 / self.traffic_rate, now - 1.0)
            a, b = rng.sample(range(n), 2)
            fee = self.node.params.min_fee * rng.randint(1, 5) + rng.randint(0, 999)
            if self.node.store.write_error is not None:
                continue  # a full disk: nothing is accepted until there is room
            with self.node.health.guard("traffic", self._stopping):  # a full pool, a lane at its gap limit
                self.node.send(f"dev{a}", f"dev{b}", rng.randint(1, 100) * COIN // 100, fee)


def default_mining_mode(params) -> str:
    """What `chaintop tui` runs when no --mining is given: continuous on a chain whose difficulty follows the
    hash rate (the retarget climbs to real work), interval on regtest (no retarget: blocks would be instant
    and endless) and on proof of stake (slots make the blocks; mining only matters before a merge)."""
    return "interval" if params.pow_no_retarget or params.consensus == "pos" else "continuous"


def _cpus() -> int:
    import os

    return os.cpu_count() or 1
