"""The energy ledger: CPU seconds the operating system counted for the nonce search (PoW) and for validator
duties (PoS: proposing, signing and verifying votes), gathered between blocks and recorded with the block
that ends them, in the same batch; joules from a stated watts-per-busy-core model.

Measured, not guessed: the miner's worker processes report their own process CPU time (time.process_time,
the kernel's count) with every chunk of hashes (node/miner.py); validator duties are timed with the calling
thread's CPU clock (time.thread_time), and vote signatures checked on the signature pool's threads report
theirs (node/sigcheck.py). Wall time is never used: an idle core costs nothing here.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

from chain.abc import BlockIndex, ChainBatch
from chain.codec import decode_u64_fields, encode_u64_fields
from chain.errors import UsageError
from node import sigcheck

if TYPE_CHECKING:
    from node.miner import Miner

DEFAULT_WATTS_PER_CORE = 15.0  # a desktop CPU's package power under load shared over its cores (65 W / 4)
WATTS_ENV = "CHAINTOP_WATTS_PER_CORE"
RECORD_VERSION = 1
_US = 1_000_000  # records keep microseconds, as integers


def get_watts_per_core(watts: float | None = None) -> float:
    """The model's one assumption: what a core draws while busy (--watts, else $CHAINTOP_WATTS_PER_CORE, else
    the default). An idle core is counted as drawing nothing."""
    if watts is None:
        raw = os.environ.get(WATTS_ENV)
        if raw is None:
            return DEFAULT_WATTS_PER_CORE
        try:
            watts = float(raw)
        except ValueError:
            raise UsageError("bad-watts", f"{WATTS_ENV}={raw!r} is not a number of watts") from None
    if not 0 < watts <= 10_000:  # also refuses NaN
        raise UsageError("bad-watts", "watts per busy core must be more than 0 and at most 10000")
    return float(watts)


@dataclass(frozen=True, slots=True)
class EnergyRecord:
    """What this node spent while the chain moved to one block (microseconds of CPU), and the running totals
    along the chain to it, split by which engine made each block (PoW blocks and PoS blocks)."""

    height: int
    measured: int  # 1: this node was running while the block came (0: connected in a reorg, not timed)
    is_pos: int  # 1: a stake-chosen proposer made the block; 0: proof of work
    n_tx: int
    pow_us: int  # the nonce search
    pos_us: int  # validator duties
    pow_blocks: int = 0  # the totals, from the first block this node recorded to this one
    pow_txs: int = 0
    pow_blocks_pow_us: int = 0  # nonce search behind PoW blocks
    pow_blocks_pos_us: int = 0  # committees voting on PoW blocks (hybrid, merge before its height)
    pos_blocks: int = 0
    pos_txs: int = 0
    pos_blocks_us: int = 0  # everything behind PoS blocks (their validators' duties)
    since: int = 0  # the first height in the totals

    def encode(self) -> bytes:
        return encode_u64_fields(RECORD_VERSION, (getattr(self, f.name) for f in fields(self)))

    @classmethod
    def decode(cls, data: bytes) -> EnergyRecord:
        return cls(*decode_u64_fields(data, RECORD_VERSION, len(fields(cls)), "energy"))


def format_joules(value: float | None) -> str:
    """2.3e-4 -> '230 µJ', 1500 -> '1.5 kJ'."""
    if value is None:
        return "-"
    for unit, size in (("MJ", 1e6), ("kJ", 1e3), ("J", 1.0), ("mJ", 1e-3)):
        if abs(value) >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value * 1e6:.3g} µJ"


def compute_energy_record(parent: EnergyRecord | None, idx: BlockIndex, pow_s: float, pos_s: float,
                          measured: bool) -> EnergyRecord:
    """One block's record: its own figures plus its parent's totals (no parent record: the totals start)."""
    pow_us, pos_us = round(pow_s * _US), round(pos_s * _US)
    base = parent or EnergyRecord(idx.height, 0, 0, 0, 0, 0, since=idx.height)
    own = dict(height=idx.height, measured=int(measured), is_pos=int(idx.header.is_pos), n_tx=idx.n_tx,
               pow_us=pow_us, pos_us=pos_us)
    if idx.header.is_pos:
        return replace(base, **own, pos_blocks=base.pos_blocks + 1, pos_txs=base.pos_txs + idx.n_tx,
                       pos_blocks_us=base.pos_blocks_us + pow_us + pos_us)
    return replace(base, **own, pow_blocks=base.pow_blocks + 1, pow_txs=base.pow_txs + idx.n_tx,
                   pow_blocks_pow_us=base.pow_blocks_pow_us + pow_us,
                   pow_blocks_pos_us=base.pow_blocks_pos_us + pos_us)


class EnergyMeter:
    """CPU seconds spent since the last block, by kind; the chain state's batch hook writes them into the
    record of the block that connects and starts counting again."""

    def __init__(self, get_energy: Callable[[bytes], bytes | None]) -> None:
        self._get_energy = get_energy
        self._last: tuple[bytes, bytes, EnergyRecord] | None = None  # written last (hash, bytes, record)
        self._lock = threading.Lock()
        self._local = threading.local()  # duty nesting on this thread: an inner duty is already timed
        self.pow_pending = 0.0
        self.pos_pending = 0.0

    def add_pow(self, seconds: float) -> None:
        with self._lock:
            self.pow_pending += seconds

    def take_miner_cpu(self, miner: Miner) -> None:
        """What the miner's workers reported since the last take (node/miner.py counts it)."""
        self.add_pow(miner.take_cpu())

    @contextlib.contextmanager
    def duty(self) -> Iterator[None]:
        """Time a validator duty on this thread's CPU clock, plus the vote signatures the signature pool
        checked for it meanwhile (an outer duty already counts an inner one)."""
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        start, pool_start = (time.thread_time(), sigcheck.pool_cpu_seconds()) if depth == 0 else (0.0, 0.0)
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                spent = time.thread_time() - start + sigcheck.pool_cpu_seconds() - pool_start
                with self._lock:
                    self.pos_pending += spent

    def metered_votes(self, verify: Callable[[Sequence], list[bool]]) -> Callable[[Sequence], list[bool]]:
        """The vote-signature check of block processing, timed as a validator duty."""
        def verify_votes(items: Sequence) -> list[bool]:
            with self.duty():
                return verify(items)

        return verify_votes

    def record(self, batch: ChainBatch, connected: list[BlockIndex]) -> None:
        """The chain state's batch hook: every connected block gets a record; the tip, what was spent since
        the last one (earlier blocks of a reorg were made elsewhere, and are marked unmeasured)."""
        if not connected:
            return
        with self._lock:
            pow_s, pos_s = self.pow_pending, self.pos_pending
            self.pow_pending = self.pos_pending = 0.0
        parent_raw = self._get_energy(connected[0].parent)
        last = self._last  # most often the parent: no decode while the stored bytes are the same
        if last is not None and last[0] == connected[0].parent and last[1] == parent_raw:
            parent = last[2]
        else:
            parent = EnergyRecord.decode(parent_raw) if parent_raw is not None else None
        for i, idx in enumerate(connected):
            tip = i == len(connected) - 1
            rec = compute_energy_record(parent, idx, pow_s if tip else 0.0, pos_s if tip else 0.0, tip)
            batch.energy[idx.hash] = rec.encode()
            parent = rec
        self._last = (connected[-1].hash, batch.energy[connected[-1].hash], parent)
