"""A partition never reverts a finalized block (hybrid: PoW blocks, FFG votes gossiped between nodes).

    genesis ── … ── F (finalized, both saw it) ── … ── A's branch: A holds 3/4 of the stake, keeps finalizing
                                              └── … ── B's branch: B (1/4) mines more blocks, more work

When they meet again A keeps its chain (its finalized checkpoint is never reverted, whatever the work) and
B, whose branch justifies nothing newer, switches to A's: fork choice is the highest justified checkpoint,
then most work (EIP-1011).
"""

from __future__ import annotations

import shutil
import time

import pytest

from tests.functional.p2p.helpers import NodeProc, chaintop, init, peer_count, wait_for

pytestmark = pytest.mark.slow


def _mine_until(node: NodeProc, done, limit: int = 80) -> None:
    for _ in range(limit):
        if done():
            return
        node.client.mine(1)
    assert done(), node.client.finality()


def test_a_partition_never_reverts_a_finalized_block(tmp_path, procs):
    a = NodeProc(init(tmp_path / "a", "hybrid-devnet"), "--listen", "127.0.0.1:0", "--validators", "0,1,2/4")
    procs.append(a)
    b = NodeProc(init(tmp_path / "b", "hybrid-devnet"), "--peer", a.address, "--validators", "3/4")
    procs.append(b)
    wait_for("peered", lambda: peer_count(a) == 1)
    _mine_until(a, lambda: a.client.finality()["finalized_epoch"] >= 1)
    head = a.client.status()["head"]
    wait_for("B has A's chain", lambda: b.client.status()["head"] == head)
    assert b.client.finality()["finalized_epoch"] == a.client.finality()["finalized_epoch"]

    r = chaintop(tmp_path / "b", "net", "disconnect", a.address)
    assert r.returncode == 0, r.stderr
    wait_for("split", lambda: peer_count(a) == 0 and peer_count(b) == 0)
    before = a.client.finality()["finalized_epoch"]
    _mine_until(a, lambda: a.client.finality()["finalized_epoch"] >= before + 1)
    finalized = a.client.finality()
    a_height = a.client.status()["height"]
    for _ in range(a_height - b.client.status()["height"] + 8):  # B's branch: more blocks, more work
        b.client.mine(1, to="dev1")
    assert int(b.client.status()["chain_work"], 16) > int(a.client.status()["chain_work"], 16)
    assert b.client.finality()["justified_epoch"] < finalized["justified_epoch"]

    r = chaintop(tmp_path / "b", "net", "connect", a.address)
    assert r.returncode == 0, r.stderr
    wait_for("B joined A's chain", lambda: b.client.status()["head"] == a.client.status()["head"])
    assert a.client.status()["height"] == a_height  # A did not move to the heavier branch
    root = finalized["finalized_root"]
    for node in (a, b):
        assert node.client.block(root)["main_chain"], "the finalized checkpoint stays on the main chain"


def test_two_chains_that_finalized_apart_refuse_each_other_and_say_why(tmp_path, procs):
    """pos-devnet, one genesis, two nodes that never met, each running every validator: each finalizes its
    own branch (a tx on A's makes them differ). Connected, they cannot join (finalized blocks never revert):
    Goodbye, irrelevant network, no redial, and `peers` says why on both sides."""
    r = chaintop(tmp_path / "a", "init", "--network", "pos-devnet", "--slot-time", "0.5")
    assert r.returncode == 0, r.stderr
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # the same genesis (a PoS genesis is stamped at init)
    a = NodeProc(tmp_path / "a", "--listen", "127.0.0.1:0")
    procs.append(a)
    b = NodeProc(tmp_path / "b", "--listen", "127.0.0.1:0")
    procs.append(b)
    a.client.send("dev0", "dev1", 10**8)
    for n in (a, b):
        wait_for("finalized alone", lambda n=n: n.client.finality()["finalized_epoch"] >= 2)
    roots = {n.client.finality()["finalized_root"] for n in (a, b)}
    assert len(roots) == 2, "two branches"

    r = chaintop(tmp_path / "a", "net", "connect", b.address)
    assert r.returncode == 0, r.stderr
    wait_for("A refused B", lambda: a.client.peers()["conflicts"])
    wait_for("B knows why", lambda: b.client.peers()["conflicts"])
    for n, other in ((a, b), (b, a)):
        view = n.client.peers()
        assert view["peers"] == [] and [c["address"] for c in view["conflicts"]] == [other.address]
        assert "finalized checkpoint" in view["conflicts"][0]["reason"]
    r = chaintop(tmp_path / "a", "peers")
    assert r.returncode == 0 and "finality conflict" in r.stdout
    time.sleep(2)  # no redial: still apart, each on its own finalized chain
    assert a.client.peers()["peers"] == [] and b.client.peers()["peers"] == []
    for n in (a, b):
        assert n.client.block(n.client.finality()["finalized_root"])["main_chain"]
