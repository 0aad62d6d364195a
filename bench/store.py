"""store: block-by-height lookups/s against raw plyvel gets/s, and open time as the chain grows."""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from bench.chains import build_empty_chain
from bench.common import emit, rate
from node.node import Node
from storage import schema


def open_time(datadir: str, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        Node.open(datadir).close()
        best = min(best, time.perf_counter() - start)
    return best


def run(sizes: tuple[int, ...] = (1_000, 10_000), seconds: float = 1.0,
        keep: str | None = None) -> list[dict]:
    rows = []
    opens = {}
    with tempfile.TemporaryDirectory() as tmp:
        datadir = Path(keep) if keep else Path(tmp) / "chain"
        if not (datadir / "chain").exists():
            Node.create(datadir, "regtest").close()
        for size in sorted(sizes):
            # A clock 10 s per block past the head: mining faster than the chain's spacing would otherwise
            # push timestamps (each above the median time past) beyond the 2-hour future limit after ~43k
            # blocks.
            holder: dict = {}
            with Node.open(datadir,
                           clock=lambda h=holder: h["node"].chain.head.header.timestamp + 10) as node:
                holder["node"] = node
                missing = size - node.chain.head.height
                if missing > 0:
                    build_empty_chain(node, missing)
            opens[size] = open_time(str(datadir))
            rows.append(emit("store", f"open seconds at {size} blocks", opens[size], blocks=size))
        top = max(sizes)
        with Node.open(datadir) as node:
            rng = random.Random(7)
            heights = [rng.randrange(top + 1) for _ in range(2000)]
            # The raw primitive: one plyvel get of each block's stored bytes (what a lookup must fetch).
            keys = [schema.block_key(node.store.get_hash_at(h)) for h in heights]
            store = node.store

            def raw_gets() -> int:
                for k in keys:
                    store.raw_get(k)
                return len(keys)

            chain = node.chain

            def raw_lookups() -> int:
                for h in heights:
                    chain.get_block_raw_at(h)
                return len(heights)

            def decoded_lookups() -> int:
                for h in heights:
                    chain.get_block_at(h)
                return len(heights)

            def explorer_views() -> int:
                for h in heights[:200]:
                    node.block(h)
                return 200

            baseline = rate(raw_gets, seconds)
            value = rate(raw_lookups, seconds)
            decoded = rate(decoded_lookups, seconds)
            views = rate(explorer_views, seconds)
        rows.append(emit("store", "block-by-height lookups/s (stored bytes)", value,
                         "raw plyvel gets/s of the blocks", baseline,
                         blocks=top, target_ratio=0.5))
        rows.append(emit("store", "block-by-height lookups/s (decoded Block)", decoded,
                         "raw plyvel gets/s of the blocks", baseline,
                         blocks=top))
        rows.append(emit("store", "block views/s (node.block: decode, index, confirmations, JSON view)",
                         views, "raw plyvel gets/s of the blocks", baseline, blocks=top))
        small, big = min(sizes), max(sizes)
        if small != big:
            rows.append(emit("store", f"open time {big} vs {small} blocks",
                             opens[big] / opens[small] if opens[small] else 0, note="flat means ~1.0"))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1000,100000", help="comma-separated chain lengths")
    ap.add_argument("--keep", default=None, help="build (or reuse) the chain in this dir")
    a = ap.parse_args()
    run(tuple(int(s) for s in a.sizes.split(",")), keep=a.keep)
