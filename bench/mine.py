"""mine: hashes/s of the miner per worker and with every worker, against a bare hashlib midstate loop; and a
bulk `mine 1000` of empty regtest blocks in one call (in-process), against raw plyvel writing the same
number of block-sized batches with one fsync per group, as the bulk mine does."""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import struct
import tempfile
import time
from pathlib import Path

from bench.common import emit, rate
from chain.block import ENGINE_POW, HEADER_VERSION, Header, PowSeal
from node.miner import Miner, search
from node.mining import GROUP_BLOCKS

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


def run(seconds: float = 2.0, workers: int | None = None, bulk: int = 1_000) -> list[dict]:
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
    if bulk:
        rows.append(run_bulk(bulk))
    return rows


def raw_block_writes_seconds(blocks: int, root: Path, record: int = 1024) -> float:
    """The raw primitive: `blocks` plyvel WriteBatches of about a block's records (block, index, height,
    state, undo, head), one fsync per GROUP_BLOCKS, as the bulk mine syncs."""
    import plyvel

    db = plyvel.DB(str(root / "raw"), create_if_missing=True)
    try:
        start = time.perf_counter()
        for i in range(blocks):
            key = i.to_bytes(8, "big")
            sync = (i + 1) % GROUP_BLOCKS == 0 or i + 1 == blocks
            with db.write_batch(sync=sync) as wb:
                for tag in b"bihsum":
                    wb.put(bytes([tag]) + key, os.urandom(record // 6))
        return time.perf_counter() - start
    finally:
        db.close()


def bulk_mine_seconds(blocks: int, root: Path) -> float:
    """Seconds for one `mine blocks` call on a fresh regtest node (in-process: no RPC)."""
    from node.node import Node

    Node.create(root / "chain", "regtest").close()
    with Node.open(root / "chain", workers=1) as node:
        node.mine(3)  # the first block pays for imports and the store's warm-up
        start = time.perf_counter()
        reply = node.mine(blocks)
        elapsed = time.perf_counter() - start
    assert len(reply["blocks"]) == blocks, reply
    return elapsed


def run_bulk(blocks: int = 1_000, repeats: int = 3) -> dict:
    """Median of `repeats` runs of each, alternating the two."""
    ours, raw = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            raw.append(raw_block_writes_seconds(blocks, Path(tmp)))
        with tempfile.TemporaryDirectory() as tmp:
            ours.append(bulk_mine_seconds(blocks, Path(tmp)))
    mine_s, raw_s = statistics.median(ours), statistics.median(raw)
    return emit("mine", f"bulk mine {blocks} empty blocks, blocks/s", blocks / mine_s,
                "raw plyvel block-sized batches/s (fsync per group)", blocks / raw_s,
                seconds=round(mine_s, 3), runs=[round(x, 3) for x in ours])


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--bulk", type=int, default=1_000, help="blocks in the bulk mine (0: skip it)")
    a = ap.parse_args()
    run(a.seconds, a.workers, a.bulk)
