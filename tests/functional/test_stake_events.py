"""Typed notes become events: a stake and a withdrawal are announced (they used to be dropped silently)."""

from __future__ import annotations

from chain import notes
from node import events as ev
from node.notes import NOTE_EVENTS, emit_notes
from tests.functional.pos_helpers import (  # noqa: F401 (close_pos_nodes: autouse fixture)
    COIN,
    EventLog,
    close_pos_nodes,
    drive_slots,
    pos_node,
)


def test_every_note_type_has_an_event():
    assert set(NOTE_EVENTS) == set(notes.NOTE_TYPES)


def test_notes_become_events_with_named_fields():
    bus = ev.EventBus()
    seen: list = []
    bus.subscribe(seen.append)
    root = bytes(range(32))
    emit_notes(bus, [notes.Justified(3, root), notes.Slashed(5, "double-vote", 7, 2), notes.Exiting(1, 9),
                     notes.Ejected(4, 6), notes.Staked(16, 32 * COIN), notes.Withdrawn(0, 31 * COIN)])
    assert seen == [ev.CheckpointJustified(3, root.hex()), ev.ValidatorSlashed(5, "double-vote", 2, 7),
                    ev.ValidatorExited(1, 9), ev.ValidatorExited(4, 6), ev.ValidatorStaked(16, 32 * COIN),
                    ev.StakeWithdrawn(0, 31 * COIN)]
    assert seen[-2].to_dict() == {"event": "ValidatorStaked", "index": 16, "amount": 32 * COIN}


def test_a_stake_and_a_withdrawal_are_announced(tmp_path):
    node = pos_node(tmp_path)
    log = EventLog(node)
    p = node.params
    spe = p.slots_per_epoch
    drive_slots(node, 1, 2)
    node.stake("dev3", 32 * COIN)
    drive_slots(node, 3, 3)
    assert [(e.index, e.amount) for e in log.of("ValidatorStaked")] == [(p.genesis_validators, 32 * COIN)]

    node.unstake("dev0", 0)
    drive_slots(node, 4, 4)
    (exited,) = log.of("ValidatorExited")
    withdrawable = exited.epoch + p.withdrawal_delay
    drive_slots(node, 5, withdrawable * spe)
    (withdrawn,) = log.of("StakeWithdrawn")
    assert withdrawn.index == 0 and withdrawn.amount > 0
    assert node.validators()[0]["status"] == "withdrawn"
