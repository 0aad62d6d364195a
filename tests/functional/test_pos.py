"""Proof of stake end to end on a real node with a deterministic clock: finality, the inactivity leak,
slashing, the exit queue and withdrawals, staking, the merge, and a hybrid chain that never reverts a
finalized block.

Expected numbers are derived here from the spec's rules (phase0 FFG, Altair's weights) and the params; the
node is only asked what happened. Slot s starts at genesis + s * slot_time; epoch e is slots 8e .. 8e+7; an
epoch's transition (FFG, rewards, queues) runs when the first block past it arrives, and the node's views
advance the head state to the clock's slot, so reading at the first slot of e+1 shows epoch e's transition.
"""

from __future__ import annotations

import pytest

from chain import crypto
from chain.block import ENGINE_POS, ENGINE_POW, Block, Header
from chain.consensus.beacon import AttestationData, AttesterSlashing, BlockOps, Checkpoint
from chain.errors import InvalidBlock, InvalidTx, UsageError
from tests.functional.pos_helpers import (  # noqa: F401 (close_pos_nodes: autouse fixture)
    COIN,
    HEAD_W,
    OUTSIDER,
    SOURCE_W,
    TARGET_W,
    WEIGHT_DEN,
    EventLog,
    base_reward,
    build_pos_block,
    close_pos_nodes,
    drive_slots,
    genesis_supply,
    inclusion_reward,
    mine,
    missed_vote_penalty,
    pos_node,
    pow_node,
    set_slot,
    sign_vote,
    supply,
    validator_records,
)


def epoch_reward(eb: int, total: int, voted: int, params) -> int:
    """Altair: each flag pays base * weight * (voted balance / increment) / (total / increment * 64)."""
    inc = params.effective_balance_increment
    b = base_reward(eb, total, params)
    return sum(b * w * (voted // inc) // (total // inc * WEIGHT_DEN) for w in (SOURCE_W, TARGET_W, HEAD_W))


def active_total(snapshot: list[dict]) -> int:
    return sum(v["effective_balance"] for v in snapshot if v["status"] in ("active", "exiting"))


# -- (1) everyone online -------------------------------------------------------------------------------
def test_all_online_finality_advances_one_epoch_per_epoch(tmp_path):
    node = pos_node(tmp_path)
    log = EventLog(node)
    p = node.params
    spe = p.slots_per_epoch
    assert (p.genesis_validators, spe) == (16, 8)
    seen, snaps, proposers = {}, {}, {}
    for epoch in range(9):
        set_slot(node, max(1, epoch * spe))
        snaps[epoch] = node.validators()
        blocks = drive_slots(node, max(1, epoch * spe), epoch * spe + spe - 1)
        # Every validator is local and online: every slot from 1 on has its block.
        assert [b.header.seal.slot for b in blocks] == list(range(max(1, epoch * spe), epoch * spe + spe))
        proposers[epoch] = {b.header.seal.proposer_index for b in blocks}
        set_slot(node, (epoch + 1) * spe)
        f = node.finality()
        assert f["current_epoch"] == epoch + 1
        seen[epoch] = (f["justified_epoch"], f["finalized_epoch"])
        # Target votes of the epoch just ended, as included so far: two per slot, the last slot's votes wait
        # for the next block, and slot 0 (genesis) has none.
        assert f["participation"] == 2 * (spe - 1 - (epoch == 0)) / 16
        if f["finalized_epoch"]:
            assert f["finalized_root"] == node.chain.get_hash_at(f["finalized_epoch"] * spe).hex()
            assert f["justified_root"] == node.chain.get_hash_at(f["justified_epoch"] * spe).hex()
        assert not f["leaking"]
    assert node.chain.head.height == 9 * spe - 1

    # phase0: no FFG in epochs 0 and 1; at the end of epoch 2 epochs 1 and 2 both hold 2/3 (2 is justified);
    # at the end of epoch 3, 2 and 3 are justified in a row: 2 is finalized; then one more each epoch.
    expected = {0: (0, 0), 1: (0, 0), 2: (2, 0)} | {e: (e, e - 1) for e in range(3, 9)}
    assert seen == expected
    # Events come with the block that crosses the boundary: the last one crossed is the end of epoch 7.
    assert [e.epoch for e in log.of("CheckpointJustified")] == list(range(2, 8))
    assert [e.epoch for e in log.of("CheckpointFinalized")] == list(range(2, 7))

    # Rewards for timely correct votes: everyone voted source, target and head in epoch e-1, so at the end of
    # epoch e each validator that proposed nothing in epoch e gains exactly the three weighted base rewards.
    total = 16 * p.max_effective_balance
    for epoch in (3, 4, 5):
        for i in range(16):
            if i in proposers[epoch]:
                assert snaps[epoch + 1][i]["balance"] > snaps[epoch][i]["balance"]
                continue
            gain = snaps[epoch + 1][i]["balance"] - snaps[epoch][i]["balance"]
            assert gain == epoch_reward(p.max_effective_balance, total, total, p), (epoch, i)


# -- (2) six of sixteen offline ------------------------------------------------------------------------
def test_six_offline_stall_finality_leak_drains_them_and_finality_resumes(tmp_path):
    node = pos_node(tmp_path)
    log = EventLog(node)
    p = node.params
    spe = p.slots_per_epoch
    offline, online = list(range(10, 16)), list(range(10))
    assert 3 * len(online) < 2 * 16  # 10/16 < 2/3: no epoch can be justified while their stake is equal

    drive_slots(node, 1, 4 * spe - 1)  # epochs 0..3 with everyone
    set_slot(node, 4 * spe)
    f = node.finality()
    assert (f["justified_epoch"], f["finalized_epoch"]) == (3, 2)
    for i in offline:
        node.validator_fault(i, "offline")

    last = 16
    snaps = {4: node.validators()}
    fin = {4: (3, 2)}
    proposers = {}
    for e in range(4, last + 1):
        blocks = drive_slots(node, e * spe, e * spe + spe - 1)
        proposers[e] = {b.header.seal.proposer_index for b in blocks}
        assert not proposers[e] & set(offline), "an offline validator proposed"
        set_slot(node, (e + 1) * spe)
        snaps[e + 1] = node.validators()
        f = node.finality()
        fin[e + 1] = (f["justified_epoch"], f["finalized_epoch"])

    def eb(e: int, group) -> int:
        return sum(snaps[e][i]["effective_balance"] for i in group)

    # Finality resumes at the first epoch transition where the online validators' effective stake is 2/3 of
    # the total (equivalently: the offline stake is at most half the online stake).
    resume = next(e for e in range(5, last + 1) if 3 * eb(e, online) >= 2 * (eb(e, online) + eb(e, offline)))
    assert resume <= last - 3, "the leak should drain the offline stake within the run"
    assert 2 * eb(resume, offline) <= eb(resume, online) < 2 * eb(resume - 1, offline)
    for e in range(4, resume):
        assert fin[e + 1] == (3, 2), f"finality moved at the end of epoch {e} with only 10/16 online"
    assert fin[resume + 1][0] >= resume - 1, "the previous epoch is justified once online stake holds 2/3"
    assert fin[resume + 3][1] >= resume - 1, "finalization resumes two epochs later"
    assert fin[last + 1][1] > 2

    # The leak: finality delay = previous epoch - finalized epoch, leaking while it exceeds 4.
    def delay(e: int) -> int:
        return (e - 1) - fin[e + 1][1]

    leak_epochs = [e for e in range(4, last) if delay(e) > p.min_epochs_to_inactivity_penalty]
    assert leak_epochs and leak_epochs[0] == 3 + p.min_epochs_to_inactivity_penalty + 1  # delay 5 = (8-1) - 2
    events = log.of("InactivityLeak")
    assert [(ev.epoch, ev.finality_delay) for ev in events] == [(e, delay(e)) for e in leak_epochs]
    assert max(leak_epochs) < resume + 3, "the leak stops once finality is back"

    for e in range(5, last + 1):
        total = active_total(snaps[e])
        leaking = delay(e) > p.min_epochs_to_inactivity_penalty
        for i in offline:
            v = snaps[e][i]
            expected = v["balance"] - missed_vote_penalty(v["effective_balance"], total, p)
            if leaking:
                expected -= v["effective_balance"] * delay(e) // p.inactivity_penalty_quotient
            assert snaps[e + 1][i]["balance"] == expected, f"offline validator {i} at the end of epoch {e}"
        voted = eb(e, online)
        for i in online:
            gain = snaps[e + 1][i]["balance"] - snaps[e][i]["balance"]
            assert gain >= 0, f"online validator {i} lost {-gain} at the end of epoch {e}"
            if i not in proposers[e]:
                # In a leak the online validators earn nothing and lose nothing; otherwise Altair's rewards.
                want = 0 if leaking else epoch_reward(snaps[e][i]["effective_balance"], total, voted, p)
                assert gain == want, (e, i)
    assert all(snaps[last + 1][i]["balance"] < 32 * COIN - 6 * COIN for i in offline)


# -- (3) slashing ------------------------------------------------------------------------------------
def _drive_until_slashed(node, log, first: int, index: int, limit: int = 24):
    """Drive slot by slot until `index` is slashed; returns (slot, validator view just before the block)."""
    for slot in range(first, first + limit):
        set_slot(node, slot)
        before = node.validators()
        mark = log.mark()
        node.on_slot(slot)
        if log.since(mark, "ValidatorSlashed"):
            return slot, before
    raise AssertionError(f"validator {index} was not slashed within {limit} slots")


def _check_slashed(node, log, index: int, reason: str, slot: int, before: list[dict]):
    p = node.params
    spe = p.slots_per_epoch
    epoch = slot // spe
    eb = before[index]["effective_balance"]
    penalty = eb // p.min_slashing_penalty_quotient
    (event,) = log.of("ValidatorSlashed")
    assert (event.index, event.reason, event.penalty) == (index, reason, penalty)
    block = node.chain.get_block(node.chain.head.hash)
    assert block.header.seal.slot == slot
    after = node.validators()[index]
    assert after["slashed"] is True
    assert after["balance"] == before[index]["balance"] - penalty
    exit_epoch = epoch + p.activation_delay  # no other exit queued: the first free exit epoch
    assert after["exit_epoch"] == exit_epoch
    assert after["withdrawable_epoch"] == max(exit_epoch + p.withdrawal_delay,
                                              epoch + p.slashed_withdrawal_delay)
    assert after["withdrawable_epoch"] >= epoch + p.slashed_withdrawal_delay
    assert after["status"] == "exiting"
    # The whistleblower (the including proposer) is paid eb / whistleblower_reward_quotient on top of its
    # vote-inclusion rewards.
    proposer = block.header.seal.proposer_index
    assert proposer != index
    gained = node.validators()[proposer]["balance"] - before[proposer]["balance"]
    assert gained >= eb // p.whistleblower_reward_quotient
    return block


def test_double_vote_is_slashed_in_a_later_block(tmp_path):
    node = pos_node(tmp_path)
    log = EventLog(node)
    spe = node.params.slots_per_epoch
    drive_slots(node, 1, 2 * spe)
    # A committee member of a later slot of epoch 2 with no proposal before it (a proposal would use the
    # fault).
    cm = node.committees(2)["slots"]
    slot, index = next((s["slot"], i) for s in cm if s["slot"] > 2 * spe for i in s["committee"]
                       if all(x["proposer"] != i for x in cm if 2 * spe < x["slot"] <= s["slot"]))
    drive_slots(node, 2 * spe + 1, slot - 1)
    node.validator_fault(index, "equivocate")
    set_slot(node, slot)
    node.on_slot(slot)
    vote_block_height = node.chain.head.height
    votes = [e for e in log.of("AttestationSeen") if e.validator_index == index and e.slot == slot]
    assert (len(votes) == 2 and votes[0].head != votes[1].head
            and votes[0].target_epoch == votes[1].target_epoch)
    assert not log.of("ValidatorSlashed")

    slashed_at, before = _drive_until_slashed(node, log, slot + 1, index)
    block = _check_slashed(node, log, index, "double-vote", slashed_at, before)
    assert block.height > vote_block_height
    (ev,) = block.ops.attester_slashings
    a1, a2 = ev.attestation_1, ev.attestation_2
    assert a1.validator_index == a2.validator_index == index
    assert a1.data.target.epoch == a2.data.target.epoch and a1.data != a2.data

    # Forced out: after the exit epoch it is no longer in any committee; it never proposes again.
    exit_epoch = node.validators()[index]["exit_epoch"]
    blocks = drive_slots(node, slashed_at + 1, (exit_epoch + 1) * spe)
    assert index not in {b.header.seal.proposer_index for b in blocks}
    assert all(index not in s["committee"] for s in node.committees(exit_epoch + 1)["slots"])
    assert node.validators()[index]["status"] == "exited"
    assert len(log.of("ValidatorSlashed")) == 1


def test_double_proposal_is_slashed_in_a_later_block(tmp_path):
    node = pos_node(tmp_path)
    log = EventLog(node)
    spe = node.params.slots_per_epoch
    drive_slots(node, 1, 2 * spe)
    slot = 2 * spe + 3
    drive_slots(node, 2 * spe + 1, slot - 1)
    set_slot(node, slot)
    index = node.chain.get_proposer(slot)
    node.validator_fault(index, "equivocate")
    block = node.on_slot(slot)
    assert block is not None and block.header.seal.proposer_index == index
    # The twin: another block of the same slot by the same proposer, stored beside the first (a side block).
    same_slot = [b for b in (Block.decode(raw) for _, raw in node.store.iter_blocks_raw())
                 if b.header.is_pos and b.header.seal.slot == slot]
    assert len(same_slot) == 2 and {b.header.seal.proposer_index for b in same_slot} == {index}
    assert not log.of("ValidatorSlashed")

    slashed_at, before = _drive_until_slashed(node, log, slot + 1, index)
    slashing_block = _check_slashed(node, log, index, "double-proposal", slashed_at, before)
    assert slashing_block.height > block.height
    (ev,) = slashing_block.ops.proposer_slashings
    h1, h2 = Header.decode(ev.header_1.header), Header.decode(ev.header_2.header)
    assert (h1.seal.slot, h1.seal.proposer_index) == (h2.seal.slot, h2.seal.proposer_index) == (slot, index)
    assert h1.hash != h2.hash and block.hash in (h1.hash, h2.hash)
    # (A block from the slashed proposer is refused: test_pos_rejects.py, proposer-slashed.)


def test_surround_vote_evidence_slashes(tmp_path):
    node = pos_node(tmp_path)
    log = EventLog(node)
    p = node.params
    spe = p.slots_per_epoch
    drive_slots(node, 1, 4 * spe)
    index = 5
    root = node.chain.get_hash_at(spe)
    # Vote A: source 1 -> target 4 surrounds vote B: source 2 -> target 3 (phase0's surround rule).
    a = sign_vote(node, index, AttestationData(4 * spe, root, Checkpoint(1, root), Checkpoint(4, root)))
    b = sign_vote(node, index, AttestationData(3 * spe, root, Checkpoint(2, root), Checkpoint(3, root)))
    slot = 4 * spe + 1
    set_slot(node, slot)
    before = node.validators()
    block = build_pos_block(node, slot, ops=BlockOps(attester_slashings=(AttesterSlashing(a, b),)))
    assert len(block.ops.attester_slashings) == 1, "the template dropped valid surround-vote evidence"
    node.accept_block(block)
    assert node.chain.head.hash == block.hash
    _check_slashed(node, log, index, "surround-vote", slot, before)


# -- (4) unstake: exit queue, lock-up, withdrawal ------------------------------------------------------
def test_unstake_locks_funds_until_withdrawable_then_returns_them(tmp_path):
    node = pos_node(tmp_path)
    log = EventLog(node)
    p = node.params
    spe = p.slots_per_epoch
    owner = crypto.dev_keypair(0).address  # genesis validator i withdraws to dev account i (16 of each)
    drive_slots(node, 1, 2 * spe)
    out = node.unstake("dev0", 0)
    txid = bytes.fromhex(out["txid"])
    drive_slots(node, 2 * spe + 1, 2 * spe + 1)
    assert node.store.get_tx_location(txid) is not None, "the unstake was not included in the next block"
    epoch = (2 * spe + 1) // spe
    exit_epoch = epoch + p.activation_delay
    withdrawable = exit_epoch + p.withdrawal_delay
    v = node.validators()[0]
    assert (v["status"], v["exit_epoch"], v["withdrawable_epoch"]) == ("exiting", exit_epoch, withdrawable)
    assert [(e.index, e.epoch) for e in log.of("ValidatorExited")] == [(0, exit_epoch)]

    locked = node.chain.get_account(owner).balance
    fee = p.min_fee
    # Until the withdrawable epoch: the account holds exactly what it held, the validator keeps the rest.
    for slot in range(2 * spe + 2, withdrawable * spe):
        set_slot(node, slot)
        node.on_slot(slot)
        assert node.chain.get_account(owner).balance == locked, f"slot {slot}"
        if slot == (exit_epoch + 1) * spe:
            staked = node.validators()[0]["balance"]
            assert node.validators()[0]["status"] == "exited"
            assert all(0 not in s["committee"] for s in node.committees()["slots"])
            with pytest.raises(InvalidTx) as info:
                node.send("dev0", "dev1", locked - fee + staked, fee=fee)
            assert info.value.code == "insufficient-balance"
    # An exited validator neither earns nor loses: its balance is frozen until it is paid out.
    at_withdrawal = node.validators()[0]["balance"]
    assert at_withdrawal == staked > 0

    set_slot(node, withdrawable * spe)
    block = node.on_slot(withdrawable * spe)
    assert block is not None
    assert node.chain.get_account(owner).balance == locked + at_withdrawal
    v = node.validators()[0]
    assert (v["status"], v["balance"], v["effective_balance"]) == ("withdrawn", 0, 0)
    rec = validator_records(node)[0]
    assert rec.withdrawn == at_withdrawal and rec.deposited == p.max_effective_balance
    # Now the same transfer goes through.
    node.send("dev0", "dev1", locked - fee + at_withdrawal, fee=fee)
    drive_slots(node, withdrawable * spe + 1, withdrawable * spe + 2)
    assert node.chain.get_account(owner).balance == 0


# -- staking from a dev account ---------------------------------------------------------------------
def test_stake_from_a_dev_account_activates_and_earns(tmp_path):
    node = pos_node(tmp_path)
    log = EventLog(node)
    p = node.params
    spe = p.slots_per_epoch
    drive_slots(node, 1, spe + 1)
    sender = crypto.dev_keypair(3).address
    balance = node.chain.get_account(sender).balance
    out = node.stake("dev3", 32 * COIN)
    tx = node.mempool.get(bytes.fromhex(out["txid"]))
    drive_slots(node, spe + 2, spe + 2)
    assert node.store.get_tx_location(tx.txid) is not None
    assert node.chain.get_account(sender).balance == balance - 32 * COIN - tx.fee
    index = 16
    v = node.validators()[index]
    assert v["pubkey"] == out["validator_pubkey"] and v["local"]
    assert (v["status"], v["balance"], v["effective_balance"]) == ("pending", 32 * COIN, 32 * COIN)
    activation = (spe + 2) // spe + p.activation_delay  # eligible in the inclusion epoch, queued at its end
    drive_slots(node, spe + 3, 2 * spe)
    assert [(e.index, e.epoch) for e in log.of("ValidatorActivated")] == [(index, activation)]
    assert node.validators()[index]["activation_epoch"] == activation
    set_slot(node, activation * spe - 1)
    assert node.validators()[index]["status"] == "pending"
    assert all(index not in s["committee"] for s in node.committees(activation - 1)["slots"])
    drive_slots(node, 2 * spe + 1, activation * spe)
    assert node.validators()[index]["status"] == "active"
    assert sum(index in s["committee"] for s in node.committees(activation)["slots"]) == 1
    drive_slots(node, activation * spe + 1, (activation + 3) * spe)
    assert any(e.validator_index == index for e in log.of("AttestationSeen"))
    v = node.validators()[index]
    assert v["balance"] > 32 * COIN and v["rewards"] == v["balance"] - 32 * COIN > 0
    # Supply: nothing was created by staking; validators' net rewards are the only new money (PoS: no
    # subsidy).
    s = supply(node)
    assert s["deposited"] == genesis_supply(p) - p.dev_accounts * p.dev_balance + 32 * COIN
    assert s["total"] == genesis_supply(p) + s["validator_net_rewards"]


# -- (5) the merge -------------------------------------------------------------------------------------
def test_merge_pow_then_pos_validators_carry_over_supply_accounted(tmp_path):
    merge_height = 16
    node = pow_node(tmp_path, "merge", "merge-devnet", merge_height=merge_height)
    log = EventLog(node)
    p = node.params
    spe = p.slots_per_epoch
    miner = crypto.encode_address(p.hrp, OUTSIDER)
    mine(node, 2, to=miner)
    staker = crypto.dev_keypair(5).address
    before = node.chain.get_account(staker).balance
    out = node.stake("dev5", 32 * COIN)
    stake_tx = node.mempool.get(bytes.fromhex(out["txid"]))
    mine(node, 1, to=miner)
    assert node.store.get_tx_location(stake_tx.txid) is not None
    assert node.chain.get_account(staker).balance == before - 32 * COIN - stake_tx.fee
    index = p.genesis_validators
    assert validator_records(node)[index].deposited == 32 * COIN
    mine(node, merge_height - 1 - node.chain.head.height, to=miner)
    assert node.chain.head.height == merge_height - 1
    with pytest.raises(UsageError) as info:
        node.mine(1, to=miner)
    assert info.value.code == "pos-height"
    activation = 3 // spe + p.activation_delay  # staked in block 3 (epoch 0 of the PoW phase)
    assert [(e.index, e.epoch) for e in log.of("ValidatorActivated")] == [(index, activation)]

    # PoW phase supply: subsidy per block and, in this hybrid phase, the vote-inclusion share to the miner:
    # 16 validators, 2 per slot; block h carries the votes cast on block h-1 (block 1's parent, genesis, has
    # none).
    total_active = 16 * p.max_effective_balance
    pow_votes = sum(len(node.chain.get_block_at(h).ops.attestations) for h in range(1, merge_height))
    assert pow_votes == 2 * (merge_height - 2)
    subsidies = sum(p.block_reward(h) for h in range(1, merge_height))
    miner_inclusion = pow_votes * inclusion_reward(p.max_effective_balance, total_active, p)
    assert node.chain.get_account(OUTSIDER).balance == subsidies + stake_tx.fee + miner_inclusion

    # PoS from the merge height on: drive slots until the validator staked under PoW has proposed.
    proposed_by_it = None
    slot = merge_height
    while proposed_by_it is None and slot < merge_height + 12 * spe:
        set_slot(node, slot)
        block = node.on_slot(slot)
        if block is not None and block.header.seal.proposer_index == index:
            proposed_by_it = block
        slot += 1
    assert proposed_by_it is not None, "the validator staked before the merge never proposed after it"
    drive_slots(node, slot, (slot // spe + 1) * spe)
    head = node.chain.head.height
    engines = [node.chain.get_block_at(h).header.engine for h in range(1, head + 1)]
    assert engines == [ENGINE_POW] * (merge_height - 1) + [ENGINE_POS] * (head - merge_height + 1)
    assert any(att.validator_index == index for h in range(merge_height, head + 1)
               for att in node.chain.get_block_at(h).ops.attestations)
    v = node.validators()[index]
    assert v["status"] == "active" and v["balance"] > 32 * COIN
    f = node.finality()
    assert f["finalized_epoch"] >= slot // spe - 2 >= merge_height // spe + 2, \
        "finality continued across the merge"

    s = supply(node)
    assert s["deposited"] == 16 * p.max_effective_balance + 32 * COIN
    assert s["total"] == genesis_supply(p) + subsidies + miner_inclusion + s["validator_net_rewards"]
    with pytest.raises(UsageError):
        node.mine(1, to=miner)


# -- (6) hybrid: finalized checkpoints are never reverted --------------------------------------------------
def _two_hybrid_nodes(tmp_path):
    a = pow_node(tmp_path, "a", "hybrid-devnet")
    b = pow_node(tmp_path, "b", "hybrid-devnet")
    assert a.chain.get_hash_at(0) == b.chain.get_hash_at(0), "same preset, same genesis"
    for i in range(16):
        b.validator_fault(i, "offline")  # no votes reach B's branch
    return a, b


def _finalize(a, blocks: int):
    mine(a, blocks)
    f = a.finality()
    spe = a.params.slots_per_epoch
    # An epoch is 8 PoW blocks (block h is slot h); block h votes are included in block h+1. Block 8e crosses
    # the end of epoch e-1: with everyone voting, height 40 has justified epoch 4 and finalized 3 (block 24).
    height = a.chain.head.height
    assert height % spe == 0
    assert (f["justified_epoch"], f["finalized_epoch"]) == (height // spe - 1, height // spe - 2)
    assert f["finalized_root"] == a.chain.get_hash_at(f["finalized_epoch"] * spe).hex()
    return f


def test_hybrid_more_work_branch_conflicting_with_finality_is_refused(tmp_path):
    a, b = _two_hybrid_nodes(tmp_path)
    mine(a, 4)
    a.export_blocks(str(tmp_path / "prefix.blk"), 1, 4)
    b.import_blocks(str(tmp_path / "prefix.blk"))  # B shares A's first four blocks, then forks
    b.clock.now = a.clock.now
    f = _finalize(a, 36)
    head, finalized = a.chain.head.hash, (f["finalized_epoch"], f["finalized_root"])
    mine(b, 60)
    assert b.chain.head.chain_work > a.chain.head.chain_work
    assert b.finality()["justified_epoch"] == 0
    b.export_blocks(str(tmp_path / "b.blk"))
    a.clock.now = max(a.clock.now, b.clock.now)
    with pytest.raises(InvalidBlock) as info:
        a.import_blocks(str(tmp_path / "b.blk"))
    assert info.value.code == "finalized-conflict"
    assert a.chain.head.hash == head
    f = a.finality()
    assert (f["finalized_epoch"], f["finalized_root"]) == finalized
    # A carries on from its own head.
    mine(a, 1)
    assert a.chain.get_block_at(a.chain.head.height).header.parent == head


def test_hybrid_branch_without_the_justified_checkpoint_is_never_adopted(tmp_path):
    a, b = _two_hybrid_nodes(tmp_path)
    f = _finalize(a, 40)
    spe = a.params.slots_per_epoch
    # after the finalized checkpoint (24), before the justified one (32)
    fork = f["finalized_epoch"] * spe + 4
    a.export_blocks(str(tmp_path / "prefix.blk"), 1, fork)
    b.import_blocks(str(tmp_path / "prefix.blk"))
    b.clock.now = a.clock.now
    mine(b, 40)
    assert b.chain.head.chain_work > a.chain.head.chain_work
    b.export_blocks(str(tmp_path / "b.blk"), fork + 1)
    head = a.chain.head.hash
    a.clock.now = max(a.clock.now, b.clock.now)
    try:
        result = a.import_blocks(str(tmp_path / "b.blk"))
    except InvalidBlock as e:  # refusing outright is as good as keeping it aside
        assert e.code == "finalized-conflict", e
    else:
        assert result["reorg"] == 0 and result["side"] == 40
    assert a.chain.head.hash == head
    g = a.finality()
    assert (g["justified_epoch"], g["finalized_epoch"], g["finalized_root"]) == \
        (f["justified_epoch"], f["finalized_epoch"], f["finalized_root"])
    mine(a, 1)
    assert a.chain.get_block_at(a.chain.head.height).header.parent == head


def test_slashing_event_names_the_whistleblower(tmp_path):
    """ValidatorSlashed carries a `whistleblower` field: the proposer that included the evidence and was
    paid."""
    node = pos_node(tmp_path)
    log = EventLog(node)
    spe = node.params.slots_per_epoch
    drive_slots(node, 1, 4 * spe)
    root = node.chain.get_hash_at(spe)
    a = sign_vote(node, 5, AttestationData(4 * spe, root, Checkpoint(1, root), Checkpoint(4, root)))
    b = sign_vote(node, 5, AttestationData(3 * spe, root, Checkpoint(2, root), Checkpoint(3, root)))
    set_slot(node, 4 * spe + 1)
    block = build_pos_block(node, 4 * spe + 1, ops=BlockOps(attester_slashings=(AttesterSlashing(a, b),)))
    node.accept_block(block)
    (event,) = log.of("ValidatorSlashed")
    proposer = block.header.seal.proposer_index
    assert event.whistleblower == proposer, \
        f"ValidatorSlashed.whistleblower is {event.whistleblower}, not {proposer}"


# -- the chain a node builds is what any other node derives ----------------------------------------------
def test_pos_chain_replays_identically_on_a_fresh_node(tmp_path):
    """Export a PoS chain with a stake, an unstake, an offline validator and a slashing; a second node from
    the same genesis imports it through full validation and holds the same state, finality and
    validators."""
    a = pos_node(tmp_path, "a")
    b = pos_node(tmp_path, "b")
    assert a.chain.get_hash_at(0) == b.chain.get_hash_at(0)
    spe = a.params.slots_per_epoch
    drive_slots(a, 1, spe)
    a.stake("dev7", 40 * COIN)
    a.validator_fault(9, "offline")
    drive_slots(a, spe + 1, 2 * spe)
    a.unstake("dev2", 2)
    a.validator_fault(11, "equivocate")
    drive_slots(a, 2 * spe + 1, 6 * spe)
    assert any(v["slashed"] for v in a.validators()), "the equivocation should have been slashed by now"
    a.export_blocks(str(tmp_path / "a.blk"))
    b.clock.now = a.clock.now
    result = b.import_blocks(str(tmp_path / "a.blk"))
    assert result["connected"] + result["reorg"] > 0 and b.chain.head.hash == a.chain.head.hash
    assert b.chain.muhash.digest() == a.chain.muhash.digest() == a.chain.head.header.state_root
    assert dict(b.store.iter_state()) == dict(a.store.iter_state())
    assert b.finality() == a.finality()
    keys = ("index", "pubkey", "status", "effective_balance", "balance", "slashed", "activation_epoch",
            "exit_epoch", "withdrawable_epoch")
    assert ([{k: v[k] for k in keys} for v in b.validators()]
            == [{k: v[k] for k in keys} for v in a.validators()])
    assert b.verify()["ok"], b.verify()["errors"]


def test_hybrid_branch_with_a_higher_justified_checkpoint_wins_over_more_work(tmp_path):
    """EIP-1011 (the design's hybrid rule): fork choice = highest justified checkpoint, then most work. A
    branch whose votes justified a later checkpoint is adopted even though a vote-less branch has more
    work."""
    a, b = pow_node(tmp_path, "a", "hybrid-devnet"), pow_node(tmp_path, "b", "hybrid-devnet")
    spe = a.params.slots_per_epoch
    mine(a, 3 * spe)  # both sides share 24 blocks with everyone voting: epoch 2 justified
    a.export_blocks(str(tmp_path / "prefix.blk"))
    b.import_blocks(str(tmp_path / "prefix.blk"))
    b.clock.now = a.clock.now
    assert a.finality()["justified_epoch"] == b.finality()["justified_epoch"] == 2
    for i in range(16):
        a.validator_fault(i, "offline")  # A's miner goes on alone: more blocks, no votes
    mine(a, 30)
    mine(b, 2 * spe)  # B's blocks carry the votes: epochs 3 and 4 justified, 3 finalized
    fa, fb = a.finality(), b.finality()
    assert (fa["justified_epoch"], fa["finalized_epoch"]) == (2, 0)
    assert (fb["justified_epoch"], fb["finalized_epoch"]) == (4, 3)
    assert a.chain.head.chain_work > b.chain.head.chain_work
    b.export_blocks(str(tmp_path / "b.blk"), 3 * spe + 1)
    a.clock.now = max(a.clock.now, b.clock.now)
    a.import_blocks(str(tmp_path / "b.blk"))
    assert a.chain.head.hash == b.chain.head.hash, \
        "the branch with the higher justified checkpoint was not adopted"
    assert (a.finality()["justified_epoch"], a.finality()["finalized_epoch"]) == (4, 3)
