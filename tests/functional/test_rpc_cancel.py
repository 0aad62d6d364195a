"""A long `mine` over RPC has a way out (issue 9 #10): the client hanging up, `mining off` and the node
stopping each end it; and the CLI's client gets progress and every block as they happen."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import threading
import time

import pytest

from node.client import RpcClient
from node.miner import MiningProgress
from tests.functional.test_rpc import ROOT, NodeProc, _env, init_regtest

FOREVER = 100_000_000  # blocks: `rpc mine 100000000` from the issue


@pytest.fixture
def start_node():
    """Node processes, every one killed at teardown."""
    started: list[NodeProc] = []

    def start(datadir, *extra: str) -> NodeProc:
        started.append(NodeProc(datadir, *extra))
        return started[-1]

    yield start
    for n in started:
        n.kill()


def _height(n) -> int:
    return n.call("status")["height"]


def _settled(n, quiet: float = 1.5) -> int:
    """The height once nothing mines any more: two reads `quiet` seconds apart agree."""
    deadline = time.monotonic() + 15
    h = _height(n)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        again = _height(n)
        if again == h:
            return h
        h = again
    raise AssertionError(f"still mining 15 s later (height {h})")


class LongCall:
    """`mine FOREVER` on its own connection and thread; `reply` once the node answers."""

    def __init__(self, n) -> None:
        self.reply: dict | None = None
        self.error: BaseException | None = None
        self.conn = http.client.HTTPConnection(n.host, n.port, timeout=120)
        body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "mine", "params": [FOREVER]}).encode()
        self.conn.request("POST", "/", body, {"Content-Type": "application/json", **n.auth()})
        self.thread = threading.Thread(target=self._wait, daemon=True)
        self.thread.start()

    def _wait(self) -> None:
        try:
            self.reply = json.loads(self.conn.getresponse().read())
        except BaseException as e:  # noqa: BLE001 — the test reads it
            self.error = e

    def join(self, timeout: float) -> dict:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the mine call still runs {timeout} s later"
        assert self.error is None, self.error
        return self.reply


def _wait_mining(n, above: int = 5) -> None:
    deadline = time.monotonic() + 20
    while _height(n) < above:
        assert time.monotonic() < deadline, "the long mine call mined nothing"
        time.sleep(0.1)


def test_killing_the_client_ends_its_mine_call(tmp_path, start_node):
    d = tmp_path / "chain"
    init_regtest(d)
    n = start_node(d)
    client = subprocess.Popen([sys.executable, "-m", "cli.main", "--datadir", str(d), "rpc", "mine",
                               str(FOREVER)], cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _wait_mining(n)
    finally:
        client.kill()
        client.wait(10)
    stopped_at = _settled(n)
    assert stopped_at < 100_000
    assert n.call("mining_get")["active"] is False
    n.call("mine", [2])  # the node still mines when asked
    assert _height(n) == stopped_at + 2


def test_mining_off_ends_a_running_mine_call(tmp_path, start_node):
    d = tmp_path / "chain"
    init_regtest(d)
    n = start_node(d)
    call = LongCall(n)
    _wait_mining(n)
    n.call("mining_set", ["off"])
    reply = call.join(15)
    result = reply["result"]
    assert result["stopped"]["reason"] == "mining-off"
    assert "mining was switched off" in result["stopped"]["message"]
    assert len(result["blocks"]) == result["height"] >= 5
    assert _settled(n) == result["height"]


def test_stopping_the_node_ends_a_running_mine_call(tmp_path, start_node):
    d = tmp_path / "chain"
    init_regtest(d)
    n = start_node(d)
    call = LongCall(n)
    _wait_mining(n)
    t0 = time.monotonic()
    n.proc.send_signal(signal.SIGTERM)
    assert n.proc.wait(20) == 0
    assert time.monotonic() - t0 < 15
    reply = call.join(10)
    assert reply["result"]["stopped"]["reason"] == "node-stopping"
    again = start_node(d)  # the store was closed cleanly after the call ended
    assert again.call("db_verify")["ok"]
    assert _height(again) == reply["result"]["height"]


def test_the_rpc_client_gets_every_block_and_progress_as_they_happen(tmp_path, start_node):
    d = tmp_path / "chain"
    init_regtest(d)
    n = start_node(d)
    client = RpcClient.for_datadir(d)
    seen, progress = [], []

    def on_block(b: dict) -> None:
        seen.append((b["height"], _height(n)))  # the node has this block already (it may mine on meanwhile)

    data = client.mine(4, on_block=on_block, progress=progress.append)
    assert [h for h, _ in seen] == [1, 2, 3, 4]
    assert all(head >= h for h, head in seen)
    assert [b["hash"] for b in data["mined"]] == data["blocks"]
    assert progress and all(isinstance(p, MiningProgress) and p.height in (1, 2, 3, 4) for p in progress)


def test_cli_mine_over_rpc_prints_a_line_per_block(tmp_path, start_node):
    d = tmp_path / "chain"
    init_regtest(d)
    start_node(d)
    p = subprocess.run([sys.executable, "-m", "cli.main", "--datadir", str(d), "mine", "-n", "3"],
                       cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = [line for line in p.stdout.splitlines() if line.startswith("mined block")]
    assert [line.split()[2] for line in lines] == ["1", "2", "3"]
