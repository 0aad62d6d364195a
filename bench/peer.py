"""peer: chaintop's node side by side with Ganache 7.9.2 (the local chain most of our users would otherwise
pick), when `npx ganache` is available: keep-alive and new-connection reads (chaintop's `status`, sixteen
fields, against eth_blockNumber; and `height`, the same read as eth_blockNumber, on keep-alive), signed
transfers accepted with one and four clients, mining 1,000 empty blocks in one call, cold start, memory after
the transfers. The two alternate, each measure is the median of the runs, and every ratio is chaintop /
Ganache from this run.

Ganache is found with `npx --no-install ganache` run in $CHAINTOP_GANACHE_DIR (default
~/.cache/chaintop/ganache: `npm install --prefix ~/.cache/chaintop/ganache ganache@7.9.2`); without it
this prints one line saying so. Both sides are driven by the same lean client (bench/lean.py): pre-built
requests on raw sockets, so the numbers are the servers'.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import lean
from bench.common import emit
from chain import crypto
from chain.tx import make_transfer

GANACHE_DIR = Path(os.environ.get("CHAINTOP_GANACHE_DIR", Path.home() / ".cache" / "chaintop" / "ganache"))
SENDERS = 50  # accounts on both sides; each sends its transfers in nonce order
WORKERS = 4


def ganache_available() -> str | None:
    """Why Ganache cannot run here, or None when it can."""
    if shutil.which("npx") is None:
        return "npx is not installed"
    try:
        out = subprocess.run(["npx", "--no-install", "ganache", "--version"], cwd=GANACHE_DIR if
                             GANACHE_DIR.is_dir() else None, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"npx ganache did not run: {e}"
    if out.returncode != 0 or "ganache v" not in out.stdout:
        return f"npx ganache is not installed (npm install --prefix {GANACHE_DIR} ganache@7.9.2)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (npx runs node as a child), MiB."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        pids.extend(int(c) for c in children)
    return total / 1024


class Side:
    """One server process: how to start it, what a read and a transfer look like on its wire."""

    name = ""
    proc: subprocess.Popen

    def wait_ready(self, started: float, timeout: float = 60.0) -> float:
        while time.perf_counter() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at startup")
            try:
                if "result" in self.call(*self.read_call):
                    return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s")

    def call(self, method: str, params=None) -> dict:
        with lean.Connection(self.host, self.port, self.headers) as c:
            return json.loads(c.post(lean.rpc_body(method, params)))

    def stop(self) -> None:
        """End the server and everything it started (npx runs node as a child, which outlives npx's end):
        each side runs in its own process group."""
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                continue
            time.sleep(0.2)  # (the group's other members get the same signal; give them a moment)


class Chaintop(Side):
    name = "chaintop"
    read_call = ("status", [])  # sixteen fields: more than eth_blockNumber says
    height_call = ("height", [])  # the same read as eth_blockNumber: the head's height (and its hash)

    def __init__(self, tmp: Path) -> None:
        from node.node import Node

        self.datadir = tmp / "chaintop"
        with Node.create(self.datadir, "regtest", dev_accounts=SENDERS) as node:
            self.params = node.params
        started = time.perf_counter()
        cmd = [sys.executable, "-m", "cli.main", "--datadir", str(self.datadir), "node", "--mining", "manual"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        while not (self.datadir / "node.json").exists() or not (self.datadir / ".cookie").exists():
            if time.perf_counter() - started > 60 or self.proc.poll() is not None:
                raise RuntimeError("chaintop node did not start")
            time.sleep(0.005)
        url = json.loads((self.datadir / "node.json").read_text())["rpc_url"]
        self.host, self.port = "127.0.0.1", int(url.rsplit(":", 1)[1])
        cookie = (self.datadir / ".cookie").read_text().strip()
        self.headers = {"Authorization": "Basic " + base64.b64encode(cookie.encode()).decode()}
        self.cold_start = self.wait_ready(started)

    def signed_transfers(self, count: int, first: int = 0) -> list[bytes]:
        keys = [crypto.dev_keypair(i) for i in range(SENDERS)]
        out = []
        for j in range(first, first + count):
            i = j % SENDERS
            tx = make_transfer(self.params.chain_id, j // SENDERS, self.params.min_fee, keys[i].pubkey,
                               keys[(i + 1) % SENDERS].address, 1_000).signed(keys[i])
            out.append(lean.rpc_body("submit_tx", [tx.encode().hex()]))
        return out

    def mine_empty(self, blocks: int) -> float:
        start = time.perf_counter()
        reply = self.call("mine", [blocks])
        assert len(reply["result"]["blocks"]) == blocks, reply
        return time.perf_counter() - start


class Ganache(Side):
    name = "ganache"
    read_call = ("eth_blockNumber", [])
    height_call = read_call

    def __init__(self, tmp: Path) -> None:
        self.host, self.port, self.headers = "127.0.0.1", _free_port(), {}
        started = time.perf_counter()
        self.proc = subprocess.Popen(["npx", "--no-install", "ganache", "--server.host", "127.0.0.1",
                                      "--server.port", str(self.port), "--logging.quiet",
                                      "--wallet.totalAccounts", str(SENDERS), "--wallet.defaultBalance",
                                      "1000000"], cwd=GANACHE_DIR, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.cold_start = self.wait_ready(started)
        self.accounts = self.call("eth_accounts")["result"]

    def signed_transfers(self, count: int, first: int = 0) -> list[bytes]:
        """Signed by Ganache itself (eth_signTransaction) before the clock starts."""
        out = []
        with lean.Connection(self.host, self.port, self.headers) as c:
            for j in range(first, first + count):
                i = j % SENDERS
                tx = {"from": self.accounts[i], "to": self.accounts[(i + 1) % SENDERS], "value": "0x3e8",
                      "gas": "0x5208", "gasPrice": "0x77359400", "nonce": hex(j // SENDERS)}
                raw = json.loads(c.post(lean.rpc_body("eth_signTransaction", [tx])))["result"]
                out.append(lean.rpc_body("eth_sendRawTransaction", [raw]))
        return out

    def mine_empty(self, blocks: int) -> float:
        start = time.perf_counter()
        reply = self.call("evm_mine", [{"blocks": blocks}])
        assert "result" in reply, reply
        return time.perf_counter() - start

    def pool_mode(self) -> None:
        """Transfers wait in the pool, as on chaintop's node with mining manual (no block per transfer)."""
        assert self.call("miner_stop")["result"] is True


def measure(side: Side, seconds: float, transfers: int, mine_blocks: int) -> dict:
    out = {"cold start seconds": side.cold_start}
    read = lean.rpc_body(*side.read_call)
    out["read calls/s, one keep-alive connection"] = lean.keepalive_rate(side.host, side.port, side.headers,
                                                                         read, seconds)
    out["read calls/s, new connection per call"] = lean.new_connection_rate(side.host, side.port,
                                                                            side.headers, read, seconds)
    height = lean.rpc_body(*side.height_call)
    out["height reads/s (vs eth_blockNumber), one keep-alive connection"] = lean.keepalive_rate(
        side.host, side.port, side.headers, height, seconds)
    out[f"mine {mine_blocks} empty blocks, seconds"] = side.mine_empty(mine_blocks)
    if isinstance(side, Ganache):
        side.pool_mode()
    one = side.signed_transfers(transfers)
    four = side.signed_transfers(transfers, first=transfers)
    out["transfers accepted/s, one client"] = lean.submit_rate(side.host, side.port, side.headers, [one])
    out[f"transfers accepted/s, {WORKERS} clients"] = lean.submit_rate(
        side.host, side.port, side.headers, [four[k::WORKERS] for k in range(WORKERS)])
    out[f"memory MiB after {2 * transfers} transfers"] = _rss_mib(side.proc.pid)
    return out


def run(runs: int = 3, seconds: float = 2.0, transfers: int = 2_000, mine_blocks: int = 1_000) -> list[dict]:
    why = ganache_available()
    if why is not None:
        return [emit("peer", "skipped", 0, skipped=f"Ganache side by side not run: {why}")]
    results: dict[str, list[dict]] = {"chaintop": [], "ganache": []}
    for r in range(runs):
        order = (Chaintop, Ganache) if r % 2 == 0 else (Ganache, Chaintop)  # alternate who goes first
        for cls in order:
            with tempfile.TemporaryDirectory() as tmp:
                side = cls(Path(tmp))
                try:
                    results[side.name].append(measure(side, seconds, transfers, mine_blocks))
                finally:
                    side.stop()
    rows = []
    for metric in results["chaintop"][0]:
        ours = statistics.median(m[metric] for m in results["chaintop"])
        theirs = statistics.median(m[metric] for m in results["ganache"])
        lower_is_better = "seconds" in metric or "MiB" in metric
        rows.append(emit("peer", metric, ours, "ganache 7.9.2", theirs, runs=runs,
                         better="lower" if lower_is_better else "higher",
                         each=[round(m[metric], 3) for m in results["chaintop"]],
                         each_ganache=[round(m[metric], 3) for m in results["ganache"]]))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--transfers", type=int, default=2_000)
    a = ap.parse_args()
    run(a.runs, a.seconds, a.transfers)
