"""Which engine rules at which height: pow, pos, hybrid (PoW blocks + FFG) and merge (hybrid, then PoS)."""

from __future__ import annotations

from chain.params import Params


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
