"""What the TUI knows live, rolled forward from node events (pure: no Textual, no node calls)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from tui import fmt
from tui.netmodel import NetModel

# Topics a screen can listen for; the app tells the visible screen which ones changed since its last redraw.
HEAD, MEMPOOL, MINING, POS, LOG, ALERT, REORG = "head", "mempool", "mining", "pos", "log", "alert", "reorg"
NET = "net"  # peers, blocks received, forks (the Network screen)


@dataclass(frozen=True, slots=True)
class LogLine:
    seq: int
    at: float  # wall clock seconds, when the TUI saw the event
    kind: str  # the event's type name
    text: str
    level: str = "info"  # info, good, warn, error
    category: str = "chain"  # chain, tx, mining, pos


@dataclass(slots=True)
class PoolTx:
    txid: str
    sender: str
    nonce: int
    fee: int
    fee_rate: float


class LiveModel:
    """Head, mempool, mining and PoS state as the events describe them, plus the event log.

    Every apply_* method is cheap: thousands of events a second must not cost the UI loop a frame.
    """

    def __init__(self, clock: Callable[[], float] = time.time, log_size: int = 2000) -> None:
        self.clock = clock
        self.status: dict = {}
        # newest first: height, hash, timestamp, n_tx, beneficiary
        self.recent: deque[dict] = deque(maxlen=64)
        self.pool: dict[str, PoolTx] = {}
        self.pool_events: deque[LogLine] = deque(maxlen=100)  # replacements, evictions, expiries
        self.mining: dict = {"mode": "?", "workers": 0, "active": False, "traffic": 0.0, "mine_calls": 0}
        self.progress: dict | None = None  # the latest MiningProgress for the block being searched
        self.hash_rates: deque[float] = deque(maxlen=120)
        self.last_block_seen: float | None = None  # wall clock when the TUI saw the last BlockConnected
        self.pos: dict = {}
        self.attestations: dict[int, int] = {}  # slot -> attestations seen (recent slots only)
        self.alerts: deque[LogLine] = deque(maxlen=20)
        self.log: deque[LogLine] = deque(maxlen=log_size)
        self.applied = 0
        self.labels: dict[str, str] = {}  # address -> dev label, so "dev3" reads better than a bech32 string
        self.dirty: set[str] = set()
        self._seq = 0
        self.net = NetModel()

    # -- snapshots loaded at start (and after a reconnect) -----------------------------------
    def load_status(self, status: dict) -> None:
        self.status = dict(status)
        for k in ("epoch", "slot", "justified_epoch", "finalized_epoch"):
            if status.get(k) is not None:
                self.pos[k] = status[k]
        self.dirty.add(HEAD)

    def load_recent(self, blocks: list[dict]) -> None:
        known = {b["height"] for b in self.recent}
        for b in sorted(blocks, key=lambda b: b["height"], reverse=True):
            if b["height"] not in known:
                self.recent.append({"height": b["height"], "hash": b["hash"], "timestamp": b["timestamp"],
                                    "n_tx": b.get("n_tx", len(b.get("txs", []))),
                                    "beneficiary": b.get("beneficiary", ""), "bits": b.get("bits", "")})
        self.recent = deque(sorted(self.recent, key=lambda b: b["height"], reverse=True),
                            maxlen=self.recent.maxlen)
        self.dirty.add(HEAD)

    def load_pool(self, entries: list[dict]) -> None:
        for e in entries:
            self.pool.setdefault(e["txid"], PoolTx(e["txid"], e["from"], e["nonce"], e["fee"], e["fee_rate"]))
        self.dirty.add(MEMPOOL)

    def load_mining(self, state: dict) -> None:
        self.mining.update(state)
        self.dirty.add(MINING)

    def load_pos(self, finality: dict) -> None:
        self.pos.update(finality)
        self.dirty.add(POS)

    # -- events ----------------------------------------------------------------------------
    def apply(self, event) -> None:
        self.applied += 1
        on_net = getattr(self.net, _NET_HANDLERS.get(type(event).__name__, ""), None)
        if on_net is not None:
            on_net(event)
            self.dirty.add(NET)
        handler = getattr(self, "_on_" + type(event).__name__, None)
        if handler is None:
            self._log(type(event).__name__, _generic_text(event), category="chain")
            return
        handler(event)

    def _log(self, kind: str, text: str, level: str = "info", category: str = "chain") -> LogLine:
        self._seq += 1
        line = LogLine(self._seq, self.clock(), kind, text, level, category)
        self.log.append(line)
        self.dirty.add(LOG)
        if level == "error":
            self.alerts.append(line)
            self.dirty.add(ALERT)
        return line

    def _on_BlockConnected(self, e) -> None:
        self.recent.appendleft({"height": e.height, "hash": e.hash, "timestamp": e.timestamp,
                                "n_tx": len(e.txs), "beneficiary": e.beneficiary, "bits": e.bits})
        while self.recent and self.recent[-1]["height"] > e.height:  # after a reorg the old tip is gone
            self.recent.pop()
        s = self.status
        if e.height >= s.get("height", -1) or s.get("head") == e.parent:
            s.update(height=e.height, head=e.hash, head_time=e.timestamp)
            if e.bits:
                s["bits"] = e.bits
        for txid in e.txs:
            self.pool.pop(txid, None)
        self.last_block_seen = self.clock()
        if self.progress is not None and self.progress.get("height", 0) <= e.height:
            self.progress = None
        self.dirty.update((HEAD, MEMPOOL))
        self._log("BlockConnected", f"block {e.height} {fmt.short(e.hash, 16)} connected, {len(e.txs)} tx",
                  "good", "chain")

    def _on_Reorg(self, e) -> None:
        # Drop ticker entries above the fork; BlockConnected events for the new branch follow.
        self._log("Reorg", f"REORG depth {e.depth}: {fmt.short(e.old_head)} -> {fmt.short(e.new_head)}, "
                           f"{len(e.returned_txs)} tx back to the mempool", "error", "chain")
        self.dirty.update((HEAD, REORG))

    def _on_TxAdded(self, e) -> None:
        self.pool[e.txid] = PoolTx(e.txid, e.sender, e.nonce, e.fee, e.fee_rate)
        self.dirty.add(MEMPOOL)
        text = f"tx {fmt.short(e.txid, 16)} from {self.name(e.sender)} nonce {e.nonce} fee rate {e.fee_rate}"
        if e.replaced:
            text += f" (replaces {fmt.short(e.replaced)})"
        self._log("TxAdded", text, "info", "tx")

    def _on_TxRemoved(self, e) -> None:
        self.pool.pop(e.txid, None)
        self.dirty.add(MEMPOOL)
        level = "info" if e.reason == "included" else "warn"
        line = self._log("TxRemoved", f"tx {fmt.short(e.txid, 16)} left the mempool: {e.reason}", level, "tx")
        if e.reason != "included":
            self.pool_events.appendleft(line)

    def _on_MiningProgress(self, e) -> None:
        if e.height <= self.status.get("height", -1):
            return  # a stale report for a block already found
        self.progress = {"height": e.height, "hashes": e.hashes, "hash_rate": e.hash_rate,
                         "best_hash": e.best_hash, "target": e.target, "expected_hashes": e.expected_hashes,
                         "eta": e.eta, "workers": e.workers, "at": self.clock(),
                         "worker_rates": list(getattr(e, "worker_rates", ()))}
        self.hash_rates.append(e.hash_rate)
        self.dirty.add(MINING)

    def _on_MiningFailed(self, e) -> None:
        self.mining["error"] = {"reason": e.reason, "message": e.message, "retry_in": e.retry_in}
        self.progress = None
        self.dirty.add(MINING)
        self._log("MiningFailed", f"the miner failed ({e.reason}): {e.message}; retrying in {e.retry_in:g} s",
                  "error", "mining")

    def _on_StorageFailed(self, e) -> None:
        self.mining["error"] = {"reason": e.reason, "message": e.message, "retry_in": None}
        self.dirty.add(MINING)
        self._log("StorageFailed", f"the node stopped writing ({e.reason}): {e.message}", "error", "chain")

    def _on_StorageRecovered(self, e) -> None:
        self.mining.pop("error", None)
        self.dirty.add(MINING)
        self._log("StorageRecovered", f"there is room on the disk again ({e.free_bytes / 2**20:.1f} MiB "
                  "free): blocks and transactions are accepted again", "good", "chain")

    def _on_WorkerFailed(self, e) -> None:
        self._log("WorkerFailed", f"the {e.worker} thread failed ({e.reason}): {e.message}; it goes on in "
                  f"{e.retry_in:g} s", "error", "chain")

    def _on_BlockMined(self, e) -> None:
        self.mining.pop("error", None)
        if e.seconds > 0:
            self.hash_rates.append(e.hashes / e.seconds)
        self.dirty.add(MINING)
        self._log("BlockMined", f"mined block {e.height} after {e.hashes:,} hashes in {e.seconds:.2f} s",
                  "good", "mining")

    def _on_MiningStateChanged(self, e) -> None:
        # Settings changed anywhere (this TUI, the CLI over RPC) arrive here: the screens follow them.
        before = dict(self.mining)
        traffic = getattr(e, "traffic", before.get("traffic", 0.0))
        self.mining.update(mode=e.mode, workers=e.workers, active=e.active, traffic=traffic,
                           mine_calls=getattr(e, "mine_calls", 0))
        if not e.active:
            self.progress = None
        self.dirty.add(MINING)
        if e.mode != before.get("mode"):
            self._log("MiningStateChanged", f"mining mode is now {e.mode}", "info", "mining")
        if e.workers != before.get("workers") and before.get("mode") != "?":
            self._log("MiningStateChanged", f"mining workers: {e.workers}", "info", "mining")
        if traffic != before.get("traffic", 0.0):
            self._log("MiningStateChanged", f"traffic: {traffic:g} transfers a second"
                      if traffic else "traffic is off", "info", "mining")

    # -- proof of stake ----------------------------------------------------------------------
    def _on_SlotStarted(self, e) -> None:
        self.pos.update(slot=e.slot, epoch=e.epoch, proposer=e.proposer, current_slot=e.slot,
                        current_epoch=e.epoch)
        for old in [s for s in self.attestations if s < e.slot - 64]:
            del self.attestations[old]
        self.dirty.add(POS)
        self._log("SlotStarted", f"slot {e.slot} (epoch {e.epoch}) proposer "
                                 f"{'#' + str(e.proposer) if e.proposer is not None else 'none'}",
                  "info", "pos")

    def _on_AttestationSeen(self, e) -> None:
        # Not logged one by one: a committee's votes arrive together. Counted per slot instead.
        self.attestations[e.slot] = self.attestations.get(e.slot, 0) + 1
        self.dirty.add(POS)

    def _on_CheckpointJustified(self, e) -> None:
        self.pos.update(justified_epoch=e.epoch, justified_root=e.root)
        self.dirty.add(POS)
        self._log("CheckpointJustified", f"epoch {e.epoch} justified ({fmt.short(e.root)})", "good", "pos")

    def _on_CheckpointFinalized(self, e) -> None:
        self.pos.update(finalized_epoch=e.epoch, finalized_root=e.root, leaking=False)
        self.dirty.add(POS)
        self._log("CheckpointFinalized", f"epoch {e.epoch} FINALIZED ({fmt.short(e.root)})", "good", "pos")

    def _on_ValidatorActivated(self, e) -> None:
        self.dirty.add(POS)
        self._log("ValidatorActivated", f"validator #{e.index} active from epoch {e.epoch}", "good", "pos")

    def _on_ValidatorStaked(self, e) -> None:
        self.dirty.add(POS)
        self._log("ValidatorStaked", f"validator #{e.index} staked with {fmt.coins(e.amount)} coins; it "
                                     "waits in the activation queue", "good", "pos")

    def _on_StakeWithdrawn(self, e) -> None:
        self.dirty.add(POS)
        self._log("StakeWithdrawn", f"validator #{e.index}'s lock-up is over: {fmt.coins(e.amount)} coins "
                                    "went back to the account that staked it", "good", "pos")

    def _on_ValidatorExited(self, e) -> None:
        self.dirty.add(POS)
        self._log("ValidatorExited", f"validator #{e.index} exited at epoch {e.epoch}", "warn", "pos")

    def _on_ValidatorSlashed(self, e) -> None:
        self.dirty.add(POS)
        who = f", whistleblower #{e.whistleblower}" if e.whistleblower is not None else ""
        self._log("ValidatorSlashed", f"SLASHED validator #{e.index} for {e.reason}: penalty "
                                      f"{fmt.coins(e.penalty)} coins{who}", "error", "pos")

    def _on_InactivityLeak(self, e) -> None:
        self.pos.update(leaking=True, finality_delay=e.finality_delay)
        self.dirty.add(POS)
        self._log("InactivityLeak", f"INACTIVITY LEAK at epoch {e.epoch}: no finality for "
                                    f"{e.finality_delay} epochs; offline validators are bleeding stake",
                  "error", "pos")

    # -- the network (node/p2p); issue 13's Network screen builds on these ----------------------
    def _on_PeerJoined(self, e) -> None:
        self._log("PeerJoined", f"peer {e.address} joined ({e.direction}, node {e.node_id[:12]}…, at height "
                                f"{e.head_height})", "good", "net")

    def _on_PeerLeft(self, e) -> None:
        self._log("PeerLeft", f"peer {e.address} left: {e.reason}", "warn", "net")

    def _on_PeerBanned(self, e) -> None:
        self._log("PeerBanned", f"BANNED peer {e.address} for {e.seconds:.0f} s: {e.reason}", "error", "net")

    def _on_BlockReceived(self, e) -> None:
        self._log("BlockReceived", f"block {e.height} {fmt.short(e.hash)} from {e.peer}, {e.delay_ms:.1f} ms "
                                   f"after it was published: {e.status}", "info", "net")

    def name(self, address: str | None) -> str:
        """A dev label if the address has one, else the shortened address."""
        if not address:
            return "-"
        return self.labels.get(address) or fmt.short_addr(address)

    # -- derived views ---------------------------------------------------------------------
    def take_dirty(self) -> set[str]:
        out, self.dirty = self.dirty, set()
        return out

    def fee_rates(self) -> list[float]:
        return [t.fee_rate for t in self.pool.values()]

    def pool_by_fee_rate(self, limit: int = 500) -> list[PoolTx]:
        """Highest fee rate first, but a sender's transactions in nonce order (as a block takes them): each
        sender keeps its rows' places and fills them with its nonces ascending."""
        import heapq

        best = heapq.nlargest(limit, self.pool.values(), key=lambda t: (t.fee_rate, -t.nonce))
        slots: dict[str, list[int]] = {}
        for i, t in enumerate(best):
            slots.setdefault(t.sender, []).append(i)
        for places in slots.values():
            if len(places) > 1:
                for i, t in zip(places, sorted((best[i] for i in places), key=lambda t: t.nonce),
                                strict=True):
                    best[i] = t
        return best


_NET_HANDLERS = {"BlockConnected": "on_block_connected", "BlockMined": "on_block_mined",
                 "BlockReceived": "on_block_received", "Reorg": "on_reorg"}


def _generic_text(event) -> str:
    try:
        d = event.to_dict()
        d.pop("event", None)
    except Exception:  # noqa: BLE001 — an event type this TUI does not know yet
        d = {}
    return type(event).__name__ + " " + " ".join(f"{k}={v}" for k, v in d.items())
