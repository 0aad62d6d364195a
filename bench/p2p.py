"""p2p: real node processes on loopback (ZeroMQ), each measured against a baseline from the same run.

- block propagation p50/p95 to 3 peers of the miner (BlockReceived: published -> validated and connected on
  the receiver) vs a raw ZeroMQ DEALER->ROUTER message of the same size;
- sync blocks/s from a peer vs importing the same blocks from a file (goal >= 0.5);
- transactions/s gossiped into one node and accepted by all 4 vs one node's own accept rate.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import zmq

from bench.chains import build_transfer_blocks
from bench.common import emit
from bench.mempool import signed_transfers
from node.client import RpcClient
from node.node import Node
from node.p2p import gossip
from node.p2p import messages as m
from node.p2p.service import read_p2p_info
from node.p2p.transport import ZmqTransport
from node.rpc import read_node_info

HEADER_BYTES = 250  # a PoW header, the tx count and empty ops, about
SENDERS = 200  # dev accounts: lanes short enough for the pool's nonce-gap limit


def _create(datadir: Path) -> None:
    Node.create(datadir, "regtest", dev_accounts=SENDERS, mempool_max_bytes=64_000_000).close()


class _Proc:
    def __init__(self, datadir: Path, *args: str) -> None:
        self.datadir = datadir
        log = open(datadir.parent / f"{datadir.name}.log", "ab")  # noqa: SIM115 — lives as long as the process
        self.proc = subprocess.Popen([sys.executable, "-m", "cli.main", "--datadir", str(datadir), "node",
                                      "--workers", "1", *args], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while ((read_node_info(datadir) or {}).get("pid") != self.proc.pid
               or (read_p2p_info(datadir) or {}).get("pid") != self.proc.pid):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"node in {datadir} did not start")
            time.sleep(0.05)
        self.client = RpcClient.for_datadir(datadir)
        self.address = read_p2p_info(datadir)["listen"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _network(root: Path, n: int) -> list[_Proc]:
    procs: list[_Proc] = []
    for i in range(n):
        datadir = root / f"n{i}"
        if not (datadir / "chain").exists():
            _create(datadir)
        peers = [a for p in procs for a in ("--peer", p.address)]
        procs.append(_Proc(datadir, "--listen", "127.0.0.1:0", *peers))
    _until(lambda: all(len(p.client.peers()["peers"]) == n - 1 for p in procs), 30)
    return procs


def _until(predicate, bound: float) -> float:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > bound:
            raise TimeoutError("the network did not get there in time")
        time.sleep(0.01)
    return time.perf_counter() - start


def raw_zmq_latency(size: int, count: int = 200) -> list[float]:
    """One-way ms of a `size`-byte DEALER->ROUTER message on loopback TCP, paced like block gossip."""
    ctx = zmq.Context()
    router, dealer = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
    port = router.bind_to_random_port("tcp://127.0.0.1", 20_000, 32_767)
    dealer.connect(f"tcp://127.0.0.1:{port}")
    payload = b"x" * size
    out = []
    try:
        dealer.send(payload)
        router.recv_multipart()  # connected
        for _ in range(count):
            start = time.perf_counter()
            dealer.send(payload)
            router.recv_multipart()
            out.append((time.perf_counter() - start) * 1000)
            time.sleep(0.002)
    finally:
        router.close(0)
        dealer.close(0)
        ctx.term()
    return out


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def bench_propagation(root: Path, rounds: int, txs_per_block: int) -> list[dict]:
    procs = _network(root, 4)
    try:
        miner, others = procs[0], procs[1:]
        delays: list[float] = []
        seen: dict[str, int] = {}
        lock = threading.Lock()

        def listen(p: _Proc) -> None:
            for e in RpcClient.for_datadir(p.datadir).iter_events():
                if e["event"] == "BlockReceived" and e["status"] in ("connected", "reorg"):
                    with lock:
                        delays.append(e["delay_ms"])
                        seen[e["hash"]] = seen.get(e["hash"], 0) + 1

        for p in others:
            threading.Thread(target=listen, args=(p,), daemon=True).start()
        time.sleep(0.5)  # the event streams are open
        with _spare(root) as spare:
            txs = signed_transfers(spare, rounds * txs_per_block, SENDERS)
        for r in range(rounds):
            for tx in txs[r * txs_per_block:(r + 1) * txs_per_block]:
                miner.client.submit_tx(tx.encode().hex())
            block = miner.client.mine(1)["blocks"][0]
            _until(lambda b=block: seen.get(b, 0) >= len(others), 30)
        size = HEADER_BYTES + sum(len(tx.encode()) for tx in txs[:txs_per_block])
        raw = raw_zmq_latency(size)
        rows = []
        for q in (50, 95):
            rows.append(emit("p2p", f"block propagation p{q} ms (3 peers, validated)", _pct(delays, q),
                             f"raw ZeroMQ message p{q} ms, same size", _pct(raw, q), block_bytes=size,
                             txs_per_block=txs_per_block, blocks=rounds, samples=len(delays)))
        return rows
    finally:
        for p in procs:
            p.stop()


def _spare(root: Path) -> Node:
    path = root / "spare"
    if not (path / "chain").exists():
        return Node.create(path, "regtest", dev_accounts=SENDERS, mempool_max_bytes=64_000_000)
    return Node.open(path)


def bench_sync(root: Path, blocks: int, txs_per_block: int) -> dict:
    src, export = root / "src", root / "chain.blocks"
    with Node.create(src, "regtest", dev_accounts=SENDERS) as node:
        build_transfer_blocks(node, blocks, txs_per_block)
        node.export_blocks(str(export))
    with Node.create(root / "imported", "regtest", dev_accounts=SENDERS) as node:
        start = time.perf_counter()
        node.import_blocks(str(export))
        imported = blocks / (time.perf_counter() - start)
    a = _Proc(src, "--listen", "127.0.0.1:0")
    try:
        _create(root / "fresh")
        b = _Proc(root / "fresh", "--peer", a.address)
        try:
            seconds = _until(lambda: b.client.status()["height"] >= blocks, 600)
        finally:
            b.stop()
    finally:
        a.stop()
    return emit("p2p", "sync blocks/s from a peer", blocks / seconds, "import blocks/s from a file", imported,
                blocks=blocks, txs_per_block=txs_per_block, target_ratio=0.5)


async def _gossip_txs(address: str, summary: dict, raws: list[bytes]) -> None:
    t = ZmqTransport(b"B" * 32)
    conn = t.dial(address)
    try:
        status = m.Status(m.PROTOCOL_VERSION, summary["chain_id"], summary["genesis"], summary["head"],
                          summary["height"], summary["chain_work"], 0, bytes(32), 0, b"B" * 32, 0)
        await t.send(conn, m.encode(status), wait=5)
        while not isinstance(m.decode((await asyncio.wait_for(t.recv(), 10))[1]), m.Status):
            pass
        topic = gossip.topic_name(summary["chain_id"], summary["genesis"], gossip.TXS)
        for raw in raws:  # a full send queue waits (the sync path): nothing is dropped on our side
            await t.send(conn, m.encode(m.Gossip(topic, int(time.time() * 1_000_000), raw)), wait=30)
        await asyncio.sleep(0.5)
    finally:
        t.close()


def bench_tx_gossip(root: Path, count: int) -> dict:
    with _spare(root) as spare:
        txs = signed_transfers(spare, count, SENDERS)
        summary = spare.chain_summary()
    with Node.create(root / "alone", "regtest", dev_accounts=SENDERS, mempool_max_bytes=64_000_000) as node:
        start = time.perf_counter()
        for tx in txs:
            node.submit_tx(tx)
        alone = count / (time.perf_counter() - start)
    procs = _network(root / "gossip", 4)
    try:
        start = time.perf_counter()
        sender = _gossip_txs(procs[0].address, summary, [tx.encode() for tx in txs])
        threading.Thread(target=asyncio.run, args=(sender,), daemon=True).start()
        _until(lambda: all(p.client.status()["mempool_size"] >= count for p in procs), 600)
        seconds = time.perf_counter() - start
    finally:
        for p in procs:
            p.stop()
    return emit("p2p", "tx/s gossiped and accepted by all 4 nodes", count / seconds,
                "one node's own accept tx/s", alone, txs=count)


def run(rounds: int = 20, txs_per_block: int = 100, sync_blocks: int = 200, sync_txs: int = 100,
        gossip_txs: int = 3_000) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "prop").mkdir()
        rows += bench_propagation(root / "prop", rounds, txs_per_block)
        (root / "sync").mkdir()
        rows.append(bench_sync(root / "sync", sync_blocks, sync_txs))
        (root / "tx").mkdir()
        rows.append(bench_tx_gossip(root / "tx", gossip_txs))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    q = ap.parse_args().quick
    run(rounds=10 if q else 30, sync_blocks=100 if q else 300, gossip_txs=1_000 if q else 5_000)
