"""Proof of stake over a StateView: validators, seeds, committees, proposers, slot processing, votes in
blocks."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from chain import crypto
from chain.cache import BoundedCache
from chain.consensus import committees as cm
from chain.consensus.beacon import (
    FAR_FUTURE_EPOCH,
    FLAG_HEAD,
    FLAG_SOURCE,
    FLAG_TARGET,
    Attestation,
    AttestationData,
    ConsensusState,
    Validator,
)
from chain.consensus.schedule import compute_epoch, compute_start_slot
from chain.errors import InvalidBlock
from chain.params import Params
from chain.state import TAG_CONSENSUS, StateView, validator_key

EPOCHS_HISTORY = 8  # randao mixes kept (a ring); seeds look back two epochs
ROOTS_HISTORY_EPOCHS = 2  # block roots kept: enough to check votes from this epoch and the last
# Altair's participation weights (of 64): votes for the right source, target and head, and the proposer's
# share.
TIMELY_SOURCE_WEIGHT, TIMELY_TARGET_WEIGHT, TIMELY_HEAD_WEIGHT, PROPOSER_WEIGHT = 14, 26, 14, 8
WEIGHT_DENOMINATOR = 64
FLAG_WEIGHTS = ((FLAG_SOURCE, TIMELY_SOURCE_WEIGHT), (FLAG_TARGET, TIMELY_TARGET_WEIGHT),
                (FLAG_HEAD, TIMELY_HEAD_WEIGHT))


# -- reading state ------------------------------------------------------------------------------
def get_consensus(view: StateView) -> ConsensusState:
    cs = view.get(TAG_CONSENSUS)
    if cs is None:
        raise InvalidBlock("no-consensus-state", "this chain has no proof-of-stake state")
    return cs


def get_consensus_mut(view: StateView) -> ConsensusState:
    return view.get_mut(TAG_CONSENSUS)


def get_validator(view: StateView, index: int) -> Validator:
    v = view.get(validator_key(index))
    if v is None:
        raise InvalidBlock("unknown-validator", f"no validator {index}")
    return v


def get_validator_mut(view: StateView, index: int) -> Validator:
    return view.get_mut(validator_key(index))


def get_validators(view: StateView, cs: ConsensusState) -> list[Validator]:
    return [view.get(validator_key(i)) for i in range(cs.validator_count)]


def get_current_epoch(cs: ConsensusState, params: Params) -> int:
    return compute_epoch(cs.slot, params)


def get_active_indices(validators: list[Validator], epoch: int) -> list[int]:
    return [i for i, v in enumerate(validators) if v.is_active(epoch)]


def get_total_active_balance(validators: list[Validator], epoch: int, params: Params) -> int:
    total = sum(v.effective_balance for v in validators if v.is_active(epoch))
    return max(params.effective_balance_increment, total)


def get_randao_mix(cs: ConsensusState, epoch: int) -> bytes:
    return cs.randao_mixes[epoch % len(cs.randao_mixes)]


def get_seed(cs: ConsensusState, epoch: int, domain: bytes) -> bytes:
    """phase0's get_seed with MIN_SEED_LOOKAHEAD = 1: the mix as it stood at the end of epoch - 2."""
    mix = get_randao_mix(cs, epoch + EPOCHS_HISTORY - 2)
    return hashlib.sha256(domain + epoch.to_bytes(8, "little") + mix).digest()


def get_block_root_at_slot(cs: ConsensusState, slot: int) -> bytes:
    """The root of the latest block at or before `slot`, for slots this state still remembers."""
    if not (cs.slot - len(cs.block_roots) <= slot < cs.slot):
        raise InvalidBlock("slot-out-of-range",
                           f"slot {slot} is outside the remembered roots (now at {cs.slot})")
    return cs.block_roots[slot % len(cs.block_roots)]


def get_checkpoint_root(cs: ConsensusState, epoch: int, params: Params) -> bytes:
    """Ethereum's epoch boundary block: the latest block at or before the epoch's first slot."""
    return get_block_root_at_slot(cs, compute_start_slot(epoch, params))


_COMMITTEES = BoundedCache(64)  # (seed, active set, sizes) -> committees: a few epochs' worth


def get_epoch_committees(view: StateView, cs: ConsensusState, epoch: int, params: Params,
                         validators: list[Validator] | None = None) -> list[list[int]]:
    """One committee per slot of the epoch, from a single whole-list swap-or-not shuffle (memoised)."""
    validators = validators if validators is not None else get_validators(view, cs)
    active = get_active_indices(validators, epoch)
    seed = get_seed(cs, epoch, b"attester")
    key = (seed, tuple(active), params.slots_per_epoch, params.shuffle_rounds)
    cached = _COMMITTEES.get(key)
    if cached is None:
        if not active:
            cached = [[] for _ in range(params.slots_per_epoch)]
        else:
            per_slot = cm.compute_epoch_committees(active, seed, params.slots_per_epoch, 1,
                                                   params.shuffle_rounds)
            cached = [slot[0] for slot in per_slot]
        _COMMITTEES.put(key, cached)
    return cached


def get_committee(view: StateView, cs: ConsensusState, slot: int, params: Params,
                  validators: list[Validator] | None = None) -> list[int]:
    committees = get_epoch_committees(view, cs, compute_epoch(slot, params), params, validators)
    return committees[slot % params.slots_per_epoch]


@dataclass
class VoteContext:
    """What every vote in one block shares: the validator set, the active stake, and signatures checked in
    bulk (by the injected batch verifier: the node's uses every core) before the votes are applied one by
    one."""

    validators: list[Validator]
    total_active: int
    signature_ok: dict[bytes, bool]
    committees: dict[int, set[int]] = field(default_factory=dict)


def make_vote_context(view: StateView, atts, params: Params,
                      verify_batch: crypto.BatchVerifier = crypto.verify_many) -> VoteContext:
    cs = get_consensus(view)
    validators = get_validators(view, cs)
    items, ids = [], []
    for a in atts:
        if a.validator_index < len(validators):
            message = attestation_message(params.chain_id, a.data)
            items.append((validators[a.validator_index].pubkey, a.signature, message))
            ids.append(a.id)
    results = verify_batch(items)
    total = get_total_active_balance(validators, get_current_epoch(cs, params), params)
    return VoteContext(validators, total, dict(zip(ids, results, strict=True)))


def get_beacon_proposer(view: StateView, cs: ConsensusState, slot: int, params: Params) -> int:
    """phase0's proposer: the shuffle walked with an effective-balance acceptance roll, seeded per slot."""
    epoch = compute_epoch(slot, params)
    validators = get_validators(view, cs)
    active = get_active_indices(validators, epoch)
    if not active:
        raise InvalidBlock("no-active-validators", f"no validator is active in epoch {epoch}")
    seed = hashlib.sha256(get_seed(cs, epoch, b"proposer") + slot.to_bytes(8, "little")).digest()
    balances = {i: validators[i].effective_balance for i in active}
    try:
        return cm.compute_proposer_index(active, balances, seed, params.max_effective_balance,
                                         params.shuffle_rounds)
    except ValueError as e:
        raise InvalidBlock("no-proposer", str(e)) from None


# -- the exit queue ---------------------------------------------------------------------------------
def get_churn_limit(active_count: int, params: Params) -> int:
    return max(params.churn_limit_min, active_count // params.churn_limit_quotient)


def initiate_validator_exit(view: StateView, index: int, params: Params) -> None:
    """phase0: join the exit queue (churn-limited per epoch); withdrawable a lock-up after the exit."""
    cs = get_consensus(view)
    v = get_validator(view, index)
    if v.exit_epoch != FAR_FUTURE_EPOCH:
        return
    validators = get_validators(view, cs)
    current = get_current_epoch(cs, params)
    exit_epochs = [x.exit_epoch for x in validators if x.exit_epoch != FAR_FUTURE_EPOCH]
    queue_epoch = max(exit_epochs + [current + params.activation_delay])
    churn = sum(1 for x in validators if x.exit_epoch == queue_epoch)
    if churn >= get_churn_limit(len(get_active_indices(validators, current)), params):
        queue_epoch += 1
    v = get_validator_mut(view, index)
    v.exit_epoch = queue_epoch
    v.withdrawable_epoch = queue_epoch + params.withdrawal_delay


# -- what validators sign (domain-separated, bound to the chain id) -------------------------------
def attestation_message(chain_id: int, data: AttestationData) -> bytes:
    return crypto.sha256(b"chaintop/attestation" + chain_id.to_bytes(4, "big") + data.encode())


def randao_message(chain_id: int, epoch: int) -> bytes:
    return crypto.sha256(b"chaintop/randao" + chain_id.to_bytes(4, "big") + epoch.to_bytes(8, "big"))


def proposal_message(chain_id: int, block_hash: bytes) -> bytes:
    return crypto.sha256(b"chaintop/proposal" + chain_id.to_bytes(4, "big") + block_hash)


def stake_message(chain_id: int, address: bytes) -> bytes:
    """Proof of possession: the validator key agrees to be bonded by this account."""
    return crypto.sha256(b"chaintop/stake" + chain_id.to_bytes(4, "big") + address)


# -- base rewards (Altair) --------------------------------------------------------------------------
def get_base_reward_per_increment(total_active: int, params: Params) -> int:
    return params.effective_balance_increment * params.base_reward_factor // max(1, math.isqrt(total_active))


def get_base_reward(v: Validator, total_active: int, params: Params) -> int:
    increments = v.effective_balance // params.effective_balance_increment
    return increments * get_base_reward_per_increment(total_active, params)


# -- votes inside blocks -----------------------------------------------------------------------------
def check_attestation(view: StateView, cs: ConsensusState, att: Attestation, params: Params,
                      ctx: VoteContext | None = None) -> tuple[int, int]:
    """Every rule for including `att` at the state's slot; returns (participation flags earned, epoch)."""
    data = att.data
    if att.validator_index >= cs.validator_count:
        raise InvalidBlock("not-in-committee", f"there is no validator {att.validator_index}")
    current = get_current_epoch(cs, params)
    previous = max(current - 1, 0)
    if data.target.epoch not in (previous, current):
        raise InvalidBlock("attestation-bad-epoch",
                           f"target epoch {data.target.epoch} is neither {previous} nor {current}")
    if data.target.epoch != compute_epoch(data.slot, params):
        raise InvalidBlock("attestation-bad-target", "the target epoch is not the epoch of the vote's slot")
    if not data.slot < cs.slot <= data.slot + params.slots_per_epoch:
        raise InvalidBlock("attestation-bad-slot",
                           f"a vote for slot {data.slot} cannot be included at slot {cs.slot}")
    if ctx is not None:
        committee = ctx.committees.get(data.slot)
        if committee is None:
            committee = set(get_committee(view, cs, data.slot, params, ctx.validators))
            ctx.committees[data.slot] = committee
    else:
        committee = get_committee(view, cs, data.slot, params)
    if att.validator_index not in committee:
        raise InvalidBlock("not-in-committee",
                           f"validator {att.validator_index} is not in the committee of slot {data.slot}")
    justified = cs.current_justified if data.target.epoch == current else cs.previous_justified
    if data.source != justified:
        raise InvalidBlock("bad-source", f"the vote's source (epoch {data.source.epoch}) is not the "
                                         f"justified checkpoint (epoch {justified.epoch})")
    if ctx is not None and att.id in ctx.signature_ok:
        ok = ctx.signature_ok[att.id]
    else:
        ok = crypto.verify(get_validator(view, att.validator_index).pubkey, att.signature,
                           attestation_message(params.chain_id, data))
    if not ok:
        raise InvalidBlock("bad-attestation-signature",
                           f"vote of validator {att.validator_index} is not signed by it")
    flags = FLAG_SOURCE
    if data.target.root == get_checkpoint_root(cs, data.target.epoch, params):
        flags |= FLAG_TARGET
        if data.head == get_block_root_at_slot(cs, data.slot):
            flags |= FLAG_HEAD
    return flags, data.target.epoch


def process_attestation(view: StateView, att: Attestation, params: Params,
                        ctx: VoteContext | None = None) -> int:
    """Record a vote's participation flags; returns the proposer's reward for including it (Altair's
    share)."""
    cs = get_consensus(view)
    flags, epoch = check_attestation(view, cs, att, params, ctx)
    cs = get_consensus_mut(view)
    is_current = epoch == get_current_epoch(cs, params)
    participation = cs.current_participation if is_current else cs.previous_participation
    i = att.validator_index
    new = flags & ~participation[i]
    if not new:
        # counted already (a repeat, or a second, conflicting vote: that one is evidence, not credit)
        return 0
    participation[i] |= new
    if ctx is not None:
        validators, total = ctx.validators, ctx.total_active
    else:
        validators = get_validators(view, cs)
        total = get_total_active_balance(validators, get_current_epoch(cs, params), params)
    base = get_base_reward(validators[i], total, params)
    numerator = sum(base * weight for flag, weight in FLAG_WEIGHTS if new & flag)
    return numerator // ((WEIGHT_DENOMINATOR - PROPOSER_WEIGHT) * WEIGHT_DENOMINATOR // PROPOSER_WEIGHT)
