"""mine: hashes/s of the miner per worker and with every worker, against a bare hashlib midstate loop."""

from __future__ import annotations

import argparse
import hashlib
import os
import struct
import time

from bench.common import emit, rate
from chain.block import ENGINE_POW, HEADER_VERSION, Header, PowSeal
from node.miner import Miner, search

HARD_BITS = 0x1D00FFFF  # Bitcoin's difficulty 1: ~4.3e9 hashes per block, never found in a benchmark run


def bare_midstate_rate(prefix: bytes, seconds: float) -> float:
    """The raw primitive: copy a SHA-256 midstate, add 8 nonce bytes, hash the digest again."""
    mid = hashlib.sha256(prefix)
    pack = struct.Struct(">Q").pack
    sha = hashlib.sha256
    state = {"nonce": 0}

    def batch() -> int:
        nonce = state["nonce"]
        for _ in range(50_000):
            h = mid.copy()
            h.update(pack(nonce))
            sha(h.digest()).digest()
            nonce += 1
        state["nonce"] = nonce
        return 50_000

    return rate(batch, seconds)


def run(seconds: float = 2.0, workers: int | None = None) -> list[dict]:
    header = Header(HEADER_VERSION, 1, bytes(32), int(time.time()), bytes(32), bytes(32), bytes(32),
                    bytes(20), ENGINE_POW, PowSeal(HARD_BITS, 0))
    prefix = header.pow_prefix()
    target = bytes(32)  # unreachable: the loop runs its full count
    baseline = bare_midstate_rate(prefix, seconds)
    state = {"start": 0}

    def one_worker() -> int:
        found, tried, _ = search(prefix, target, state["start"], 1, 50_000)
        state["start"] += tried
        return tried

    single = rate(one_worker, seconds)
    rows = [emit("mine", "hashes/s (one worker, in-process)", single, "bare hashlib midstate loop", baseline,
                 target_ratio=0.9)]

    workers = workers or os.cpu_count() or 1
    seen = {"hashes": 0, "elapsed": 0.0}

    def progress(p) -> None:
        seen["hashes"], seen["elapsed"] = p.hashes, p.elapsed

    with Miner(workers) as miner:
        # warm-up
        miner.mine(header, progress=progress, should_stop=lambda: False if not seen["hashes"] else True)
        seen.update(hashes=0, elapsed=0.0)
        deadline = time.monotonic() + seconds + 0.5
        miner.mine(header, progress=progress, should_stop=lambda: time.monotonic() > deadline)
    pool_rate = seen["hashes"] / seen["elapsed"] if seen["elapsed"] else 0.0
    rows.append(emit("mine", f"hashes/s ({workers} worker processes)", pool_rate,
                     "bare hashlib midstate loop (one core)", baseline, workers=workers,
                     per_worker_ratio=round(pool_rate / workers / baseline, 3),
                     target_ratio=1.8 if workers >= 2 else 0.9))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--workers", type=int, default=None)
    a = ap.parse_args()
    run(a.seconds, a.workers)
