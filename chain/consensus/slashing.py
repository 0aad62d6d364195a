"""Slashing: evidence of double proposals, double votes and surround votes, and the penalty it brings."""

from __future__ import annotations

from chain import crypto
from chain.block import Header
from chain.consensus import pos
from chain.consensus.beacon import AttestationData, AttesterSlashing, ProposerSlashing
from chain.errors import DecodeError, InvalidBlock
from chain.params import Params
from chain.state import StateView


def is_slashable_attestation_data(a: AttestationData, b: AttestationData) -> str | None:
    """phase0's rule: the same target epoch with different votes, or one vote surrounding the other."""
    if a != b and a.target.epoch == b.target.epoch:
        return "double-vote"
    if a.source.epoch < b.source.epoch and b.target.epoch < a.target.epoch:
        return "surround-vote"
    if b.source.epoch < a.source.epoch and a.target.epoch < b.target.epoch:
        return "surround-vote"
    return None


def slash_validator(view: StateView, index: int, params: Params) -> tuple[int, int]:
    """Force the exit, extend the lock-up, cut the balance at once; returns (penalty, whistleblower
    reward)."""
    cs = pos.get_consensus(view)
    current = pos.get_current_epoch(cs, params)
    pos.initiate_validator_exit(view, index, params)
    v = pos.get_validator_mut(view, index)
    v.slashed = True
    v.withdrawable_epoch = max(v.withdrawable_epoch, current + params.slashed_withdrawal_delay)
    penalty = min(v.balance, v.effective_balance // params.min_slashing_penalty_quotient)
    v.balance -= penalty
    return penalty, v.effective_balance // params.whistleblower_reward_quotient


def check_proposer_slashing(view: StateView, ev: ProposerSlashing, params: Params) -> int:
    """Two different signed headers for one slot by one proposer; returns the proposer to slash."""
    try:
        h1, h2 = Header.decode(ev.header_1.header), Header.decode(ev.header_2.header)
    except DecodeError:
        raise InvalidBlock("bad-evidence", "slashing evidence holds a header that does not decode") from None
    if not (h1.is_pos and h2.is_pos):
        raise InvalidBlock("bad-evidence", "double-proposal evidence needs two proof-of-stake headers")
    if h1.seal.slot != h2.seal.slot or h1.seal.proposer_index != h2.seal.proposer_index:
        raise InvalidBlock("bad-evidence", "the two headers are for different slots or proposers: no offence")
    if h1.hash == h2.hash:
        raise InvalidBlock("bad-evidence", "the two headers are the same block: no offence")
    index = h1.seal.proposer_index
    cs = pos.get_consensus(view)
    if index >= cs.validator_count:
        raise InvalidBlock("bad-evidence", f"no validator {index}")
    v = pos.get_validator(view, index)
    if not v.is_slashable(pos.get_current_epoch(cs, params)):
        raise InvalidBlock("bad-evidence",
                           f"validator {index} is not slashable (already slashed or withdrawable)")
    for h in (h1, h2):
        if not crypto.verify(v.pubkey, h.seal.signature, pos.proposal_message(params.chain_id, h.hash)):
            raise InvalidBlock("bad-evidence", "a header in the evidence is not signed by its proposer")
    return index


def check_attester_slashing(view: StateView, ev: AttesterSlashing, params: Params) -> tuple[int, str]:
    """Two signed votes by one validator that break a voting rule; returns (validator, offence)."""
    a1, a2 = ev.attestation_1, ev.attestation_2
    if a1.validator_index != a2.validator_index:
        raise InvalidBlock("bad-evidence", "the two votes are by different validators")
    offence = is_slashable_attestation_data(a1.data, a2.data)
    if offence is None:
        raise InvalidBlock("bad-evidence",
                           "the two votes are neither a double vote nor a surround vote: no offence")
    cs = pos.get_consensus(view)
    index = a1.validator_index
    if index >= cs.validator_count:
        raise InvalidBlock("bad-evidence", f"no validator {index}")
    v = pos.get_validator(view, index)
    if not v.is_slashable(pos.get_current_epoch(cs, params)):
        raise InvalidBlock("bad-evidence",
                           f"validator {index} is not slashable (already slashed or withdrawable)")
    for a in (a1, a2):
        if not crypto.verify(v.pubkey, a.signature, pos.attestation_message(params.chain_id, a.data)):
            raise InvalidBlock("bad-evidence", "a vote in the evidence is not signed by its validator")
    return index, offence
