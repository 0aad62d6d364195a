"""Batch signature checks on every core: the verifier the node injects into the chain state."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from chain.crypto import verify

_CPUS = os.cpu_count() or 1
PARALLEL_FROM = 64  # below this, handing work to threads costs more than it saves

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_pool_cpu = [0.0]  # CPU seconds the pool's threads spent verifying (the energy ledger reads it)


def pool_cpu_seconds() -> float:
    return _pool_cpu[0]


def _get_pool(workers: int) -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sigcheck")
        return _pool


def _verify_chunk(chunk: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
    return [verify(*it) for it in chunk]


def _verify_chunk_timed(chunk: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
    start = time.thread_time()
    out = _verify_chunk(chunk)
    spent = time.thread_time() - start
    with _pool_lock:
        _pool_cpu[0] += spent
    return out


def verify_many_parallel(items: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
    """Verify (pubkey, signature, message) triples; large batches use every core.

    OpenSSL's Ed25519 verify releases the GIL inside cryptography, so plain threads scale across cores
    without the pickling cost of processes. Same answers as chain.crypto.verify_many, in the same order.
    """
    workers = _CPUS
    if len(items) < PARALLEL_FROM or workers < 2:
        return _verify_chunk(items)
    step = -(-len(items) // workers)
    chunks = [items[i : i + step] for i in range(0, len(items), step)]
    out: list[bool] = []
    for part in _get_pool(workers).map(_verify_chunk_timed, chunks):
        out.extend(part)
    return out
