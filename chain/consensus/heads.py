"""Proof-of-stake questions asked of a head: its state at a slot, who proposes that slot, what an honest
validator votes for, and the stake each latest vote weighs in fork choice.

Each takes `new_view`, a factory of fresh views over the head's committed state (ChainState.new_view), so
the answers never change the chain."""

from __future__ import annotations

from collections.abc import Callable

from chain.abc import BlockIndex
from chain.consensus import pos
from chain.consensus.beacon import Checkpoint
from chain.consensus.epoch import process_slots
from chain.consensus.process import block_slot
from chain.consensus.schedule import compute_epoch, compute_start_slot
from chain.params import Params
from chain.state import StateView

ViewFactory = Callable[[], StateView]


def get_head_view_at_slot(new_view: ViewFactory, head: BlockIndex, slot: int, params: Params) -> StateView:
    """The head's state advanced through empty slots to `slot` (epoch transitions included): what a proposer
    or voter at that slot sees."""
    view = new_view()
    if slot > block_slot(head.header):
        process_slots(view, params, slot, head.hash)
    return view


def get_proposer_at_slot(new_view: ViewFactory, head: BlockIndex, slot: int, params: Params) -> int:
    view = get_head_view_at_slot(new_view, head, slot, params)
    return pos.get_beacon_proposer(view, pos.get_consensus(view), slot, params)


def get_vote_for_slot(new_view: ViewFactory, head: BlockIndex, slot: int,
                      params: Params) -> tuple[bytes, Checkpoint, Checkpoint]:
    """(head, source, target) an honest validator votes for at `slot` on `head`."""
    cs = pos.get_consensus(get_head_view_at_slot(new_view, head, slot, params))
    epoch = compute_epoch(slot, params)
    start = compute_start_slot(epoch, params)
    if block_slot(head.header) <= start:
        target_root = head.hash
    else:
        # One slot past the head, the state's root ring covers every slot up to the head's.
        advanced = get_head_view_at_slot(new_view, head, block_slot(head.header) + 1, params)
        target_root = pos.get_block_root_at_slot(pos.get_consensus(advanced), start)
    return head.hash, cs.current_justified, Checkpoint(epoch, target_root)


def get_fork_choice_balances(view: StateView) -> dict[int, int]:
    """Each unslashed validator's effective balance: the weight of its latest vote in LMD-GHOST."""
    cs = pos.get_consensus(view)
    validators = (pos.get_validator(view, i) for i in range(cs.validator_count))
    return {i: v.effective_balance for i, v in enumerate(validators) if not v.slashed}
