"""Real `chaintop node` processes on loopback for the network tests: start, talk RPC, stop, kill."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from node.client import RpcClient
from node.p2p.service import read_p2p_info
from node.rpc import read_node_info
from tests.functional.test_rpc import ROOT, _env

CHAINTOP = [sys.executable, "-m", "cli.main"]
BOUND = 30.0  # seconds any wait in these tests may take, however loaded the machine


def chaintop(datadir: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*CHAINTOP, "--datadir", str(datadir), *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


class NodeProc:
    """One node process; `client` is its RPC client once it published node.json and p2p.json."""

    def __init__(self, datadir: Path, *args: str) -> None:
        self.datadir = datadir
        self.log = datadir.parent / f"{datadir.name}.log"
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([*CHAINTOP, "--datadir", str(datadir), "node", *args], cwd=ROOT,
                                         env=_env(), stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + BOUND
        while ((read_node_info(datadir) or {}).get("pid") != self.proc.pid
               or (read_p2p_info(datadir) or {}).get("pid") != self.proc.pid):
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "the node never published node.json and p2p.json"
            time.sleep(0.05)
        self.client = RpcClient.for_datadir(datadir)
        self.address = read_p2p_info(datadir)["listen"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                assert self.proc.wait(timeout=BOUND) == 0, self.log.read_text()
            finally:
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait(10)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def wait_for(what: str, predicate, bound: float = BOUND):
    """Poll `predicate` until it returns something truthy (which is returned); fail after `bound` s."""
    deadline = time.monotonic() + bound
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {bound} s: {what}"
        time.sleep(0.1)


def init(datadir: Path, network: str = "regtest") -> Path:
    r = chaintop(datadir, "init", "--network", network)
    assert r.returncode == 0, r.stderr
    return datadir


def peer_count(node: NodeProc) -> int:
    return len(node.client.peers()["peers"])


def start_triangle(tmp_path: Path, procs: list) -> tuple[NodeProc, NodeProc, NodeProc]:
    """Three regtest nodes A, B, C in a full mesh, all at height 2 (A mined it)."""
    a = NodeProc(init(tmp_path / "a"), "--listen", "127.0.0.1:0")
    procs.append(a)
    b = NodeProc(init(tmp_path / "b"), "--peer", a.address)
    procs.append(b)
    c = NodeProc(init(tmp_path / "c"), "--peer", a.address, "--peer", b.address)
    procs.append(c)
    wait_for("a full mesh", lambda: all(peer_count(n) == 2 for n in (a, b, c)))
    a.client.mine(2)
    wait_for("everyone at height 2", lambda: all(n.client.status()["height"] == 2 for n in (a, b, c)))
    return a, b, c
