"""What a developer does to a local mempool (anvil's dropTransaction, a nonce of their choice) and what the
explorer then says: dropped (gone from memory and LevelDB, with an event), replaced by, queued behind a
nonce gap, and what a stake or unstake does."""

from __future__ import annotations

import pytest

from chain.errors import InvalidTx, NotFound, UsageError
from chain.params import COIN
from node import events as ev
from node.node import Node
from tests.functional.pos_helpers import (  # noqa: F401 (close_pos_nodes: autouse fixture)
    close_pos_nodes,
    drive_slots,
    pos_node,
)


@pytest.fixture
def node(tmp_path):
    n = Node.create(tmp_path / "a", "regtest")
    yield n
    n.close()


def pool_on_disk(node) -> set[str]:
    return {txid.hex() for txid, _ in node.store.iter_pool()}


def test_drop_removes_a_pending_tx_from_memory_and_disk_with_an_event(tmp_path, node):
    seen: list = []
    node.events.subscribe(seen.append)
    first = node.send("dev0", "dev1", COIN)["txid"]
    second = node.send("dev0", "dev1", 2 * COIN)["txid"]  # nonce 1, behind the one dropped
    assert pool_on_disk(node) == {first, second}

    out = node.drop_tx(first)
    assert out == {"txid": first, "sender": node.account("dev0")["address"], "nonce": 0, "queued": [second]}
    assert [e for e in seen if isinstance(e, ev.TxRemoved)] == [ev.TxRemoved(first, "dropped")]
    assert pool_on_disk(node) == {second}
    assert [t["txid"] for t in node.mempool_view()] == [second]
    gone = node.tx(first)
    assert (gone["status"], gone["removed_reason"], gone["replaced_by"]) == ("removed", "dropped", None)
    # the pool record is gone for good: a restart does not bring the transaction back, and the next process
    # on the data dir (an embedded CLI command) still knows why
    node.close()
    again = Node.open(tmp_path / "a")
    try:
        assert [t["txid"] for t in again.mempool_view()] == [second]
        assert again.tx(first)["removed_reason"] == "dropped"
    finally:
        again.close()


def test_drop_refuses_what_is_not_pending(node):
    sent = node.send("dev0", "dev1", COIN)["txid"]
    node.mine(1)
    with pytest.raises(NotFound) as e:
        node.drop_tx(sent)
    assert e.value.code == "tx-not-pending" and "already in a block" in e.value.message
    with pytest.raises(NotFound) as e:
        node.drop_tx("ab" * 32)
    assert e.value.code == "tx-not-pending"
    with pytest.raises(UsageError) as e:
        node.drop_tx("xyz")
    assert e.value.code == "bad-hash"


def test_a_gap_queues_later_nonces_until_it_fills(node):
    node.send("dev0", "dev1", COIN)  # nonce 0
    late = node.send("dev0", "dev1", COIN, nonce=3)
    assert late["ready"] is False
    rows = {t["nonce"]: t for t in node.mempool_view()}
    assert (rows[0]["ready"], rows[0]["waiting_for_nonce"]) == (True, None)
    assert (rows[3]["ready"], rows[3]["waiting_for_nonce"]) == (False, 1)
    assert (node.tx(late["txid"])["ready"], node.tx(late["txid"])["waiting_for_nonce"]) == (False, 1)
    node.send("dev0", "dev1", COIN, nonce=1)
    assert node.tx(late["txid"])["waiting_for_nonce"] == 2
    node.send("dev0", "dev1", COIN, nonce=2)
    assert all(t["ready"] for t in node.mempool_view())
    assert node.tx(late["txid"])["waiting_for_nonce"] is None


def test_a_replaced_tx_says_what_replaced_it(node):
    old = node.send("dev0", "dev1", COIN, fee=1_000)["txid"]
    new = node.send("dev0", "dev1", COIN, fee=2_000, nonce=0)
    assert new["replaced"] == old
    view = node.tx(old)
    assert (view["status"], view["removed_reason"]) == ("removed", "replaced")
    assert view["replaced_by"] == new["txid"]
    assert view["txid"] == old and view["nonce"] == 0 and view["fee"] == 1_000
    node.mine(1)
    assert node.tx(new["txid"])["status"] == "confirmed"
    assert node.tx(old)["replaced_by"] == new["txid"]


def test_the_removed_memory_is_bounded(node):
    node.removed_txs.limit = 3
    txids = []
    for fee in (1_000, 1_100, 1_300, 1_500, 1_700):  # each replaces the last (>= 10% more)
        txids.append(node.send("dev0", "dev1", COIN, fee=fee, nonce=0)["txid"])
    remembered = [node.removed_txs.get(bytes.fromhex(t)) is not None for t in txids]
    assert remembered == [False, True, True, True, False]  # the oldest left; the last is still pending


def test_stake_and_unstake_views_carry_what_they_do(tmp_path):
    node = pos_node(tmp_path)
    drive_slots(node, 1, 2)
    staked = node.stake("dev3", 32 * COIN, None, "33" * 32)
    unstaked = node.unstake("dev0", 0)
    pending = {t["kind"]: t for t in node.mempool_view()}
    stake = node.tx(staked["txid"])
    assert (stake["amount"], stake["amount_coins"]) == (32 * COIN, "32")
    assert stake["validator_pubkey"] == staked["validator_pubkey"]
    assert stake["validator_index"] is None  # not created yet: a new validator
    assert pending["stake"]["validator_index"] is None
    unstake = node.tx(unstaked["txid"])
    assert unstake["validator_index"] == 0 and "amount" not in unstake and "to" not in unstake
    assert pending["unstake"]["validator_index"] == 0

    drive_slots(node, 3, 3)
    created = node.params.genesis_validators
    assert node.tx(staked["txid"])["validator_index"] == created
    history = node.account_history("dev3")
    assert [(t["kind"], t["validator_index"], t["amount"]) for t in history] == [
        ("stake", created, 32 * COIN)]
    (view,) = [v for v in node.block(node.tx(staked["txid"])["height"], verbose=True)["tx_views"]
               if v["kind"] == "stake"]
    assert view["validator_index"] == created


def test_balance_errors_speak_coins(node):
    with pytest.raises(InvalidTx) as e:
        node.send("dev0", "dev1", 99_999_999_999 * COIN)
    assert e.value.code == "insufficient-balance"
    assert "99999999999.00001 coins" in e.value.message and "base units" not in e.value.message
    with pytest.raises(InvalidTx) as e:
        node.send("dev0", "dev1", COIN, fee=10)
    assert e.value.code == "fee-too-low" and "0.00001 coins" in e.value.message
