"""Proof-of-work search: a midstate hash loop, run inline for easy targets or in spawned worker processes."""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing as mp
import os
import queue
import struct
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from chain.block import Header
from chain.consensus import pow as pow_rules
from chain.errors import ChaintopError

_NONCE = struct.Struct(">Q")
CHUNK = 20_000  # hashes between progress reports and stop checks (~20-40 ms per worker)
INLINE_BELOW = 50_000  # expected hashes under which spawning workers costs more than it saves
# Workers run at a lower priority: the search takes every idle cycle, the node and the UI still get theirs.
WORKER_NICENESS = 10


def search(prefix: bytes, target: bytes, start: int, stride: int,
           count: int) -> tuple[int | None, int, bytes]:
    """Try `count` nonces from `start` by `stride`. Returns (winning nonce or None, hashes tried, best hash).

    The prefix (header minus its nonce) is absorbed once; each try copies that midstate, so a try costs
    one SHA-256 compression for the tail plus the outer SHA-256.
    """
    mid = hashlib.sha256(prefix)
    sha = hashlib.sha256
    pack = _NONCE.pack
    best = b"\xff" * 32
    nonce = start
    for i in range(count):
        h = mid.copy()
        h.update(pack(nonce))
        d = sha(h.digest()).digest()
        if d < best:
            best = d
            if d <= target:
                return nonce, i + 1, best
        nonce += stride
    return None, count, best


@dataclass
class MiningProgress:
    """A snapshot for progress bars: hashes so far, rate, best hash against the target."""

    height: int
    hashes: int
    elapsed: float
    best_hash: bytes
    target: int
    workers: int
    worker_rates: tuple[float, ...] = ()  # hashes/s of each worker process in this search

    @property
    def hash_rate(self) -> float:
        return self.hashes / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def expected_hashes(self) -> float:
        return 2**256 / (self.target + 1)

    @property
    def eta(self) -> float:
        """Expected seconds to a block at the current rate (memoryless: the same at every moment)."""
        return self.expected_hashes / self.hash_rate if self.hash_rate else float("inf")


ProgressFn = Callable[[MiningProgress], None]
StopFn = Callable[[], bool]


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this worker when its parent dies (a SIGKILLed node cannot clean up after
    itself)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass  # not Linux: the parent check in the loop below still ends the worker within a second


def _worker_main(jobs, results, current_job, parent_pid: int) -> None:
    """Worker process: take a job, search in chunks until found, stopped, or superseded. Each report carries
    this process's CPU seconds so far, as the OS counts them (the energy ledger's PoW figure)."""
    _die_with_parent()
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICENESS)  # all workers busy must not starve the node and the TUI of their share
    pid = os.getpid()
    while True:
        if os.getppid() != parent_pid:
            return  # orphaned: the node is gone
        try:
            job = jobs.get(timeout=1.0)
        except queue.Empty:
            continue
        if job is None:
            return
        job_id, prefix, target, start, stride = job
        nonce = start
        while current_job.value == job_id and os.getppid() == parent_pid:
            found, tried, best = search(prefix, target, nonce, stride, CHUNK)
            results.put((job_id, found, tried, best, pid, time.process_time()))
            if found is not None:
                break
            nonce += stride * CHUNK
            if nonce > 0xFFFF_FFFF_FFFF_FFFF:
                break


class MinerError(ChaintopError):
    """The nonce search itself failed (a worker died, workers could not start): the miner, not the block."""


def _has_fd(stream) -> bool:
    try:
        return stream is not None and stream.fileno() >= 0
    except (OSError, ValueError, AttributeError):
        return False


@contextlib.contextmanager
def _real_stdio() -> Iterator[None]:
    """Spawning passes sys.stderr's file descriptor to multiprocessing's resource tracker. Inside a Textual
    app sys.stdout/sys.stderr are print captures whose fileno() is -1, and the spawn fails with "bad value(s)
    in fds_to_keep"; so for the moment of the spawn, put the interpreter's own streams back."""
    saved = sys.stdout, sys.stderr
    if not _has_fd(sys.stderr) and _has_fd(sys.__stderr__):
        sys.stderr = sys.__stderr__
    if not _has_fd(sys.stdout) and _has_fd(sys.__stdout__):
        sys.stdout = sys.__stdout__
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


class Miner:
    """A pool of spawned worker processes (spawn, not fork: the node may already run threads).

    `inline_below`: targets expected to take fewer hashes than this are searched in the calling thread, since
    starting processes would cost more than the search."""

    def __init__(self, workers: int | None = None, inline_below: float = INLINE_BELOW) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.inline_below = inline_below
        self._ctx = mp.get_context("spawn")
        self._procs: list = []
        self._jobs = None
        self._results = None
        self._current = None
        self._job_id = 0
        # CPU seconds the nonce search has cost since this pool started (workers' process time as the OS
        # counts it, plus the calling thread's for inline searches): what the energy ledger reads
        self.cpu_seconds = 0.0
        self._cpu_taken = 0.0
        self._worker_cpu: dict[int, float] = {}  # worker pid -> its process time at its last report

    def _ensure_started(self) -> None:
        if self._procs:
            return
        try:
            with _real_stdio():  # queues and processes both start multiprocessing's resource tracker
                self._jobs = self._ctx.Queue()
                self._results = self._ctx.Queue()
                self._current = self._ctx.Value("q", 0, lock=False)
                for _ in range(self.workers):
                    p = self._ctx.Process(target=_worker_main,
                                          args=(self._jobs, self._results, self._current, os.getpid()),
                                          daemon=True)
                    p.start()
                    self._procs.append(p)
        except (OSError, ValueError) as e:
            self.close()
            raise MinerError("miner-start-failed",
                             f"could not start the mining worker processes: {e}") from None

    def _check_workers(self) -> None:
        dead = [p for p in self._procs if not p.is_alive()]
        if dead:
            codes = ", ".join(str(p.exitcode) for p in dead)
            self.close()  # the next search starts a fresh pool
            raise MinerError("miner-worker-died", f"{len(dead)} of {self.workers} mining worker(s) died "
                                                  f"(exit code {codes}); the next search starts new ones")

    def close(self) -> None:
        """Stop the workers (one shared deadline, then SIGKILL) and the queues' feeder threads, so nothing
        is left for the interpreter's exit to wait on: a feeder blocked writing to a pipe that no worker
        reads any more would hold the exit forever."""
        if self._current is not None:
            self._current.value = -1
        for p in self._procs:
            if p.is_alive():
                self._jobs.put(None)
        deadline = time.monotonic() + 3.0
        for p in self._procs:
            p.join(timeout=max(0.0, deadline - time.monotonic()))
        for p in self._procs:
            if p.is_alive():
                p.kill()
                p.join(timeout=1.0)
        self._procs.clear()
        for q in (self._jobs, self._results):
            if q is not None:
                q.cancel_join_thread()
                q.close()
        self._jobs = self._results = self._current = None

    def mine(self, header: Header, progress: ProgressFn | None = None, should_stop: StopFn | None = None,
             report_every: float = 0.25) -> Header | None:
        """Search nonces for `header`; returns the sealed header, or None if should_stop() said so."""
        target_int = pow_rules.bits_to_target(header.bits)
        target = pow_rules.target_to_bytes(target_int)
        prefix = header.pow_prefix()
        start_time = time.monotonic()
        if pow_rules.expected_hashes(header.bits) < self.inline_below:
            return self._mine_inline(header, prefix, target, target_int, start_time, progress, should_stop)
        self._ensure_started()
        self._check_workers()
        self._job_id += 1
        job_id = self._job_id
        self._current.value = job_id
        for i in range(self.workers):
            self._jobs.put((job_id, prefix, target, i, self.workers))
        hashes, best, last_report = 0, b"\xff" * 32, 0.0
        per_worker: dict[int, int] = {}
        try:
            while True:
                if should_stop is not None and should_stop():
                    return None
                try:
                    rid, found, tried, wbest, pid, cpu = self._results.get(timeout=0.05)
                except queue.Empty:
                    self._check_workers()  # a dead worker would otherwise leave us waiting forever
                    continue
                self._count_cpu(pid, cpu)  # a straggler's chunk cost energy too
                if rid != job_id:
                    continue  # a straggler from an earlier job
                hashes += tried
                per_worker[pid] = per_worker.get(pid, 0) + tried
                best = min(best, wbest)
                now = time.monotonic()
                if progress is not None and (found is not None or now - last_report >= report_every):
                    last_report = now
                    elapsed = now - start_time
                    rates = tuple(n / elapsed for n in per_worker.values()) if elapsed > 0 else ()
                    progress(MiningProgress(header.height, hashes, elapsed, best, target_int,
                                            self.workers, rates))
                if found is not None:
                    return header.with_nonce(found)
        finally:
            if self._current is not None:
                self._current.value = 0  # tells every worker to drop this job

    def take_cpu(self) -> float:
        """CPU seconds of the search since the last take (the energy ledger's PoW figure)."""
        spent = self.cpu_seconds - self._cpu_taken
        self._cpu_taken = self.cpu_seconds
        return spent

    def _count_cpu(self, pid: int, cpu: float) -> None:
        self.cpu_seconds += max(0.0, cpu - self._worker_cpu.get(pid, 0.0))
        self._worker_cpu[pid] = cpu

    def _mine_inline(self, header, prefix, target, target_int, start_time, progress,
                     should_stop) -> Header | None:
        nonce, hashes, best_all, last = 0, 0, b"\xff" * 32, start_time
        while True:
            if should_stop is not None and should_stop():
                return None
            cpu = time.thread_time()
            found, tried, best = search(prefix, target, nonce, 1, CHUNK)
            self.cpu_seconds += time.thread_time() - cpu
            hashes += tried
            best_all = min(best_all, best)
            now = time.monotonic()
            if progress is not None and (found is not None or now - last >= 0.25):
                last = now
                elapsed = now - start_time
                progress(MiningProgress(header.height, hashes, elapsed, best_all, target_int, 1,
                                        (hashes / elapsed,) if elapsed > 0 else ()))
            if found is not None:
                return header.with_nonce(found)
            nonce += CHUNK

    def __enter__(self) -> Miner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
