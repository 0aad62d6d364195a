"""Casper FFG: justification at 2/3 of active stake and finalization, as Ethereum phase0 weighs them."""

from __future__ import annotations

from chain.consensus.beacon import Checkpoint, ConsensusState
from chain.notes import Finalized, Justified


def weigh_justification_and_finalization(cs: ConsensusState, current_epoch: int, total_active: int,
                                         previous_target: int, current_target: int, previous_root: bytes,
                                         current_root: bytes) -> list[Justified | Finalized]:
    """phase0's weigh_justification_and_finalization; returns what changed, as notes.

    Bit i of justification_bits means "epoch current - i is justified". Finality needs a justified checkpoint
    followed by justified successors: the 2nd, 3rd and 4th most recent epochs as source (k=2,3), or the
    1st and 2nd (k=1,2), exactly the four cases of the spec.
    """
    changes: list[Justified | Finalized] = []
    previous_epoch = current_epoch - 1
    old_previous_justified = cs.previous_justified
    old_current_justified = cs.current_justified
    cs.previous_justified = cs.current_justified
    bits = (cs.justification_bits << 1) & 0b1111
    if previous_target * 3 >= total_active * 2:
        cs.current_justified = Checkpoint(previous_epoch, previous_root)
        bits |= 0b10
    if current_target * 3 >= total_active * 2:
        cs.current_justified = Checkpoint(current_epoch, current_root)
        bits |= 0b01
    cs.justification_bits = bits
    if cs.current_justified != old_current_justified:
        changes.append(Justified(cs.current_justified.epoch, cs.current_justified.root))

    finalized = cs.finalized
    if (bits >> 1) & 0b111 == 0b111 and old_previous_justified.epoch + 3 == current_epoch:
        finalized = old_previous_justified
    if (bits >> 1) & 0b11 == 0b11 and old_previous_justified.epoch + 2 == current_epoch:
        finalized = old_previous_justified
    if bits & 0b111 == 0b111 and old_current_justified.epoch + 2 == current_epoch:
        finalized = old_current_justified
    if bits & 0b11 == 0b11 and old_current_justified.epoch + 1 == current_epoch:
        finalized = old_current_justified
    if finalized != cs.finalized:
        cs.finalized = finalized
        changes.append(Finalized(finalized.epoch, finalized.root))
    return changes
