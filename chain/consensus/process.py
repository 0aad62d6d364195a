"""Block processing beyond transactions: slots and epochs, the PoS header, votes and evidence, and payouts."""

from __future__ import annotations

from dataclasses import dataclass, field

from chain import crypto
from chain.block import Block, Header
from chain.consensus import pos
from chain.consensus.beacon import Attestation, AttesterSlashing, BlockOps, ProposerSlashing
from chain.consensus.epoch import process_slots
from chain.consensus.schedule import compute_epoch, uses_validators
from chain.consensus.slashing import check_attester_slashing, check_proposer_slashing, slash_validator
from chain.errors import InvalidBlock, InvalidTx
from chain.notes import FeesPaid, Minted, Slashed
from chain.params import Params
from chain.state import StateView


def block_slot(header: Header) -> int:
    """PoS blocks carry their slot; a PoW block's slot is its height (an epoch = slots_per_epoch blocks)."""
    return header.seal.slot if header.is_pos else header.height


@dataclass
class OpsOutcome:
    attestations: list[Attestation] = field(default_factory=list)
    proposer_slashings: list[ProposerSlashing] = field(default_factory=list)
    attester_slashings: list[AttesterSlashing] = field(default_factory=list)
    producer_reward: int = 0  # Altair's proposer share for included votes, plus whistleblower rewards

    def ops(self) -> BlockOps:
        return BlockOps(tuple(self.attestations), tuple(self.proposer_slashings),
                        tuple(self.attester_slashings))


def process_consensus_header(view: StateView, params: Params, header: Header,
                             check_signature: bool = True) -> int | None:
    """Advance slots (and epochs) to the block's slot; for a PoS block check proposer, signature and RANDAO
    reveal and mix the reveal in. Returns the proposer index (None for a PoW block)."""
    if not uses_validators(params):
        return None
    slot = block_slot(header)
    process_slots(view, params, slot, header.parent)
    if not header.is_pos:
        return None
    cs = pos.get_consensus(view)
    expected = pos.get_beacon_proposer(view, cs, slot, params)
    seal = header.seal
    if seal.proposer_index != expected:
        raise InvalidBlock("wrong-proposer",
                           f"slot {slot} belongs to validator {expected}, not {seal.proposer_index}")
    v = pos.get_validator(view, expected)
    if v.slashed:
        raise InvalidBlock("proposer-slashed", f"validator {expected} is slashed and may not propose")
    proposal = pos.proposal_message(params.chain_id, header.hash)
    if check_signature and not crypto.verify(v.pubkey, seal.signature, proposal):
        raise InvalidBlock("bad-proposer-signature", "the block is not signed by its proposer")
    epoch = compute_epoch(slot, params)
    if not crypto.verify(v.pubkey, seal.randao_reveal, pos.randao_message(params.chain_id, epoch)):
        raise InvalidBlock("bad-randao-reveal",
                           "the RANDAO reveal is not the proposer's signature of the epoch")
    cs = pos.get_consensus_mut(view)
    i = epoch % len(cs.randao_mixes)
    reveal_hash = crypto.sha256(seal.randao_reveal)
    cs.randao_mixes[i] = bytes(a ^ b for a, b in zip(cs.randao_mixes[i], reveal_hash, strict=True))
    return expected


def process_operations(view: StateView, params: Params, ops: BlockOps, strict: bool = True,
                       proposer: int | None = None,
                       verify_batch: crypto.BatchVerifier = crypto.verify_many) -> OpsOutcome:
    """Evidence first, then votes (the spec's order). strict: any bad operation invalidates the block;
    otherwise (building a template) bad ones are skipped. `verify_batch` checks the votes' signatures."""
    out = OpsOutcome()
    if not uses_validators(params):
        if ops and strict:
            raise InvalidBlock("unexpected-ops",
                               "this network has no validators; blocks carry no votes or evidence")
        return out

    def attempt(fn, item, bucket) -> None:
        child = view.fork()
        try:
            fn(child, item)
        except (InvalidBlock, InvalidTx):
            if strict:
                raise
            return
        view.absorb(child)
        bucket.append(item)

    def proposer_slashing(v: StateView, ev: ProposerSlashing) -> None:
        index = check_proposer_slashing(v, ev, params)
        penalty, whistle = slash_validator(v, index, params)
        out.producer_reward += whistle
        v.notes.append(Slashed(index, "double-proposal", penalty, proposer))
        v.notes.append(Minted("whistleblower", whistle))

    def attester_slashing(v: StateView, ev: AttesterSlashing) -> None:
        index, offence = check_attester_slashing(v, ev, params)
        penalty, whistle = slash_validator(v, index, params)
        out.producer_reward += whistle
        v.notes.append(Slashed(index, offence, penalty, proposer))
        v.notes.append(Minted("whistleblower", whistle))

    ctx = None

    def attestation(v: StateView, att: Attestation) -> None:
        reward = pos.process_attestation(v, att, params, ctx)
        out.producer_reward += reward
        if reward:
            v.notes.append(Minted("proposer_rewards", reward))

    for ev in ops.proposer_slashings:
        attempt(proposer_slashing, ev, out.proposer_slashings)
    for ev in ops.attester_slashings:
        attempt(attester_slashing, ev, out.attester_slashings)
    if ops.attestations:
        # after slashings: they change no committee
        ctx = pos.make_vote_context(view, ops.attestations, params, verify_batch)
    for att in ops.attestations:
        attempt(attestation, att, out.attestations)
    return out


def pay_out(view: StateView, params: Params, block: Block | Header, fees: int, producer_reward: int,
            proposer: int | None) -> None:
    """PoW: subsidy + fees + vote-inclusion rewards to the beneficiary. PoS: fees to the beneficiary (the fee
    recipient), the vote-inclusion and whistleblower rewards to the proposer's validator balance."""
    header = block.header if isinstance(block, Block) else block
    if fees:
        view.notes.append(FeesPaid(fees))
    if proposer is None:
        subsidy = params.block_reward(header.height)
        if subsidy:
            view.notes.append(Minted("subsidy", subsidy))
        payout = subsidy + fees + producer_reward
        if payout:
            view.credit(header.beneficiary, payout)
        return
    if fees:
        view.credit(header.beneficiary, fees)
    if producer_reward:
        v = pos.get_validator_mut(view, proposer)
        v.balance += producer_reward
