"""import: tx/s importing pre-built blocks of 1,000 transfers into a fresh data dir, against raw Ed25519
verify/s."""

from __future__ import annotations

import argparse
import tempfile
import time

from bench.chains import build_transfer_blocks
from bench.common import emit, raw_ed25519_verify_rate
from chain.block import Block
from node.node import Node


def run(blocks: int = 10, txs_per_block: int = 1000) -> dict:
    with tempfile.TemporaryDirectory() as src_dir, tempfile.TemporaryDirectory() as dst_dir:
        with Node.create(src_dir, "regtest") as src:
            encoded = build_transfer_blocks(src, blocks, txs_per_block)
        with Node.create(dst_dir, "regtest") as dst:
            start = time.perf_counter()
            for raw in encoded:
                result = dst.accept_block(Block.decode(raw))
                assert result.status == "connected"
            elapsed = time.perf_counter() - start
        baseline = raw_ed25519_verify_rate(1.0)
        return emit("import", "tx/s", blocks * txs_per_block / elapsed, "raw ed25519 verify/s (one core)",
                    baseline, blocks=blocks, txs_per_block=txs_per_block, target_ratio=0.75)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--blocks", type=int, default=10)
    run(ap.parse_args().blocks)
