"""Bad proof-of-stake input is refused with its reason code and changes nothing: votes, slashing evidence that
proves no offence, stake and unstake transactions, and PoS headers (proposer, signature, slot, slashed
proposer).

Each block is valid in every other respect where the node's template builder can make it so; where the builder
(rightly) drops the bad item, the block is assembled by hand with the item in, since the rule under test is
checked before the state root. "Nothing changed" = head, stored head, state accumulator (live and stored),
every state record, the mempool (memory and disk) and the validators view.
"""

from __future__ import annotations

import pytest

from chain import crypto
from chain.consensus import pos
from chain.consensus.beacon import (
    AttestationData,
    AttesterSlashing,
    BlockOps,
    Checkpoint,
    ProposerSlashing,
    SignedHeader,
)
from chain.consensus.staking import Stake, dev_validator_key
from chain.errors import InvalidTx
from chain.tx import STAKE, make_stake, make_tx, make_unstake
from tests.functional.pos_helpers import (  # noqa: F401 (close_pos_nodes: autouse fixture)
    COIN,
    build_pos_block,
    close_pos_nodes,
    committee,
    drive_slots,
    forge_pos_block,
    honest_vote_data,
    key_of,
    pos_node,
    reject_block,
    reject_tx,
    set_slot,
    sign_vote,
)

FEE = 10_000  # above the relay minimum for a stake's size (5 base units per byte, ~250 bytes)


@pytest.fixture
def node(tmp_path):
    """A pos-devnet chain at slot 34 (epoch 4: justified 3, finalized 2), the clock at slot 35's start."""
    n = pos_node(tmp_path)
    spe = n.params.slots_per_epoch
    drive_slots(n, 1, 4 * spe + 2)
    f = n.finality()
    assert (f["justified_epoch"], f["finalized_epoch"]) == (3, 2)
    set_slot(n, 4 * spe + 3)
    return n


def next_slot(node) -> int:
    return node.chain.head.header.seal.slot + 1


def block_with_ops(node, slot: int, ops: BlockOps):
    """A block for `slot` carrying exactly `ops`: the node's own template if it keeps them all, else by
    hand."""
    template = build_pos_block(node, slot, ops=ops)
    if template.ops == ops:
        return template
    return forge_pos_block(node, slot, ops=ops)


def vote_ops(*atts) -> BlockOps:
    return BlockOps(attestations=tuple(atts))


# -- votes ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["head", "target"])
def test_vote_for_an_unknown_block(node, field):
    slot = next_slot(node)
    vote_slot = slot - 1
    data = honest_vote_data(node, vote_slot)
    nowhere = crypto.sha256(b"a block nobody has")
    if field == "head":
        data = AttestationData(data.slot, nowhere, data.source, data.target)
    else:
        data = AttestationData(data.slot, data.head, data.source, Checkpoint(data.target.epoch, nowhere))
    member = committee(node, vote_slot)[0]
    block = block_with_ops(node, slot, vote_ops(sign_vote(node, member, data)))
    # Its head or its target checkpoint names a block nobody has: either way a vote for an unknown block.
    reject_block(node, block, "attestation-unknown-block")


def test_vote_from_outside_its_committee(node):
    slot = next_slot(node)
    data = honest_vote_data(node, slot - 1)
    outsider = next(i for i in range(16) if i not in committee(node, slot - 1))
    block = block_with_ops(node, slot, vote_ops(sign_vote(node, outsider, data)))
    reject_block(node, block, "not-in-committee")


def test_vote_with_a_bad_signature(node):
    slot = next_slot(node)
    data = honest_vote_data(node, slot - 1)
    member = committee(node, slot - 1)[0]
    other = next(i for i in range(16) if i != member)
    forged = sign_vote(node, member, data, key=key_of(node, other))  # claims `member`, signed by another key
    reject_block(node, block_with_ops(node, slot, vote_ops(forged)), "bad-attestation-signature")


def test_vote_with_a_wrong_source(node):
    slot = next_slot(node)
    data = honest_vote_data(node, slot - 1)
    assert data.source.epoch == 3
    spe = node.params.slots_per_epoch
    stale = Checkpoint(2, node.chain.get_hash_at(2 * spe))  # finalized, but not the justified checkpoint
    member = committee(node, slot - 1)[0]
    vote = sign_vote(node, member, AttestationData(data.slot, data.head, stale, data.target))
    reject_block(node, block_with_ops(node, slot, vote_ops(vote)), "bad-source")


def test_honest_vote_control(node):
    """The same construction with nothing wrong is accepted: the refusals above are about the one field."""
    slot = next_slot(node)
    data = honest_vote_data(node, slot - 1)
    member = committee(node, slot - 1)[0]
    block = block_with_ops(node, slot, vote_ops(sign_vote(node, member, data)))
    assert node.accept_block(block).status == "connected"


# -- evidence that proves no offence ----------------------------------------------------------------------
def test_evidence_of_two_identical_votes(node):
    slot = next_slot(node)
    member = committee(node, slot - 1)[0]
    vote = sign_vote(node, member, honest_vote_data(node, slot - 1))
    ops = BlockOps(attester_slashings=(AttesterSlashing(vote, vote),))
    reject_block(node, block_with_ops(node, slot, ops), "bad-evidence")


def test_evidence_of_votes_for_different_targets_that_do_not_surround(node):
    slot = next_slot(node)
    spe = node.params.slots_per_epoch
    root = lambda e: node.chain.get_hash_at(e * spe)  # noqa: E731
    i = 4
    # 2 -> 3 then 3 -> 4: consecutive links, neither a double vote nor a surround.
    a = sign_vote(node, i, AttestationData(3 * spe + 1, root(3), Checkpoint(2, root(2)),
                                           Checkpoint(3, root(3))))
    b = sign_vote(node, i, AttestationData(4 * spe + 1, root(4), Checkpoint(3, root(3)),
                                           Checkpoint(4, root(4))))
    ops = BlockOps(attester_slashings=(AttesterSlashing(a, b),))
    reject_block(node, block_with_ops(node, slot, ops), "bad-evidence")


def test_evidence_of_two_headers_for_different_slots(node):
    slot = next_slot(node)
    by_proposer: dict[int, list] = {}
    for h in range(1, node.chain.head.height + 1):
        header = node.chain.get_block_at(h).header
        by_proposer.setdefault(header.seal.proposer_index, []).append(header)
    # 34 blocks, 16 proposers: someone proposed twice, at two different slots (signed, real headers).
    h1, h2 = next(hs[:2] for hs in by_proposer.values() if len(hs) >= 2)
    assert h1.seal.slot != h2.seal.slot
    ops = BlockOps(proposer_slashings=(ProposerSlashing(SignedHeader(h1.encode()),
                                                        SignedHeader(h2.encode())),))
    reject_block(node, block_with_ops(node, slot, ops), "bad-evidence")


# -- stake and unstake transactions ----------------------------------------------------------------------
def _stake_too_small(node):
    key = crypto.dev_keypair(3)
    nonce = node.chain.get_account(key.address).nonce
    return make_stake(node.params, nonce, FEE, key, dev_validator_key(100),
                      node.params.min_stake - 1).signed(key)


def _unstake_of_another(node):
    key = crypto.dev_keypair(3)  # validator 0 was staked by dev0
    assert node.validators()[0]["address"] != crypto.encode_address(node.params.hrp, key.address)
    nonce = node.chain.get_account(key.address).nonce
    return make_unstake(node.params, nonce, FEE, key.pubkey, 0).signed(key)


def _bad_stake_proof(node):
    key, other = crypto.dev_keypair(3), crypto.dev_keypair(4)
    vkey = dev_validator_key(100)
    # The validator key consented to be bonded by dev4, but dev3 sends the stake.
    proof = vkey.sign(pos.stake_message(node.params.chain_id, other.address))
    nonce = node.chain.get_account(key.address).nonce
    payload = Stake(vkey.pubkey, 32 * COIN, proof).encode()
    return make_tx(node.params.chain_id, STAKE, nonce, FEE, key.pubkey, payload).signed(key)


def _stake_to_another_accounts_validator(node):
    key = crypto.dev_keypair(3)  # validator 0's key belongs to a validator staked by dev0
    nonce = node.chain.get_account(key.address).nonce
    return make_stake(node.params, nonce, FEE, key, dev_validator_key(0), 32 * COIN).signed(key)


def _unstake_of_no_validator(node):
    key = crypto.dev_keypair(3)
    nonce = node.chain.get_account(key.address).nonce
    return make_unstake(node.params, nonce, FEE, key.pubkey, 999).signed(key)


TX_CASES = [(_stake_too_small, "stake-too-small"), (_unstake_of_another, "not-validator-owner"),
            (_bad_stake_proof, "bad-stake-proof"),
            (_stake_to_another_accounts_validator, "validator-owned-by-another"),
            (_unstake_of_no_validator, "unknown-validator")]


@pytest.mark.parametrize("make, code", TX_CASES, ids=[c for _, c in TX_CASES])
def test_bad_staking_tx_refused_by_the_mempool(node, make, code):
    reject_tx(node, make(node), code)


@pytest.mark.parametrize("make, code", TX_CASES, ids=[c for _, c in TX_CASES])
def test_bad_staking_tx_refused_in_a_block(node, make, code):
    slot = next_slot(node)
    tx = make(node)
    template = build_pos_block(node, slot, txs=[tx])
    assert tx not in template.txs, "the block template took a transaction the rules refuse"
    reject_block(node, forge_pos_block(node, slot, txs=[tx]), code)


def test_refused_stake_leaves_the_account_usable(node):
    """A stake the chain can never include must not sit in the pool holding the account's next nonce."""
    try:
        node.submit_tx(_stake_too_small(node))
    except InvalidTx:
        pass
    out = node.send("dev3", "dev5", COIN)
    slot = next_slot(node)
    drive_slots(node, slot, slot + 2)
    assert node.tx(out["txid"])["status"] == "confirmed", \
        "dev3's transfer is stuck behind a stake no block can take"


# -- PoS headers -------------------------------------------------------------------------------------------
def test_block_from_the_wrong_proposer(node):
    slot = next_slot(node)
    due = node.chain.get_proposer(slot)
    other = (due + 1) % 16
    reject_block(node, forge_pos_block(node, slot, proposer=other), "wrong-proposer")


def test_block_with_a_bad_proposer_signature(node):
    slot = next_slot(node)
    due = node.chain.get_proposer(slot)
    block = forge_pos_block(node, slot, proposer=due, signer=key_of(node, (due + 1) % 16),
                            randao_key=key_of(node, due))
    reject_block(node, block, "bad-proposer-signature")


def test_block_with_a_bad_randao_reveal(node):
    slot = next_slot(node)
    due = node.chain.get_proposer(slot)
    block = forge_pos_block(node, slot, proposer=due, randao_key=key_of(node, (due + 1) % 16))
    reject_block(node, block, "bad-randao-reveal")


def test_block_for_a_slot_in_the_future(node):
    slot = next_slot(node)
    ahead = slot + 2
    block = build_pos_block(node, ahead)  # valid in every respect but time
    reject_block(node, block, "slot-in-future")
    set_slot(node, ahead)
    assert node.accept_block(block).status == "connected"


def test_block_from_a_slashed_proposer(node):
    p = node.params
    spe = p.slots_per_epoch
    first = next_slot(node)
    epoch = first // spe
    # A validator due to propose later in this epoch (proposers of an epoch are fixed once it starts), not
    # now.
    due_now = node.chain.get_proposer(first)
    later = [(s, node.chain.get_proposer(s)) for s in range(first + 1, (epoch + 1) * spe)]
    target_slot, victim = next((s, v) for s, v in later if v != due_now)
    # Slash it now with surround-vote evidence (source 1 -> target 4 surrounds 2 -> 3).
    root = node.chain.get_hash_at(spe)
    a = sign_vote(node, victim, AttestationData(4 * spe, root, Checkpoint(1, root), Checkpoint(4, root)))
    b = sign_vote(node, victim, AttestationData(3 * spe, root, Checkpoint(2, root), Checkpoint(3, root)))
    slashing = build_pos_block(node, first, ops=BlockOps(attester_slashings=(AttesterSlashing(a, b),)))
    assert slashing.ops.attester_slashings
    node.accept_block(slashing)
    assert node.validators()[victim]["slashed"]
    drive_slots(node, first + 1, target_slot - 1)
    set_slot(node, target_slot)
    assert node.chain.get_proposer(target_slot) == victim, "still in the lottery until it exits (phase0)"
    reject_block(node, forge_pos_block(node, target_slot, proposer=victim), "proposer-slashed")
    # Its own duty loop leaves the slot empty.
    assert node.on_slot(target_slot) is None


def test_template_leaves_out_a_vote_the_block_would_be_refused_for(node):
    """The node's block template (what its own proposer and `template` build) must not take a vote that
    accept_block refuses, or a proposer holding one in its pool builds blocks nobody accepts."""
    slot = next_slot(node)
    data = honest_vote_data(node, slot - 1)
    bad = AttestationData(data.slot, crypto.sha256(b"a block nobody has"), data.source, data.target)
    vote = sign_vote(node, committee(node, slot - 1)[0], bad)
    template = build_pos_block(node, slot, ops=vote_ops(vote))
    assert vote not in template.ops.attestations, "the template took a vote for a block nobody has"
