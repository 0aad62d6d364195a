"""Node.finality_conflict: the Status check that refuses a peer whose finalized checkpoint is on another
branch (each side of a long partition finalized alone: Ethereum's irrelevant network).

    genesis ─┬─ A: a block in every slot from 1 ── … finalized (A's checkpoints)
             └─ B: the same validators, from slot 2 ── … finalized (B's: never on A's chain)
"""

from __future__ import annotations

from chain.consensus import pos
from tests.functional.pos_helpers import close_pos_nodes, drive_epochs, drive_slots, pos_node  # noqa: F401


def _finalized(node) -> tuple[int, bytes]:
    cs = pos.get_consensus(node.chain.new_view())
    return cs.finalized.epoch, cs.finalized.root


def test_a_checkpoint_on_another_branch_conflicts_and_one_on_ours_does_not(tmp_path):
    a, b = pos_node(tmp_path, "a"), pos_node(tmp_path, "b")
    assert a.chain.get_hash_at(0) == b.chain.get_hash_at(0)
    drive_epochs(a, 0, 4)
    early = _finalized(a)
    drive_epochs(a, 5, 6)
    drive_slots(b, 2, 7 * a.params.slots_per_epoch - 1)  # skips slot 1: another branch from genesis on
    a_fin, b_fin = _finalized(a), _finalized(b)
    assert a_fin[0] >= 2 and b_fin[0] >= 2 and a_fin[1] != b_fin[1] and early[0] < a_fin[0]

    assert a.finality_conflict(*b_fin) and b.finality_conflict(*a_fin)
    assert not a.finality_conflict(*a_fin)
    assert not a.finality_conflict(*early)  # an older checkpoint of our own chain: a peer still syncing
    assert not a.finality_conflict(0, bytes(32))  # genesis
    assert not a.finality_conflict(a_fin[0] + 1, b_fin[1])  # newer: syncing decides
