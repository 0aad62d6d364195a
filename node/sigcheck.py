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


# -- the submission signature cache (Bitcoin Core keeps one for the same reason) --------------------------
# Signatures checked ahead of admission, on a pool thread while the RPC loop reads the next requests; the
# admission takes the answer from here instead of verifying again. Keyed by the exact (pubkey, signature,
# message) triple, so an answer is only ever reused for the very same check; each is taken once.
_checked: dict[tuple[bytes, bytes, bytes], bool] = {}
CHECKED_LIMIT = 50_000  # answers kept at most; past it the cache starts over (nothing is lost but work)


def preverify(txs_hex: Sequence[object]) -> None:
    """Verify the signatures of transactions about to be submitted (hex, as submit_tx takes them); what does
    not decode is left for the admission to refuse with its usual error."""
    from chain.errors import ChaintopError
    from chain.tx import Tx

    found = []
    for raw in txs_hex:
        try:
            tx = Tx.decode(bytes.fromhex(raw)) if isinstance(raw, str) else None
        except (ValueError, ChaintopError):
            tx = None
        if tx is not None:
            found.append((tx.sender, tx.signature, tx.txid))
    answers = _verify_chunk(found)  # (not the pool's metered clock: that one is the validator duties')
    if len(_checked) + len(found) > CHECKED_LIMIT:
        _checked.clear()
    _checked.update(zip(found, answers, strict=True))


def check_signature(tx) -> bool:
    """The transaction's signature is valid: the answer a pre-verification left, or a check now."""
    key = (tx.sender, tx.signature, tx.txid)
    answer = _checked.pop(key, None)
    return verify(*key) if answer is None else answer


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
