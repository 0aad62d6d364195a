"""What the network asks of the node, in wire bytes: run under the node lock through Node's facade methods.

No ZeroMQ here (the node imports this module); the p2p service decodes and classifies around these calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chain.block import Block
from chain.consensus import pos
from chain.consensus.beacon import Attestation, AttesterSlashing, ProposerSlashing
from chain.consensus.slashing import check_attester_slashing, check_proposer_slashing
from chain.errors import InvalidBlock
from node.p2p.messages import MAX_RESPONSE_BYTES

if TYPE_CHECKING:
    from node.node import Node

VOTE_SLOT_WINDOW_EPOCHS = 2  # a gossiped vote this far from the head's slot is IGNOREd (stale or early)


def chain_summary(node: Node) -> dict:
    """Genesis, head, height, cumulative work and the finalized checkpoint, for a Status message."""
    chain = node.chain
    cs = chain.consensus_state()
    finalized_epoch, finalized_root = (cs.finalized.epoch, cs.finalized.root) if cs else (0, bytes(32))
    justified_epoch = cs.current_justified.epoch if cs else 0
    return {"chain_id": node.params.chain_id, "genesis": chain.get_hash_at(0), "head": chain.head.hash,
            "height": chain.head.height, "chain_work": chain.head.chain_work,
            "finalized_epoch": finalized_epoch, "finalized_root": finalized_root,
            "justified_epoch": justified_epoch,
            "finalized_height": _finalized_height(node)}


def finality_conflict(node: Node, epoch: int, root: bytes) -> bool:
    """Whether a peer whose finalized checkpoint is (`epoch`, `root`) can never share our chain. Only a
    checkpoint no newer than ours can be judged here: on a chain that agrees with ours it is on our main
    chain (ours descends from it). A newer one is judged by syncing (finalized-conflict)."""
    cs = node.chain.consensus_state()
    if cs is None or epoch > cs.finalized.epoch or root == bytes(32):
        return False
    idx = node.chain.get_index(root)
    return idx is None or node.chain.get_hash_at(idx.height) != root


def _finalized_height(node: Node) -> int:
    cs = node.chain.consensus_state()
    if cs is None or cs.finalized.root == bytes(32):
        return 0
    return node.chain.checkpoint_block(cs.finalized.root).height


def blocks_by_range(node: Node, start: int, count: int) -> list[bytes]:
    """Main-chain blocks from height `start`, at most `count`, within one response's byte budget."""
    out, size = [], 0
    for height in range(start, start + count):
        raw = node.chain.get_block_raw_at(height)
        if raw is None or size + len(raw) > MAX_RESPONSE_BYTES:
            break
        out.append(raw)
        size += len(raw)
    return out


def blocks_by_root(node: Node, roots: list[bytes]) -> list[bytes]:
    """The stored blocks among `roots` (main chain or side branch), in the order asked."""
    out = []
    for root in roots:
        raw = node.store.get_block(root)
        if raw is not None:
            out.append(raw)
    return out


def block_raw(node: Node, block_hash: bytes) -> bytes | None:
    return node.store.get_block(block_hash)


def pending_txs(node: Node, limit: int) -> list[bytes]:
    """The mempool's transactions, best fee rate first (queued ones too: a peer may fill their gap)."""
    return [e.tx.encode() for e in node.mempool.sorted_entries()[:limit]]


def pending_tx(node: Node, txid: bytes) -> bytes | None:
    tx = node.mempool.get(txid)
    return tx.encode() if tx is not None else None


def is_known_block(node: Node, block_hash: bytes) -> bool:
    return node.chain.get_index(block_hash) is not None


def accept_vote(node: Node, att: Attestation) -> bool:
    """Validate a gossiped vote against the head and pool it; False if it is to be IGNOREd (not ours to
    judge yet: no validators here, unknown block, out of the slot window, seen). InvalidBlock: REJECT."""
    validator = node.validator
    if validator is None or att.id in validator.pool or att.id in validator.included:
        return False
    chain = node.chain
    if chain.get_index(att.data.head) is None:
        return False
    view = chain.new_view()
    cs = pos.get_consensus(view)
    window = VOTE_SLOT_WINDOW_EPOCHS * node.params.slots_per_epoch
    head_slot = cs.slot if chain.head.header.is_pos else chain.head.height
    if abs(att.data.slot - head_slot) > window:
        return False
    if att.validator_index >= cs.validator_count:
        raise InvalidBlock("not-in-committee", f"there is no validator {att.validator_index}")
    from chain import crypto

    key = pos.get_validator(view, att.validator_index).pubkey
    if not crypto.verify(key, att.signature, pos.attestation_message(node.params.chain_id, att.data)):
        raise InvalidBlock("bad-attestation-signature", f"vote of validator {att.validator_index} is not "
                                                        "signed by it")
    validator.add_attestation(att)
    return True


def accept_evidence(node: Node, evidence: ProposerSlashing | AttesterSlashing) -> bool:
    """Check slashing evidence against the head and keep it for the next block; False: IGNORE (known)."""
    validator = node.validator
    if validator is None:
        return False
    view = node.chain.new_view()
    if isinstance(evidence, ProposerSlashing):
        index = check_proposer_slashing(view, evidence, node.params)
        key = ("proposer", index)
    else:
        index, _ = check_attester_slashing(view, evidence, node.params)
        key = ("attester", index)
    if key in validator.evidence:
        return False
    validator.evidence[key] = evidence
    return True


def decode_block(raw: bytes) -> Block:
    return Block.decode(raw)
