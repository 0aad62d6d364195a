"""SIGKILL a mining `chaintop` at seeded random moments: the data dir reopens, verifies, and keeps every
reported block."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from node import rpc
from node.maintenance import verify_db
from node.node import Node

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("chaintop")
CHAINTOP = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "cli.main"]
MINED = re.compile(r"^mined block (\d+) ([0-9a-f]{64}) txs=(\d+)$")
SEED = 15  # delays 1.455, 0.215, 1.157 s: one early kill, two late ones
KILLS = 3
TXS_PER_ROUND = 8


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def submit_pending(datadir: Path, count: int) -> list[str]:
    txids = []
    with Node.open(datadir) as node:
        for i in range(count):
            txids.append(node.send(f"dev{i % 5}", f"dev{5 + i % 5}", 1_000 + i)["txid"])
        assert len(node.mempool) >= count
    return txids


def mine_and_kill(datadir: Path, delay: float) -> tuple[list[tuple[int, str, int]], int, str]:
    """Run `chaintop mine --blocks 100000`; SIGKILL it `delay` s after its first block line."""
    proc = subprocess.Popen([*CHAINTOP, "--datadir", str(datadir), "mine", "--blocks", "100000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=_env())
    lines: list[bytes] = []
    first = threading.Event()

    def drain() -> None:  # the miner must never block on a full pipe
        for raw in proc.stdout:
            lines.append(raw)
            first.set()
        first.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        assert first.wait(30), "the miner printed no block line"
        time.sleep(delay)  # the random moment itself; everything else polls
        assert proc.poll() is None, f"the miner stopped before the kill: {proc.stderr.read()!r}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        reader.join(timeout=30)
        err = proc.stderr.read().decode(errors="replace")
        proc.stdout.close()
        proc.stderr.close()
    reported = []
    for raw in lines:
        if not raw.endswith(b"\n"):
            continue  # a line cut by the kill is not a report
        m = MINED.match(raw.decode().rstrip("\n"))
        assert m, f"unexpected miner output {raw!r}"
        reported.append((int(m.group(1)), m.group(2), int(m.group(3))))
    return reported, proc.returncode, err


def lost_blocks(node: Node, reported: list[tuple[int, str, int]]) -> list[tuple[int, str]]:
    lost = []
    for height, hx, n_tx in reported:
        h = node.chain.get_hash_at(height)
        if h is None or h.hex() != hx or len(node.chain.get_block(h).txs) != n_tx:
            lost.append((height, hx))
    return lost


def test_sigkill_while_mining_loses_nothing(tmp_path):
    d = tmp_path / "chain"
    # Two txs per block, so the pending txs are spread over several commits, not one.
    Node.create(d, "regtest", max_block_txs=2).close()
    rng = random.Random(SEED)
    all_txids: list[str] = []
    blocks_with_txs = 0
    for round_no in range(KILLS):
        all_txids += submit_pending(d, TXS_PER_ROUND)
        delay = rng.uniform(0.2, 1.5)
        reported, rc, err = mine_and_kill(d, delay)
        where = f"round {round_no} (seed {SEED}, delay {delay:.3f} s)"
        assert rc == -signal.SIGKILL, f"{where}: exit {rc}, stderr {err!r}"
        assert reported, f"{where}: no block reported"
        heights = [h for h, _, _ in reported]
        assert heights == list(range(heights[0], heights[0] + len(heights))), \
            f"{where}: gaps in {heights[:5]}..."
        blocks_with_txs += sum(1 for *_, n in reported if n)

        with Node.open(d) as node:
            result = verify_db(node)
            assert result["ok"] is True, f"{where}: {result['errors'][:5]}"
            assert node.chain.head.height >= heights[-1], where
            assert lost_blocks(node, reported) == [], where
            # nothing submitted is lost: each tx is in a main-chain block or still pending
            for t in all_txids:
                txid = bytes.fromhex(t)
                assert node.store.get_tx_location(txid) is not None or node.mempool.get(txid) is not None, \
                    f"{where}: tx {t} vanished"
            # the chain continues from where it was cut
            before = node.chain.head.height
            node.mine(1)
            assert node.chain.head.height == before + 1
            assert verify_db(node)["ok"] is True
    assert blocks_with_txs >= KILLS, "the reported blocks should carry the pending txs"


def test_lost_block_check_can_fail(tmp_path):
    """The check above is not vacuous: a report the chain does not hold is flagged."""
    d = tmp_path / "chain"
    Node.create(d, "regtest").close()
    with Node.open(d) as node:
        real = node.mine(1)["blocks"][0]
        assert lost_blocks(node, [(1, real, 0)]) == []
        assert lost_blocks(node, [(1, "ab" * 32, 0)]) == [(1, "ab" * 32)]
        assert lost_blocks(node, [(2, real, 0)]) == [(2, real)]
        assert lost_blocks(node, [(1, real, 5)]) == [(1, real)]


def test_bench_crash_script_runs():
    """`python -m bench.crash` prints a house-format line and a clean summary."""
    kills = 1
    p = subprocess.run([sys.executable, "-m", "bench.crash", "--kills", str(kills)], capture_output=True,
                       text=True, cwd=ROOT, env=_env(), timeout=120)
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(rows) == 2
    metric, summary = rows
    assert {"bench", "metric", "value", "baseline", "baseline_value", "ratio"} <= metric.keys()
    assert metric["bench"] == "crash" and metric["value"] > 0
    assert summary["bench"] == "crash"
    assert summary["kills"] == kills and summary["clean_reopens"] == kills and summary["lost_blocks"] == 0


# -- a SIGKILLed `chaintop node` ----------------------------------------------------------


def cli(datadir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CHAINTOP, "--datadir", str(datadir), *args], capture_output=True, text=True,
                          cwd=ROOT, env=_env(), timeout=60)


def cli_json(datadir: Path, *args: str):
    p = cli(datadir, *args, "--json")
    assert p.returncode == 0, f"chaintop {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}"
    return json.loads(p.stdout)


def kill_running_node(tmp_path: Path) -> tuple[Path, dict]:
    """Run `chaintop node`, confirm a tx and 2 blocks through it over RPC, SIGKILL it; returns (datadir,
    state)."""
    d = tmp_path / "chain"
    Node.create(d, "regtest").close()
    log = open(tmp_path / "node.log", "wb")  # closed below, after the kill
    proc = subprocess.Popen([*CHAINTOP, "--datadir", str(d), "node"], stdout=log, stderr=subprocess.STDOUT,
                            cwd=ROOT, env=_env())
    try:
        deadline = time.monotonic() + 30
        while (rpc.read_node_info(d) or {}).get("pid") != proc.pid:
            assert proc.poll() is None, (tmp_path / "node.log").read_text()
            assert time.monotonic() < deadline, "the node never published node.json"
            time.sleep(0.05)
        txid = cli_json(d, "send", "--from", "dev0", "--to", "dev1", "--amount", "1")["txid"]
        blocks = cli_json(d, "mine", "--blocks", "2")["blocks"]
        assert cli_json(d, "tx", txid)["status"] == "confirmed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)  # reaped: the pid no longer exists
        log.close()
    assert proc.returncode == -signal.SIGKILL
    return d, {"txid": txid, "head": blocks[-1], "height": 2}


def _assert_usable(d: Path, state: dict) -> None:
    status = cli_json(d, "status")
    assert (status["height"], status["head"]) == (state["height"], state["head"])
    assert cli_json(d, "tx", state["txid"])["status"] == "confirmed"
    verify = cli_json(d, "db", "verify")
    assert verify["ok"] is True, verify["errors"]
    assert cli_json(d, "mine", "--blocks", "1")["blocks"]


def test_sigkilled_node_leaves_a_usable_datadir(tmp_path):
    d, state = kill_running_node(tmp_path)
    _assert_usable(d, state)


def test_stale_node_info_whose_pid_was_reused(tmp_path):
    """After a crash (or a reboot, or in a container), node.json's pid may name an unrelated live process.

    Nothing holds the data-dir lock, so no node is running: the CLI must open the data dir itself instead of
    failing with node-unreachable until the user deletes node.json by hand.
    """
    d, state = kill_running_node(tmp_path)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        info = json.loads((d / rpc.NODE_INFO).read_text())
        info["pid"] = other.pid  # what pid reuse looks like
        (d / rpc.NODE_INFO).write_text(json.dumps(info))
        _assert_usable(d, state)
    finally:
        other.kill()
        other.wait(timeout=10)


# -- a SIGKILLed miner's worker processes --------------------------------------------------

# 65,536 expected hashes per block: above the miner's inline threshold, so it starts worker processes.
WORKER_BITS = 0x1F010000


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_sigkilled_miner_leaves_no_worker_processes(tmp_path):
    """`daemon=True` only reaps workers on a clean exit; after a SIGKILL they must notice and exit on their
    own."""
    d = tmp_path / "chain"
    Node.create(d, "regtest", genesis_bits=WORKER_BITS).close()
    proc = subprocess.Popen([*CHAINTOP, "--datadir", str(d), "mine", "--blocks", "100000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=_env())
    workers: list[int] = []
    try:
        line = proc.stdout.readline()  # the first block: the workers are up
        assert MINED.match(line.decode().strip()), (line,
                                                    proc.stderr.read() if proc.poll() is not None else "")
        workers = _children(proc.pid)
        assert workers, "the miner should run worker processes at this difficulty"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while any(_running(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = [p for p in workers if _running(p)]
        assert survivors == [], f"worker processes outlived the killed miner: {survivors}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        for p in workers:  # our own orphans: never leave them spinning
            if _running(p):
                os.kill(p, signal.SIGKILL)
        proc.stdout.close()
        proc.stderr.close()
    with Node.open(d) as node:
        assert verify_db(node)["ok"] is True
