"""Events: every node event as a line — blocks, transactions, mining, checkpoints, slashings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from tui.screens.base import ChainScreen
from tui.widgets.event_log import EventLog


def caption_text(view: dict) -> str:
    """view: events (how many the TUI has seen since it opened), hide_tx, pos (votes exist). Words a user
    acts on, not the bridge's internal counters."""
    n = view.get("events", 0)
    tx = ("transaction events hidden (t shows them)" if view.get("hide_tx")
          else "transaction events shown (t hides them)")
    votes = "votes are counted per slot on Validators (5) · " if view.get("pos") else ""
    return (f"newest at the bottom · {n:,} event{'' if n == 1 else 's'} since this TUI opened · {tx} · "
            f"{votes}`chaintop watch` streams the same")


class EventsScreen(ChainScreen):
    TAB = "events"
    BINDINGS = [
        Binding("t", "toggle_tx", "Tx events", id="events.toggle_tx"),
        Binding("c", "clear", "Clear", id="events.clear"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static("", id="events-caption", classes="caption")
        yield EventLog(id="event-log", clock=self.app.live_clock)

    def reload(self) -> None:
        log = self.query_one(EventLog)
        log.reset(list(self.model.log))
        self._caption()
        self.call_after_refresh(lambda: log.scroll_end(animate=False))

    def _caption(self) -> None:
        log = self.query_one(EventLog)
        self.query_one("#events-caption", Static).update(
            caption_text({"events": self.model.applied, "hide_tx": log.hide_tx, "pos": self.backend.is_pos}))

    def update_live(self, topics: frozenset[str]) -> None:
        if "log" in topics:
            self.query_one(EventLog).feed(list(self.model.log))
            if self.due("events-caption", 1.0):
                self._caption()

    def action_toggle_tx(self) -> None:
        log = self.query_one(EventLog)
        log.hide_tx = not log.hide_tx
        log.reset(list(self.model.log))
        self._caption()

    def action_clear(self) -> None:
        log = self.query_one(EventLog)
        log.clear()
