"""Explorer reads the TUI pages through: block pages, verbose blocks, account history, finality of a tx."""

from __future__ import annotations

import pytest

from chain import crypto
from chain.params import COIN
from node.maintenance import export_blocks, import_blocks
from node.node import Node
from tests.functional.pos_helpers import FakeClock, drive_slots


@pytest.fixture
def node(tmp_path):
    n = Node.create(tmp_path / "a", "regtest")
    yield n
    n.close()


def test_blocks_page_from_a_height(node):
    node.mine(12)
    page = node.blocks(last=5, start=7)
    assert [b["height"] for b in page] == [7, 6, 5, 4, 3]
    # confirmations count from the head (12), not from the page's top
    assert [b["confirmations"] for b in page] == [6, 7, 8, 9, 10]
    assert [b["height"] for b in node.blocks(last=5, start=2)] == [2, 1, 0]
    assert [b["height"] for b in node.blocks(last=2, start=99)] == [12, 11]


def test_verbose_block_carries_each_transaction(node):
    sent = [node.send("dev0", "dev1", COIN)["txid"], node.send("dev2", "dev3", 2 * COIN)["txid"]]
    node.mine(1)
    plain = node.block(1)
    assert "tx_views" not in plain
    full = node.block(1, verbose=True)
    assert sorted(v["txid"] for v in full["tx_views"]) == sorted(sent)
    assert {v["amount"] for v in full["tx_views"]} == {COIN, 2 * COIN}
    assert full["engine"] == "pow" and full["attestations"] == [] and full["evidence"] == []


def test_account_history_follows_reorgs(tmp_path):
    """
    genesis ── a1 (dev0 -> dev1) ── a2          node A
            └─ b1 ── b2 ── b3                     node B: more work; A's transfer is not in it
    """
    a = Node.create(tmp_path / "a", "regtest")
    b = Node.create(tmp_path / "b", "regtest")
    try:
        txid = a.send("dev0", "dev1", COIN)["txid"]
        a.mine(2)
        dev1 = crypto.encode_address(a.params.hrp, crypto.dev_keypair(1).address)
        history = a.account_history("dev1")
        assert [h["txid"] for h in history] == [txid]
        assert history[0]["height"] == 1 and history[0]["to"] == dev1
        assert [h["txid"] for h in a.account_history("dev0")] == [txid]
        assert a.account_history("dev5") == []
        b.mine(3)
        export_blocks(b, tmp_path / "b.blocks")
        result = import_blocks(a, tmp_path / "b.blocks")
        assert result["reorg"] == 1
        assert a.account_history("dev1") == []  # the block that held it is off the main chain
        a.mine(1)  # the transfer returned to the mempool and confirms again, at a new height
        again = a.account_history("dev1")
        assert [h["txid"] for h in again] == [txid] and again[0]["height"] == 4
    finally:
        a.close()
        b.close()


def test_tx_reports_finality_on_a_pos_chain(tmp_path):
    clock = FakeClock(1_800_000_000)
    n = Node.create(tmp_path / "p", "pos-devnet", clock=clock, slot_time=1.0)
    try:
        txid = n.send("dev0", "dev1", COIN)["txid"]
        drive_slots(n, 1, 2)
        assert n.tx(txid)["finalized"] is False
        drive_slots(n, 3, 40)  # five epochs: finality passes the transaction's block
        assert n.finality()["finalized_epoch"] >= 1
        assert n.tx(txid)["finalized"] is True
    finally:
        n.close()
