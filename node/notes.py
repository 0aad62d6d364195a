"""What the state transition reported (its typed notes, chain/notes.py), turned into node events: one
table."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from chain import notes as nt
from node import events as ev

# Every note type, and the event it becomes (a test checks the table covers chain.notes.NOTE_TYPES).
NOTE_EVENTS: dict[type[nt.Note], Callable[..., ev.Event]] = {
    nt.Justified: lambda n: ev.CheckpointJustified(n.epoch, n.root.hex()),
    nt.Finalized: lambda n: ev.CheckpointFinalized(n.epoch, n.root.hex()),
    nt.Slashed: lambda n: ev.ValidatorSlashed(n.index, n.offence, n.whistleblower, n.penalty),
    nt.Leak: lambda n: ev.InactivityLeak(n.epoch, n.finality_delay),
    nt.Activating: lambda n: ev.ValidatorActivated(n.index, n.epoch),
    nt.Exiting: lambda n: ev.ValidatorExited(n.index, n.epoch),
    nt.Ejected: lambda n: ev.ValidatorExited(n.index, n.epoch),
    nt.Staked: lambda n: ev.ValidatorStaked(n.index, n.amount),
    nt.Withdrawn: lambda n: ev.StakeWithdrawn(n.index, n.amount),
}


def note_to_event(note: nt.Note) -> ev.Event:
    return NOTE_EVENTS[type(note)](note)


def emit_notes(events: ev.EventBus, notes: Iterable[nt.Note]) -> None:
    """What the state transition reported, as events (the supply ledger's notes go to its record instead)."""
    for note in notes:
        if not isinstance(note, nt.LEDGER_NOTE_TYPES):
            events.emit(note_to_event(note))
