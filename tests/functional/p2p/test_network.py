"""Networks of real node processes heal, survive a SIGKILL, and come up in one command (issue 12).

    A ── B          B is SIGKILLed, A goes on; B restarts, catches up, pulls A's pending txs, db verify clean
    A ── B          C cut off (net disconnect) mines the longer branch alone; net connect: one chain
     \\  /
      C
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.functional.p2p.helpers import BOUND, NodeProc, chaintop, init, peer_count, start_triangle, wait_for

pytestmark = pytest.mark.slow


def test_a_killed_node_restarts_catches_up_and_refills_its_mempool(tmp_path, procs):
    a = NodeProc(init(tmp_path / "a"), "--listen", "127.0.0.1:0")
    procs.append(a)
    b = NodeProc(init(tmp_path / "b"), "--peer", a.address)
    procs.append(b)
    a.client.mine(5)
    wait_for("B has A's 5 blocks", lambda: b.client.status()["height"] == 5)
    b.kill()  # SIGKILL: no Goodbye, no clean close
    a.client.mine(10)
    txid = a.client.send("dev0", "dev1", 10**8)["txid"]  # pending on A while B is down
    b = NodeProc(tmp_path / "b", "--peer", a.address)
    procs.append(b)
    head = a.client.status()["head"]
    wait_for("B caught up", lambda: b.client.status()["head"] == head)
    wait_for("B asked A for its pending txs", lambda: [t["txid"] for t in b.client.mempool_view()] == [txid])
    b.stop()
    r = chaintop(tmp_path / "b", "db", "verify", "--json")
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_partition_heals_into_the_heaviest_chain(tmp_path, procs):
    a, b, c = start_triangle(tmp_path, procs)
    # split C off: it says Goodbye to both and refuses them until `net connect`
    for peer in (a, b):
        r = chaintop(tmp_path / "c", "net", "disconnect", peer.address, "--json")
        assert r.returncode == 0, r.stderr
    wait_for("C alone", lambda: peer_count(c) == 0 and peer_count(a) == 1 and peer_count(b) == 1)
    assert sorted(c.client.peers()["disconnected"]) == sorted([a.address, b.address])
    a.client.mine(1)  # A and B: height 3
    c.client.mine(3, to="dev1")  # C alone: height 5, more work (another beneficiary: other blocks)
    wait_for("B follows A", lambda: b.client.status()["height"] == 3)
    assert c.client.status()["height"] == 5
    side_head = a.client.status()["head"]
    r = chaintop(tmp_path / "c", "net", "connect", a.address)
    assert r.returncode == 0, r.stderr
    head = c.client.status()["head"]
    wait_for("one chain again", lambda: all(n.client.status()["head"] == head for n in (a, b)))
    for n in (a, b):  # the lighter branch's block is off the main chain now
        assert n.client.block(side_head)["confirmations"] == 0


def test_devnet_up_status_down(tmp_path):
    root = tmp_path / "net"
    up = chaintop(tmp_path, "--network", "regtest", "devnet", "up", "--nodes", "3", "--dir", str(root),
                  "--block-time", "1.5", "--json", timeout=90)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        nodes = json.loads(up.stdout)["nodes"]
        assert [n["running"] for n in nodes] == [True] * 3
        assert [n["validators"] for n in nodes] == ["0/3", "1/3", "2/3"]

        def status() -> list[dict]:
            r = chaintop(tmp_path, "devnet", "status", "--dir", str(root), "--json")
            assert r.returncode == 0, r.stderr
            return json.loads(r.stdout)["nodes"]

        wait_for("every node has both others as peers", lambda: all(n["peers"] == 2 for n in status()))
        wait_for("blocks from more than one miner", lambda: _miners(nodes[0]["datadir"]) >= 2,
                 bound=BOUND * 2)
        rows = status()
        low = min(n["height"] for n in rows)
        hashes = {json.loads(chaintop(Path(n["datadir"]), "block", str(low - 1), "--json").stdout)["hash"]
                  for n in rows}
        assert len(hashes) == 1, "the nodes agree on every block below the tip"
    finally:
        down = chaintop(tmp_path, "devnet", "down", "--dir", str(root), "--json", timeout=90)
    assert down.returncode == 0, down.stderr
    assert sorted(json.loads(down.stdout)["stopped"]) == ["node1", "node2", "node3"]
    assert json.loads(down.stdout)["killed"] == []
    assert all(not n["running"] for n in json.loads(chaintop(tmp_path, "devnet", "status", "--dir", str(root),
                                                              "--json").stdout)["nodes"])


def _miners(datadir: str) -> int:
    r = chaintop(Path(datadir), "blocks", "--last", "30", "--json")
    if r.returncode != 0:
        return 0
    return len({b["beneficiary"] for b in json.loads(r.stdout) if b["height"] > 0})
