"""Slot and epoch processing: roots, FFG, rewards and penalties, the inactivity leak, the validator queues."""

from __future__ import annotations

from chain.consensus import pos
from chain.consensus.beacon import FAR_FUTURE_EPOCH, FLAG_HEAD, FLAG_TARGET, ConsensusState
from chain.consensus.finality import weigh_justification_and_finalization
from chain.notes import Activating, Burned, Ejected, Leak, Minted, Withdrawn
from chain.params import Params
from chain.state import StateView, validator_key


def process_slots(view: StateView, params: Params, target_slot: int, parent_root: bytes) -> None:
    """Advance the consensus state to `target_slot`: remember the parent as the latest root of the slots
    it stays latest for, and run each epoch transition crossed on the way (phase0's process_slots)."""
    cs = pos.get_consensus_mut(view)
    while cs.slot < target_slot:
        cs.block_roots[cs.slot % len(cs.block_roots)] = parent_root
        if (cs.slot + 1) % params.slots_per_epoch == 0:
            process_epoch(view, cs, params)
        cs.slot += 1


def process_epoch(view: StateView, cs: ConsensusState, params: Params) -> None:
    """At the last slot of an epoch, in the spec's order."""
    current = pos.get_current_epoch(cs, params)
    validators = pos.get_validators(view, cs)
    total = pos.get_total_active_balance(validators, current, params)
    if current > 1:
        process_justification_and_finalization(view, cs, params, validators, current, total)
    if current > 0:
        process_rewards_and_penalties(view, cs, params, validators, current)
    process_registry_updates(view, cs, params, current)
    process_effective_balance_updates(view, cs, params)
    process_withdrawals(view, cs, params, current)
    cs.randao_mixes[(current + 1) % len(cs.randao_mixes)] = pos.get_randao_mix(cs, current)
    cs.previous_participation = cs.current_participation
    cs.current_participation = bytearray(cs.validator_count)


def _target_balance(validators, participation: bytearray, epoch: int) -> int:
    return sum(v.effective_balance for i, v in enumerate(validators)
               if v.is_active(epoch) and not v.slashed and participation[i] & FLAG_TARGET)


def process_justification_and_finalization(view, cs, params, validators, current, total) -> None:
    previous = current - 1
    changes = weigh_justification_and_finalization(
        cs, current, total,
        _target_balance(validators, cs.previous_participation, previous),
        _target_balance(validators, cs.current_participation, current),
        pos.get_checkpoint_root(cs, previous, params), pos.get_checkpoint_root(cs, current, params),
    )
    view.notes.extend(changes)


def get_finality_delay(cs: ConsensusState, params: Params) -> int:
    return max(pos.get_current_epoch(cs, params) - 1, 0) - cs.finalized.epoch


def is_in_inactivity_leak(cs: ConsensusState, params: Params) -> bool:
    return get_finality_delay(cs, params) > params.min_epochs_to_inactivity_penalty


def process_rewards_and_penalties(view, cs, params, validators, current) -> None:
    """Rewards for the previous epoch's votes (Altair's flag weights); penalties for missed source and target;
    in a leak no rewards, and every validator that missed the target loses eb * delay / quotient (phase0's
    inactivity penalty), which drains offline stake until the online validators hold 2/3 again."""
    previous = current - 1
    total = pos.get_total_active_balance(validators, previous, params)
    increment = params.effective_balance_increment
    delay = get_finality_delay(cs, params)
    leaking = delay > params.min_epochs_to_inactivity_penalty
    if leaking:
        cs.leak_epochs += 1
        view.notes.append(Leak(current, delay))
    else:
        cs.leak_epochs = 0
    unslashed = {flag: sum(v.effective_balance for i, v in enumerate(validators)
                           if v.is_active(previous) and not v.slashed and cs.previous_participation[i] & flag)
                 for flag, _ in pos.FLAG_WEIGHTS}
    minted = burned = leaked = 0  # for the supply ledger: what the balances actually gained and lost
    for i, v in enumerate(validators):
        eligible = v.is_active(previous) or (v.slashed and previous + 1 < v.withdrawable_epoch)
        if not eligible:
            continue
        base = pos.get_base_reward(v, total, params)
        flags = cs.previous_participation[i] if not v.slashed else 0
        reward = penalty = leak = 0
        for flag, weight in pos.FLAG_WEIGHTS:
            if flags & flag:
                if not leaking:
                    share = unslashed[flag] // increment
                    reward += base * weight * share // (total // increment * pos.WEIGHT_DENOMINATOR)
            elif flag != FLAG_HEAD:
                penalty += base * weight // pos.WEIGHT_DENOMINATOR
        if leaking and not flags & FLAG_TARGET:
            leak = v.effective_balance * delay // params.inactivity_penalty_quotient
        if reward or penalty or leak:
            m = pos.get_validator_mut(view, i)
            # a balance never goes below zero: the penalties take what there is, the leak's share last
            taken = min(m.balance + reward, penalty + leak)
            m.balance = m.balance + reward - taken
            minted += reward
            burned += min(taken, penalty)
            leaked += taken - min(taken, penalty)
    for note in (Minted("attestation_rewards", minted), Burned("penalties", burned), Burned("leak", leaked)):
        if note.amount:
            view.notes.append(note)


def process_registry_updates(view, cs, params, current) -> None:
    """Ejections below the ejection balance; the activation queue, churn-limited (phase0, without the
    requirement that eligibility be finalized: a devnet in a leak should still admit new stake)."""
    validators = pos.get_validators(view, cs)
    for i, v in enumerate(validators):
        low = v.effective_balance <= params.ejection_balance
        if v.is_active(current) and low and v.exit_epoch == FAR_FUTURE_EPOCH:
            pos.initiate_validator_exit(view, i, params)
            view.notes.append(Ejected(i, current))
    validators = pos.get_validators(view, cs)
    queue = sorted((v.activation_eligibility_epoch, i) for i, v in enumerate(validators)
                   if v.activation_epoch == FAR_FUTURE_EPOCH and v.activation_eligibility_epoch <= current)
    churn = pos.get_churn_limit(len(pos.get_active_indices(validators, current)), params)
    for _, i in queue[:churn]:
        m = pos.get_validator_mut(view, i)
        m.activation_epoch = current + params.activation_delay
        view.notes.append(Activating(i, m.activation_epoch))


def process_effective_balance_updates(view, cs, params) -> None:
    """phase0's hysteresis: move the effective balance only when the balance strays a quarter increment below
    or one and a quarter above it."""
    inc = params.effective_balance_increment
    down, up = inc // 4, inc * 5 // 4
    for i in range(cs.validator_count):
        v = view.get(validator_key(i))
        if v.balance + down < v.effective_balance or v.effective_balance + up < v.balance:
            m = pos.get_validator_mut(view, i)
            m.effective_balance = min(v.balance - v.balance % inc, params.max_effective_balance)


def process_withdrawals(view, cs, params, current) -> None:
    """The end of the lock-up: a withdrawable validator's whole balance returns to its account by itself."""
    for i in range(cs.validator_count):
        v = view.get(validator_key(i))
        if v.withdrawable_epoch <= current + 1 and v.balance > 0:
            m = pos.get_validator_mut(view, i)
            amount = m.balance
            m.balance = 0
            m.effective_balance = 0
            m.withdrawn += amount
            view.credit(m.withdrawal_address, amount)
            view.notes.append(Withdrawn(i, amount))
