"""What the state transition reported (its notes), turned into node events."""

from __future__ import annotations

from node import events as ev


def emit_notes(events: ev.EventBus, notes: list[tuple]) -> None:
    """What the state transition reported, as events."""
    for note in notes:
        kind = note[0]
        if kind == "justified":
            events.emit(ev.CheckpointJustified(note[1], note[2].hex()))
        elif kind == "finalized":
            events.emit(ev.CheckpointFinalized(note[1], note[2].hex()))
        elif kind == "slashed":
            events.emit(ev.ValidatorSlashed(note[1], note[2], note[4], note[3]))
        elif kind == "leak":
            events.emit(ev.InactivityLeak(note[1], note[2]))
        elif kind == "activating":
            events.emit(ev.ValidatorActivated(note[1], note[2]))
        elif kind in ("unstaking", "ejected"):
            events.emit(ev.ValidatorExited(note[1], note[2]))
