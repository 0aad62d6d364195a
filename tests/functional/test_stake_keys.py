"""A validator key belongs to the account whose stake creates it: another account's stake naming the same key
is refused at submission (it used to be admitted, then vanish from the mempool and the chain)."""

from __future__ import annotations

import pytest

from chain.consensus.staking import dev_validator_key
from chain.errors import InvalidTx
from tests.functional.pos_helpers import (  # noqa: F401 (close_pos_nodes: autouse fixture)
    COIN,
    close_pos_nodes,
    drive_slots,
    pos_node,
)

SEED = "22" * 32  # a validator key no genesis validator uses


@pytest.fixture
def node(tmp_path):
    n = pos_node(tmp_path)
    drive_slots(n, 1, 2)
    return n


def pool_on_disk(node) -> set[bytes]:
    return {txid for txid, _ in node.store.iter_pool()}


def test_a_key_claimed_by_another_accounts_pending_stake_is_refused(node):
    first = node.stake("dev1", 32 * COIN, None, SEED)
    before = set(node.mempool.entries), pool_on_disk(node), node.account("dev2")["next_nonce"]
    with pytest.raises(InvalidTx) as e:
        node.stake("dev2", 32 * COIN, None, SEED)
    assert e.value.code == "duplicate-validator-key"
    assert first["txid"][:16] in e.value.message
    assert (set(node.mempool.entries), pool_on_disk(node), node.account("dev2")["next_nonce"]) == before
    drive_slots(node, 3, 3)
    (created,) = [v for v in node.validators() if v["pubkey"] == first["validator_pubkey"]]
    assert created["address"] == node.account("dev1")["address"]
    assert node.tx(first["txid"])["status"] == "confirmed"


def test_a_key_of_another_accounts_validator_is_refused(node):
    owner_of_0 = node.validators()[0]["address"]
    assert owner_of_0 != node.account("dev3")["address"]
    with pytest.raises(InvalidTx) as e:
        node.stake("dev3", 32 * COIN, None, dev_validator_key(0).seed().hex())
    assert e.value.code == "validator-owned-by-another"
    assert len(node.mempool) == 0


def test_the_same_accounts_second_stake_on_a_pending_key_tops_it_up(node):
    first = node.stake("dev1", 32 * COIN, None, SEED)
    second = node.stake("dev1", 32 * COIN, None, SEED)
    drive_slots(node, 3, 4)
    assert node.tx(first["txid"])["status"] == node.tx(second["txid"])["status"] == "confirmed"
    (created,) = [v for v in node.validators() if v["pubkey"] == first["validator_pubkey"]]
    assert created["balance"] == 64 * COIN
