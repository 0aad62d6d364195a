"""mempool: accept rate against raw Ed25519 verify/s, and block-template build time as the pool grows."""

from __future__ import annotations

import argparse
import tempfile
import time

from bench.common import emit, raw_ed25519_verify_rate
from chain import crypto
from chain.tx import make_transfer
from node.node import Node


def signed_transfers(node: Node, count: int, senders: int) -> list:
    keys = [crypto.dev_keypair(i) for i in range(senders)]
    out = []
    for j in range(count):
        i = j % senders
        tx = make_transfer(node.params.chain_id, j // senders, node.params.min_fee + (j * 7919) % 5000,
                           keys[i].pubkey, keys[(i + 1) % senders].address, 1_000)
        out.append(tx.signed(keys[i]))
    return out


def run(sizes: tuple[int, ...] = (1_000, 10_000, 100_000), accept_count: int = 5_000) -> list[dict]:
    rows = []
    senders = max(50, max(sizes) // 50 + 1)  # lanes of <= 50 nonces stay under the pool's nonce-gap limit
    with tempfile.TemporaryDirectory() as tmp:
        with Node.create(tmp, "regtest", dev_accounts=senders,
                         mempool_max_bytes=200 * max(sizes) + 1_000_000) as node:
            txs = signed_transfers(node, max(sizes), senders)
            accept_count = min(accept_count, max(sizes))
            seen: list = []
            node.events.subscribe(seen.append)  # a listener, as the TUI or an event stream would be
            before = raw_ed25519_verify_rate(0.5)
            start = time.perf_counter()
            for tx in txs[:accept_count]:
                node.submit_tx(tx)
            accept = accept_count / (time.perf_counter() - start)
            baseline = (before + raw_ed25519_verify_rate(0.5)) / 2  # bracket the run: the machine is shared
            rows.append(emit("mempool", "accepted tx/s (full checks + persist + event)", accept,
                             "raw ed25519 verify/s (one core)", baseline, target_ratio=0.75,
                             txs=accept_count))
            assert len(seen) >= accept_count
            batch = [tx.encode() for tx in txs[accept_count:2 * accept_count]]
            if len(batch) == accept_count:
                before = raw_ed25519_verify_rate(0.5)
                start = time.perf_counter()
                for i in range(0, len(batch), 500):
                    answers = node.submit_txs(batch[i:i + 500])
                    assert not any("error" in a for a in answers), answers[:3]
                accept = accept_count / (time.perf_counter() - start)
                baseline = (before + raw_ed25519_verify_rate(0.5)) / 2
                rows.append(emit("mempool", "accepted tx/s via submit_txs (batches of 500, every core)",
                                 accept, "raw ed25519 verify/s (one core)", baseline, txs=accept_count))
            node.mempool.revalidate()  # (the pool as the sizes below need it: refilled from empty)
            node.mempool.remove(list(node.mempool.entries))
            loaded = 0
            beneficiary = node.resolve_address("dev0")
            first = None
            for size in sorted(sizes):
                for tx in txs[loaded:size]:
                    node.submit_tx(tx)
                loaded = max(loaded, size)
                start = time.perf_counter()
                block = node.build_template(beneficiary)
                seconds = time.perf_counter() - start
                first = first or (seconds, size)
                rows.append(emit("mempool", f"template build seconds at {size} pooled", seconds, pooled=size,
                                 block_txs=len(block.txs),
                                 growth_vs_smallest=round(seconds / first[0], 2) if first[0] else None))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1000,10000,100000")
    a = ap.parse_args()
    run(tuple(int(s) for s in a.sizes.split(",")))
