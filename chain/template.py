"""The block template: a block on the head from votes, evidence and candidate transactions, ready to seal."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chain import crypto
from chain.block import (
    ENGINE_POS,
    ENGINE_POW,
    HEADER_VERSION,
    Block,
    Header,
    PosSeal,
    PowSeal,
    compute_tx_root,
)
from chain.consensus import pos
from chain.consensus.beacon import EMPTY_OPS, BlockOps
from chain.consensus.process import pay_out, process_consensus_header, process_operations
from chain.consensus.schedule import compute_epoch
from chain.errors import ChaintopError, InvalidBlock, InvalidTx
from chain.state import StateView, Undo
from chain.transition import apply_tx
from chain.tx import Tx, check_tx

if TYPE_CHECKING:
    from chain.chainstate import ChainState

BLOCK_OVERHEAD = 300  # bytes for the header, the counts and slack, besides the ops and transactions


@dataclass(frozen=True, slots=True)
class PreparedState:
    """A PoW template's post-state, kept so that connecting the sealed block need not run the same state
    transition again. It applies only on the state it was built on (`parent` and the chain's `state_epoch`)
    and only to a block with the template's header prefix (everything but the nonce) and transactions, and no
    votes or evidence: a PoW transition never reads the nonce, and the template applied those transactions
    exactly as apply_block does (a template's votes are checked leniently, so a block with any is checked
    again in full)."""

    parent: bytes
    state_epoch: int
    template: Block
    view: StateView  # finished: its accumulator is the template's state root
    undo: Undo

    def applies_to(self, block: Block) -> bool:
        t = self.template
        return (not block.header.is_pos and not block.ops and not t.ops
                and block.header.pow_prefix() == t.header.pow_prefix() and block.txs == t.txs)


def build_block(chain: ChainState, beneficiary: bytes, candidates: Iterable[Tx], timestamp: int | None = None,
                ops: BlockOps = EMPTY_OPS, pos_slot: int | None = None,
                proposer_key: crypto.KeyPair | None = None) -> tuple[Block, list[tuple[Tx, ChaintopError]]]:
    """A block template on `chain`'s head: votes and evidence that still apply, then candidates in order,
    skipping (and returning) any that fail. With pos_slot and proposer_key, a signed PoS block for that slot;
    otherwise a PoW block to seal (timestamp: now, above the median time past, unless given)."""
    block, rejected, _ = prepare_block(chain, beneficiary, candidates, timestamp, ops, pos_slot, proposer_key)
    return block, rejected


def prepare_block(chain: ChainState, beneficiary: bytes, candidates: Iterable[Tx],
                  timestamp: int | None = None, ops: BlockOps = EMPTY_OPS, pos_slot: int | None = None,
                  proposer_key: crypto.KeyPair | None = None
                  ) -> tuple[Block, list[tuple[Tx, ChaintopError]], PreparedState]:
    """build_block, also returning the template's post-state (PreparedState) for ChainState.accept_block."""
    params = chain.params
    parent = chain.head
    height = parent.height + 1
    view = chain.new_view()
    if pos_slot is not None:
        reveal = proposer_key.sign(pos.randao_message(params.chain_id, compute_epoch(pos_slot, params)))
        ts = int(chain.slot_start_time(pos_slot, parent))
        seal: PowSeal | PosSeal = PosSeal(pos_slot, chain.get_proposer(pos_slot), reveal, bytes(64))
        engine = ENGINE_POS
    else:
        mtp = chain.get_median_time_past(parent)
        ts = max(int(chain.clock()), mtp + 1) if timestamp is None else timestamp
        seal, engine = PowSeal(chain.get_next_bits(parent), 0), ENGINE_POW
    draft = Header(HEADER_VERSION, height, parent.hash, ts, bytes(32), bytes(32), bytes(32), beneficiary,
                   engine, seal)
    try:
        proposer = process_consensus_header(view, params, draft, check_signature=False)
    except InvalidBlock as e:
        raise InvalidBlock(e.code, f"cannot build on the head: {e.message}") from None
    if proposer is not None:
        seal = PosSeal(pos_slot, proposer, seal.randao_reveal, bytes(64))
    ops = BlockOps(tuple(a for a in ops.attestations if chain.unknown_vote_block(a) is None),
                   ops.proposer_slashings, ops.attester_slashings)
    outcome = process_operations(view, params, ops, strict=False, proposer=proposer,
                                 verify_batch=chain.verify_batch)
    included: list[Tx] = []
    rejected: list[tuple[Tx, ChaintopError]] = []
    size = BLOCK_OVERHEAD + len(outcome.ops().encode())
    fees = 0
    for tx in candidates:
        if len(included) >= params.max_block_txs or size + tx.size > params.max_block_bytes:
            break
        attempt = view.fork()  # a failing tx leaves no trace
        try:
            check_tx(tx, params.chain_id, verify_signature=False)
            fees += apply_tx(attempt, tx, params)
        except InvalidTx as e:
            rejected.append((tx, e))
            continue
        view.absorb(attempt)
        included.append(tx)
        size += tx.size
    pay_out(view, params, draft, fees, outcome.producer_reward, proposer)
    undo = view.finish()
    block_ops = outcome.ops()
    header = Header(HEADER_VERSION, height, parent.hash, ts, compute_tx_root(included), block_ops.root(),
                    view.muhash.digest(), beneficiary, engine, seal)
    if proposer is not None:
        signature = proposer_key.sign(pos.proposal_message(params.chain_id, header.hash))
        header = header.replace(seal=PosSeal(pos_slot, proposer, seal.randao_reveal, signature))
    block = Block(header, tuple(included), block_ops)
    return block, rejected, PreparedState(parent.hash, chain.state_epoch, block, view, undo)
