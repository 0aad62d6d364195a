"""Which engine rules at which height (pow, pos, hybrid = PoW blocks + FFG, merge = hybrid then PoS), epochs,
and the PoS slot clock: pure functions of the params, the branch's origin and a `now` the caller passes in."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from chain.params import Params

if TYPE_CHECKING:
    from chain.abc import BlockIndex


def uses_validators(params: Params) -> bool:
    """Every mode but plain PoW runs validators, committees and the FFG finality gadget."""
    return params.consensus != "pow"


def is_pos_height(params: Params, height: int) -> bool:
    """Whether the block at `height` is produced by a stake-chosen proposer (otherwise by proof of work)."""
    if params.consensus == "pos":
        return height > 0
    if params.consensus == "merge":
        return height >= params.merge_height > 0
    return False


def compute_epoch(slot: int, params: Params) -> int:
    return slot // params.slots_per_epoch


def compute_start_slot(epoch: int, params: Params) -> int:
    return epoch * params.slots_per_epoch


# -- the slot clock ----------------------------------------------------------------------------------
class SlotOrigin(NamedTuple):
    """The (time, slot) a branch's slot clock counts from."""

    time: float
    slot: int


def get_slot_origin(params: Params, get_ancestor: Callable[[BlockIndex, int], BlockIndex],
                    idx: BlockIndex) -> SlotOrigin:
    """Where the slot clock counts from on the branch ending at `idx`: genesis, or (merge) the last PoW
    block."""
    if params.consensus == "merge":
        last = params.merge_height - 1
        last_pow = get_ancestor(idx, last) if idx.height >= last else idx
        return SlotOrigin(float(last_pow.header.timestamp), last_pow.height)
    return SlotOrigin(float(params.genesis_time), 0)


def compute_slot_start_time(origin: SlotOrigin, slot: int, params: Params) -> float:
    return origin.time + (slot - origin.slot) * params.slot_time


def compute_current_slot(origin: SlotOrigin, now: float, params: Params) -> int:
    """The slot under way at `now` (the origin's slot before the clock starts)."""
    return origin.slot + max(0, int((now - origin.time) // params.slot_time))
