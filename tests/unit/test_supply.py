"""chain/supply.py: the per-block invariant the node checks (the balances move by exactly minted - burned),
its record's encoding, and the holdings by place."""

from __future__ import annotations

import pytest

from chain.consensus.beacon import Validator
from chain.errors import DecodeError, InvalidBlock
from chain.muhash import MuHash3072
from chain.notes import Burned, FeesPaid, Minted, Slashed
from chain.state import Account, StateView, account_key, validator_key
from chain.supply import SupplyRecord, compute_block_issuance, compute_block_supply, compute_genesis_supply

ALICE, BOB = b"\x01" * 20, b"\x02" * 20


def genesis() -> tuple[dict, SupplyRecord]:
    records = {account_key(ALICE): Account(1_000, 0), account_key(BOB): Account(500, 0),
               validator_key(0): Validator(b"\x03" * 32, ALICE, 300, 300, activation_epoch=0)}
    return records, compute_genesis_supply(records)


def view_over(records: dict) -> StateView:
    return StateView(records.get, MuHash3072())


def test_genesis_record_counts_every_balance_by_place():
    _, rec = genesis()
    assert (rec.genesis, rec.accounts, rec.bonded, rec.exiting) == (1_800, 1_500, 300, 0)
    assert rec.total == rec.expected_total == 1_800


def test_a_credit_without_a_note_is_refused_as_a_supply_imbalance():
    records, rec = genesis()
    view = view_over(records)
    view.credit(BOB, 50)  # coins from nowhere: no transition note says they were minted
    with pytest.raises(InvalidBlock) as info:
        compute_block_supply(rec, 1, view)
    assert info.value.code == "supply-imbalance" and "+0" in info.value.message


def test_minted_burned_and_moved_coins_balance():
    records, rec = genesis()
    view = view_over(records)
    view.credit(BOB, 50)
    view.notes.append(Minted("subsidy", 50))
    view.set_account(ALICE, Account(990, 1))  # a fee of 10 moved from Alice to Bob
    view.credit(BOB, 10)
    view.notes.append(FeesPaid(10))
    v = view.get_mut(validator_key(0))
    v.balance -= 40  # slashed 30, penalised 10
    v.exit_epoch = 5  # and forced out: its balance now waits as a pending withdrawal
    view.notes += [Slashed(0, "double-vote", 30, None), Burned("penalties", 10)]
    after = compute_block_supply(rec, 1, view)
    assert (after.subsidy, after.fees, after.slashing, after.penalties) == (50, 10, 30, 10)
    assert (after.accounts, after.bonded, after.exiting) == (1_550, 0, 260)
    assert after.total == after.expected_total == 1_800 + 50 - 40
    assert compute_block_issuance(after, rec)["net"] == 10


def test_a_burn_the_balances_do_not_show_is_an_imbalance_too():
    records, rec = genesis()
    view = view_over(records)
    view.notes.append(Burned("leak", 5))
    with pytest.raises(InvalidBlock) as info:
        compute_block_supply(rec, 1, view)
    assert info.value.code == "supply-imbalance"


def test_record_round_trips_and_rejects_trailing_bytes():
    _, rec = genesis()
    assert SupplyRecord.decode(rec.encode()) == rec
    with pytest.raises(DecodeError):
        SupplyRecord.decode(rec.encode() + b"\x00")
