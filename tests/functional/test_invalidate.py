"""invalidate_block / reconsider_block (bitcoind's invalidateblock / reconsiderblock) on real LevelDB.

    1 ── 2 ── 3 ── 4(pay) ── 5 ── 6        invalidate 4: head back to 3, pay in the mempool again,
               └── 4' ── …                 4, 5, 6 set aside (kept across a restart); reconsider 4: the
                                           heavier old branch is the head again
"""

from __future__ import annotations

import pytest

from chain.errors import InvalidBlock, NotFound, UsageError
from node.node import Node
from tests.functional.pos_helpers import close_pos_nodes, mine, pow_node  # noqa: F401 (autouse fixture)


def _regtest(tmp_path, name="a") -> Node:
    return Node.create(tmp_path / name, "regtest")


def test_invalidate_rewinds_to_the_parent_and_returns_the_txs_to_the_mempool(tmp_path):
    node = _regtest(tmp_path)
    try:
        node.mine(3)
        pay = node.send("dev0", "dev1", 10**8)["txid"]
        held = node.mine(1)["blocks"][0]
        node.mine(2)
        tip = node.status()["head"]
        out = node.invalidate_block(held)
        assert out["head_height"] == 3 and out["head"] == node.chain.get_hash_at(3).hex()
        assert [r["height"] for r in out["reverted"]] == [4, 5, 6]
        assert out["returned_to_mempool"] == [pay] and out["below_finality"] is False
        assert node.tx(pay)["status"] == "pending"
        assert node.block(held)["status"] == "invalidated" and node.block(tip)["status"] == "invalidated"
        with pytest.raises(InvalidBlock) as info:
            node.accept_block(node.chain.get_block(bytes.fromhex(tip)))
        assert info.value.code == "known-invalidated"
    finally:
        node.close()
    node = Node.open(tmp_path / "a")  # the marks and the rewind were written: a restart keeps both
    try:
        assert node.status()["height"] == 3
        assert node.block(held)["status"] == "invalidated"
        side = node.mine(1, to="dev2")["blocks"][0]  # 4': the node builds on the parent now
        assert node.block(side)["main_chain"] and node.tx(pay)["status"] == "confirmed"
        back = node.reconsider_block(held)
        assert back["head_moved"] is True and back["head"] == tip  # 6 blocks of work beat 4
        assert node.tx(pay)["block"] == held and node.block(held)["status"] == "valid"
        with pytest.raises(UsageError) as info:
            node.reconsider_block(held)
        assert info.value.code == "not-invalidated"
    finally:
        node.close()


def test_a_peer_block_on_an_invalidated_parent_is_ignored_not_rejected(tmp_path):
    a, b = _regtest(tmp_path, "a"), _regtest(tmp_path, "b")
    try:
        a.mine(3)
        a.export_blocks(str(tmp_path / "a.blk"))
        b.import_blocks(str(tmp_path / "a.blk"))
        child = b.mine(1)["blocks"][0]
        a.invalidate_block(3)
        with pytest.raises(InvalidBlock) as info:
            a.accept_block(b.chain.get_block(bytes.fromhex(child)))
        assert info.value.code == "parent-invalidated"
        from node.p2p.gossip import IGNORE, classify_block_error

        assert classify_block_error(info.value) == IGNORE  # the peer did nothing wrong
    finally:
        a.close()
        b.close()


def test_bad_idents(tmp_path):
    node = _regtest(tmp_path)
    try:
        node.mine(1)
        with pytest.raises(UsageError) as info:
            node.invalidate_block(0)
        assert info.value.code == "genesis-block"
        with pytest.raises(NotFound) as nf:
            node.invalidate_block("ab" * 32)
        assert nf.value.code == "block-not-found"
        with pytest.raises(UsageError) as bad:
            node.invalidate_block("xyz")
        assert bad.value.code == "bad-hash"
    finally:
        node.close()


def test_a_finalized_block_is_refused_without_the_override(tmp_path):
    node = pow_node(tmp_path, "h", "hybrid-devnet")
    mine(node, 40)  # every validator votes: epoch 3 (block 24) finalized
    f = node.finality()
    assert f["finalized_epoch"] == 3 and node.block(24)["hash"] == f["finalized_root"]
    head = node.status()["head"]
    with pytest.raises(UsageError) as info:
        node.invalidate_block(20)
    assert info.value.code == "finalized-block"
    assert node.status()["head"] == head and node.block(20)["status"] == "valid"
    out = node.invalidate_block(20, below_finality=True)
    assert out["below_finality"] is True and out["finalized_epoch"] == 3
    assert node.status()["height"] == 19
    assert node.finality()["finalized_epoch"] < 3  # the head's own record: the rewound branch's
    assert node.block(f["finalized_root"])["status"] == "invalidated"
    mine(node, 1)  # and the node builds on block 19 (its own check_finality follows its head)
    assert node.status()["height"] == 20 and node.block(20)["hash"] != out["invalidated"]


def test_the_cli_commands(tmp_path):
    import json

    from tests.functional.p2p.helpers import chaintop

    d = tmp_path / "cli"
    assert chaintop(d, "init", "--network", "regtest").returncode == 0
    assert chaintop(d, "mine", "--blocks", "3").returncode == 0
    r = chaintop(d, "invalidate", "2", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["head_height"] == 1 and len(out["marked"]) == 2
    r = chaintop(d, "invalidate", "0", "--json")
    assert r.returncode == 1 and json.loads(r.stderr)["error"]["reason"] == "genesis-block"
    r = chaintop(d, "reconsider", out["invalidated"], "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["head_height"] == 3


def test_a_side_block_is_only_marked(tmp_path):
    """    1 ── 2 ── 3      (main)
              └── 3b    (side, from b): invalidate 3b marks it; the head stays; reconsider clears it"""
    a, b = _regtest(tmp_path, "a"), _regtest(tmp_path, "b")
    try:
        a.mine(2)
        a.export_blocks(str(tmp_path / "a.blk"))
        b.import_blocks(str(tmp_path / "a.blk"))
        a.mine(1)
        side = b.mine(1, to="dev3")["blocks"][0]
        assert a.accept_block(b.chain.get_block(bytes.fromhex(side))).status == "side"
        head = a.status()["head"]
        out = a.invalidate_block(side)
        assert out["reverted"] == [] and out["marked"] == [side] and out["head"] == head
        assert a.block(side)["status"] == "invalidated"
        back = a.reconsider_block(side)
        assert back["cleared"] == [side] and back["head_moved"] is False and a.status()["head"] == head
    finally:
        a.close()
        b.close()
