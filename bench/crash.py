"""crash: SIGKILL a mining `chaintop` at random moments; every reopen must verify and keep every reported
block."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import plyvel

from bench.common import emit
from node.maintenance import verify_db
from node.node import Node

ROOT = Path(__file__).resolve().parents[1]
MINED = re.compile(r"^mined block (\d+) ([0-9a-f]{64}) txs=(\d+)$")
# Blocks of two txs, so the pending txs spread over several commits instead of one.
MAX_BLOCK_TXS = 2
# Regtest mining outruns the clock (each timestamp is at least median-time-past + 1), and a block more than
# max_future_time ahead is rejected; start a fresh data dir well before that (~43,000 blocks).
ROTATE_AT_HEIGHT = 20_000


def chaintop_cmd() -> list[str]:
    script = Path(sys.executable).with_name("chaintop")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


def create_chain(datadir: Path) -> None:
    Node.create(datadir, "regtest", max_block_txs=MAX_BLOCK_TXS).close()


def submit_pending(datadir: Path, count: int) -> list[str]:
    """Sign `count` transfers among the dev accounts and leave them in the data dir's mempool."""
    txids = []
    with Node.open(datadir) as node:
        n = node.params.dev_accounts
        for i in range(count):
            sent = node.send(f"dev{i % (n // 2)}", f"dev{n // 2 + i % (n // 2)}", 1_000 + i)
            txids.append(sent["txid"])
    return txids


@dataclass
class KillRun:
    delay: float
    # (height, hash, txs) the miner printed
    reported: list[tuple[int, str, int]] = field(default_factory=list)
    returncode: int | None = None
    mining_seconds: float = 0.0
    stderr: str = ""


def mine_and_kill(datadir: Path, delay: float, startup_timeout: float = 30.0) -> KillRun:
    """Start `chaintop mine --blocks 100000`, SIGKILL it `delay` s after its first block line, collect its
    lines."""
    proc = subprocess.Popen([*chaintop_cmd(), "--datadir", str(datadir), "mine", "--blocks", "100000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=_env())
    lines: list[bytes] = []
    first = threading.Event()

    def read() -> None:  # keeps the pipe drained so the miner never blocks on a full pipe
        for raw in proc.stdout:
            lines.append(raw)
            first.set()
        first.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    run = KillRun(delay)
    try:
        if not first.wait(startup_timeout):
            raise RuntimeError(f"the miner printed nothing in {startup_timeout} s")
        start = time.monotonic()
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        run.mining_seconds = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        reader.join(timeout=30)
        run.stderr = proc.stderr.read().decode(errors="replace")
        proc.stdout.close()
        proc.stderr.close()
    run.returncode = proc.returncode
    for raw in lines:
        if not raw.endswith(b"\n"):
            continue  # cut mid-line by the kill: the block was committed, but the line is not a report
        m = MINED.match(raw.decode().strip())
        if m is None:
            raise RuntimeError(f"unexpected miner output {raw!r}")
        run.reported.append((int(m.group(1)), m.group(2), int(m.group(3))))
    return run


def check_after_kill(datadir: Path, run: KillRun, txids: list[str]) -> dict:
    """Reopen, verify the whole db, and count reported blocks and submitted txs that went missing."""
    try:
        node = Node.open(datadir)
    except Exception as e:  # a failed reopen is the result being measured
        return {"reopened": False, "ok": False, "errors": [repr(e)], "lost_blocks": len(run.reported),
                "lost_txs": len(txids)}
    try:
        result = verify_db(node)
        lost_blocks = [(h, hx) for h, hx, _ in run.reported
                       if node.chain.get_hash_at(h) is None or node.chain.get_hash_at(h).hex() != hx]
        lost_txs = [t for t in txids
                    if node.store.get_tx_location(bytes.fromhex(t)) is None
                    and node.mempool.get(bytes.fromhex(t)) is None]
        continued = False
        if result["ok"]:
            before = node.chain.head.height
            node.mine(1)
            continued = node.chain.head.height == before + 1
        return {"reopened": True, "ok": result["ok"] and continued, "errors": result["errors"],
                "lost_blocks": len(lost_blocks), "lost_txs": len(lost_txs), "height": node.chain.head.height}
    finally:
        node.close()


def raw_sync_write_rate(seconds: float = 0.5) -> float:
    """The primitive under every block commit: synced plyvel WriteBatches per second."""
    with tempfile.TemporaryDirectory() as tmp:
        db = plyvel.DB(str(Path(tmp) / "raw"), create_if_missing=True)
        value = os.urandom(400)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            with db.write_batch(sync=True, transaction=True) as wb:
                wb.put(n.to_bytes(8, "big"), value)
            n += 1
        elapsed = time.perf_counter() - start
        db.close()
    return n / elapsed


def run(kills: int = 30, seed: int = 20251126, txs_per_round: int = 6) -> dict:
    rng = random.Random(seed)
    clean, lost_blocks, lost_txs, blocks, mining = 0, 0, 0, 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        generation = 0
        datadir = Path(tmp) / f"chain{generation}"
        create_chain(datadir)
        for i in range(kills):
            txids = submit_pending(datadir, txs_per_round)
            kill = mine_and_kill(datadir, rng.uniform(0.2, 1.5))
            result = check_after_kill(datadir, kill, txids)
            killed = kill.returncode == -signal.SIGKILL
            if result["ok"] and killed and result["lost_blocks"] == 0 and result["lost_txs"] == 0:
                clean += 1
            else:
                print(f"kill {i}: delay {kill.delay:.3f} s, exit {kill.returncode}, {result}, "
                      f"stderr {kill.stderr!r}", file=sys.stderr, flush=True)
            lost_blocks += result["lost_blocks"]
            lost_txs += result["lost_txs"]
            blocks += len(kill.reported)
            mining += kill.mining_seconds
            if result.get("height", 0) > ROTATE_AT_HEIGHT:
                generation += 1
                datadir = Path(tmp) / f"chain{generation}"
                create_chain(datadir)
    baseline = raw_sync_write_rate()
    emit("crash", "blocks committed/s by the miner that gets killed", blocks / mining if mining else 0.0,
         "raw plyvel synced write batches/s", baseline, kills=kills, blocks=blocks)
    summary = {"bench": "crash", "kills": kills, "clean_reopens": clean, "lost_blocks": lost_blocks,
               "lost_txs": lost_txs, "seed": seed}
    print(json.dumps(summary), flush=True)
    return summary


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kills", type=int, default=30, help="how many SIGKILLs (default 30)")
    ap.add_argument("--seed", type=int, default=20251126, help="seed of the random kill delays (0.2-1.5 s)")
    a = ap.parse_args()
    summary = run(a.kills, a.seed)
    return 0 if summary["clean_reopens"] == summary["kills"] and summary["lost_blocks"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
