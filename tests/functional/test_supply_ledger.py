"""The supply ledger on real chains: `supply` balances exactly (genesis + minted - burned == every balance)
at every height of a PoS chain through slashing, the inactivity leak and a withdrawal, across a merge, and
on a hybrid chain through the CLI; db verify catches a planted imbalance."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from chain import crypto
from chain.abc import ChainBatch
from chain.errors import UsageError
from chain.params import COIN
from chain.state import Account, account_key
from chain.supply import SupplyRecord
from tests.functional.pos_helpers import (  # noqa: F401 — close_pos_nodes is an autouse fixture
    close_pos_nodes,
    drive_slots,
    genesis_supply,
    mine,
    pos_node,
    pow_node,
    set_slot,
    supply,
)


def check_every_height(node) -> list[dict]:
    """supply --at h for every height: balanced, and its parts never shrink."""
    views = [node.supply(h) for h in range(node.chain.head.height + 1)]
    for v in views:
        assert v["balanced"], v
        assert v["total"] == v["expected_total"] == v["genesis"] + v["minted_total"] - v["burned_total"]
    for a, b in zip(views, views[1:], strict=False):
        for part in list(a["minted"]) + list(a["burned"]):
            bucket = "minted" if part in a["minted"] else "burned"
            assert b[bucket][part] >= a[bucket][part], (part, b["height"])
    return views


def check_head_against_state(node, view: dict) -> None:
    """The ledger's holdings are what the committed records hold."""
    s = supply(node)
    assert view["held"]["accounts"] == s["accounts"]
    assert view["held"]["stake_locked"] + view["held"]["pending_withdrawals"] == s["validators"]
    assert view["total"] == s["total"]


def test_pos_supply_balances_through_slashing_leak_and_withdrawal(tmp_path):
    node = pos_node(tmp_path)
    p = node.params
    spe = p.slots_per_epoch
    drive_slots(node, 1, 2 * spe)
    node.unstake("dev0", 0)  # validator 0 exits; its balance comes back after the withdrawal delay
    node.validator_fault(9, "equivocate")  # a double proposal or vote: slashed, with a whistleblower reward
    for i in range(10, 16):  # 6 of 16 offline: no 2/3, finality stalls, the leak starts
        node.validator_fault(i, "offline")
    drive_slots(node, 2 * spe + 1, 12 * spe)
    set_slot(node, 12 * spe + 1)

    head = node.supply()
    assert head["genesis"] == genesis_supply(p)
    assert head["minted"]["subsidy"] == 0  # no PoW on this chain
    assert head["moved"]["withdrawn"] > 0
    assert head["burned"]["slashing"] > 0 and head["minted"]["whistleblower"] > 0
    assert head["burned"]["leak"] > 0 and head["burned"]["penalties"] > 0
    assert head["minted"]["attestation_rewards"] > 0 and head["minted"]["proposer_rewards"] > 0
    check_head_against_state(node, head)
    views = check_every_height(node)
    # exiting validators' balances wait out the lock-up as pending withdrawals, still counted in the supply
    assert any(v["held"]["pending_withdrawals"] > 0 for v in views)
    assert node.verify()["ok"], node.verify()["errors"]
    issuance = head["issuance"]["pos"]
    assert issuance["stake"] == head["held"]["stake_locked"] and "3-15%" in issuance["explain"]


def test_merge_supply_balances_across_the_merge(tmp_path):
    merge_height = 10
    node = pow_node(tmp_path, "merge", "merge-devnet", merge_height=merge_height)
    p = node.params
    outsider = crypto.encode_address(p.hrp, crypto.sha256(b"an outside miner")[:20])
    node.send("dev1", "dev2", 3 * COIN, fee=5_000)
    mine(node, merge_height - 1, to=outsider)
    slot = merge_height - 1
    drive_slots(node, slot + 1, slot + 3 * p.slots_per_epoch)
    views = check_every_height(node)
    head = views[-1]
    assert head["minted"]["subsidy"] == sum(p.block_reward(h) for h in range(1, merge_height))
    assert head["moved"]["fees"] == 5_000
    assert head["issuance"].get("pow") is None  # validators propose from the merge on
    # block detail: what a PoW block minted, and that a PoS block mints no subsidy
    assert node.block(3)["issuance"]["subsidy"] == p.block_reward(3)
    assert node.block(merge_height)["issuance"]["subsidy"] == 0
    check_head_against_state(node, head)


def run_cli(datadir, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", "--datadir", str(datadir), *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env} if env else None)


def test_hybrid_supply_json_balances_and_db_verify_catches_a_planted_imbalance(tmp_path):
    node = pow_node(tmp_path, "hybrid", "hybrid-devnet")
    node.send("dev3", "dev4", 2 * COIN, fee=7_000)
    mine(node, 12)
    datadir = node.store.datadir
    node.close()

    out = run_cli(datadir, "supply", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["balanced"] and data["height"] == 12
    assert data["total"] == data["genesis"] + data["minted_total"] - data["burned_total"]
    assert data["minted"]["subsidy"] == 12 * 50 * COIN and data["moved"]["fees"] == 7_000
    assert data["minted"]["proposer_rewards"] > 0  # hybrid: the miner is paid for including the votes
    at = json.loads(run_cli(datadir, "supply", "--json", "--at", "5").stdout)
    assert at["height"] == 5 and at["minted"]["subsidy"] == 5 * 50 * COIN and at["balanced"]
    bad = run_cli(datadir, "supply", "--at", "13")
    assert bad.returncode != 0 and "bad-height" in bad.stderr and "Traceback" not in bad.stderr
    assert "issued" in run_cli(datadir, "block", "5").stdout  # the block's own issuance, in words

    # the energy model's watts come from the shell running the command (it may be an RPC client)
    energy = run_cli(datadir, "energy", "--json", env={"CHAINTOP_WATTS_PER_CORE": "30"})
    assert json.loads(energy.stdout)["model"]["watts_per_core"] == 30
    bad = run_cli(datadir, "energy", env={"CHAINTOP_WATTS_PER_CORE": "lots"})
    assert bad.returncode == 1 and "bad-watts" in bad.stderr and "Traceback" not in bad.stderr

    # Plant one base unit that no block minted: db verify must say so, in the supply ledger's words.
    from node.node import Node

    planted = Node.open(datadir)
    try:
        dev5 = crypto.dev_keypair(5).address
        acct = planted.chain.get_account(dev5)
        planted.store.commit(ChainBatch(state={account_key(dev5): Account(acct.balance + 1, acct.nonce)}))
        report = planted.verify()
        assert not report["ok"]
        supply_errors = [e for e in report["errors"] if e.startswith("supply:")]
        assert supply_errors and "(+1)" in supply_errors[0] and "height 12" in supply_errors[0]
        # and a ledger record that lies about what a block minted is caught at its height
        planted.store.commit(ChainBatch(state={account_key(dev5): acct}))
        h6 = planted.chain.get_hash_at(6)
        rec = SupplyRecord.decode(planted.store.get_supply(h6))
        lie = SupplyRecord(**{**rec.to_dict(), "subsidy": rec.subsidy + COIN})
        planted.store.commit(ChainBatch(supply={h6: lie.encode()}))
        errors = planted.verify()["errors"]
        assert any(e.startswith("supply: at height 6") for e in errors), errors
        assert all("height 6" in e for e in errors if e.startswith("supply:")), errors
    finally:
        planted.close()


def test_a_data_dir_older_than_the_ledger_starts_it_at_its_head(tmp_path):
    node = pow_node(tmp_path, "old", "hybrid-devnet")
    mine(node, 4)
    # as a data dir written before the ledger: no supply records at all
    node.store.commit(ChainBatch(supply={node.chain.get_hash_at(h): None for h in range(5)}))
    mine(node, 3)
    view = node.supply()
    assert view["since"] == 4 and view["balanced"] and view["minted"]["subsidy"] == 3 * 50 * COIN
    assert node.verify()["ok"], node.verify()["errors"]
    with pytest.raises(UsageError) as info:
        node.supply(2)
    assert info.value.code == "not-in-ledger" and "starts at height 4" in info.value.message
