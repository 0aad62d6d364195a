"""rpc: JSON-RPC calls/s against a real node process, for status and for submitting a transaction."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import emit
from chain import crypto
from chain.tx import make_transfer
from node.client import RpcClient
from node.node import Node


def run(seconds: float = 2.0) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        datadir = Path(tmp) / "c"
        with Node.create(datadir, "regtest", dev_accounts=50) as node:
            params = node.params
        proc = subprocess.Popen([sys.executable, "-m", "cli.main", "--datadir", str(datadir), "node",
                                 "--mining", "off"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            client = None
            while client is None and time.monotonic() < deadline:
                client = RpcClient.for_datadir(datadir)
                time.sleep(0.05)
            if client is None:
                raise RuntimeError("node did not start")
            client.status()
            n, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                client.status()  # RpcClient keeps its connection: what a CLI command's calls get
                n += 1
            rows.append(emit("rpc", "status calls/s (RpcClient, one keep-alive connection)",
                             n / (time.perf_counter() - start)))
            n, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                client.close()
                client.status()
                n += 1
            rows.append(emit("rpc", "status calls/s (new HTTP connection per call)",
                             n / (time.perf_counter() - start)))
            keys = [crypto.dev_keypair(i) for i in range(50)]
            txs = [make_transfer(params.chain_id, j // 50, params.min_fee, keys[j % 50].pubkey,
                                 keys[(j + 1) % 50].address, 1_000).signed(keys[j % 50]).encode().hex()
                   for j in range(2_500)]
            n, start = 0, time.perf_counter()
            while n < len(txs) and time.perf_counter() - start < seconds:
                client.submit_tx(txs[n])
                n += 1
            rows.append(emit("rpc", "submit_tx calls/s", n / (time.perf_counter() - start)))
            client.stop_node()
            proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=2.0)
    run(ap.parse_args().seconds)
