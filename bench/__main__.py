"""`python -m bench [--quick]`: every benchmark, one JSON line per measurement."""

from __future__ import annotations

import argparse
import importlib


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes: a minute or two in all")
    ap.add_argument("--only", default=None, help="comma-separated: import,mine,...,peer")
    a = ap.parse_args()
    q = a.quick
    plan = {
        "import": lambda m: m.run(blocks=3 if q else 10),
        "mine": lambda m: m.run(seconds=1.5 if q else 3.0),
        "store": lambda m: m.run(sizes=(1_000, 5_000) if q else (1_000, 100_000)),
        "crash": lambda m: m.run(kills=5 if q else 30),
        "mempool": lambda m: m.run(sizes=(1_000, 10_000) if q else (1_000, 10_000, 100_000)),
        "rpc": lambda m: m.run(seconds=1.0 if q else 3.0),
        "shuffle": lambda m: m.run(),
        "attest": lambda m: m.run(validators=10_000),
        "tui": lambda m: m.run(sizes=(1_000, 5_000) if q else (1_000, 100_000), presses=30 if q else 70),
        "peer": lambda m: m.run(runs=3 if q else 5, seconds=1.0 if q else 2.0,
                                transfers=1_000 if q else 2_000),
        "ledgers": lambda m: m.run(quick=q, settle=not q),
        "p2p": lambda m: m.run(rounds=10 if q else 30, sync_blocks=100 if q else 300,
                               gossip_txs=1_000 if q else 5_000),
    }
    modules = {"import": "bench.import_blocks", "mine": "bench.mine", "store": "bench.store",
               "crash": "bench.crash", "mempool": "bench.mempool", "rpc": "bench.rpc",
               "shuffle": "bench.shuffle", "attest": "bench.attest", "tui": "bench.tui", "peer": "bench.peer",
               "ledgers": "bench.ledgers", "p2p": "bench.p2p"}
    chosen = a.only.split(",") if a.only else list(plan)
    for name in chosen:
        plan[name](importlib.import_module(modules[name]))


if __name__ == "__main__":
    main()
