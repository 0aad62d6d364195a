"""The events pane: every node event as one line, slashings and leaks in red."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import RichLog

STYLES = {"info": "", "good": "green", "warn": "yellow", "error": "bold white on red"}
TAGS = {"chain": "chain ", "tx": "tx    ", "mining": "mining", "pos": "stake "}


def render_log_line(line, clock: bool = True) -> Text:
    """line: a LogLine (seq, at, kind, text, level, category)."""
    t = Text(no_wrap=False)
    if clock:
        t.append(time.strftime("%H:%M:%S ", time.localtime(line.at)), style="dim")
    t.append(TAGS.get(line.category, line.category[:6].ljust(6)) + " ", style="bold cyan")
    t.append(line.text, style=STYLES.get(line.level, ""))
    return t


class EventLog(RichLog):
    """Appends the model's log lines it has not shown yet; `hide_tx` filters the per-transaction chatter."""

    def __init__(self, *, id: str | None = None, clock: bool = True) -> None:
        super().__init__(id=id, max_lines=1000, wrap=True, markup=False, highlight=False, auto_scroll=True)
        self.shown_seq = 0
        self.hide_tx = False
        self.clock = clock

    PER_FEED = 60  # lines written per redraw at most: a flood is summarized, not typeset line by line

    def feed(self, lines) -> None:
        new = [ln for ln in lines if ln.seq > self.shown_seq]
        if not new:
            return
        self.shown_seq = new[-1].seq
        if self.hide_tx:
            new = [ln for ln in new if ln.category != "tx"]
        # No more than a screenful: lines that would scroll out of view before anyone sees them are counted in
        # the summary line instead (typesetting them was most of the Events screen's time under load).
        per_feed = min(self.PER_FEED, max(10, self.size.height)) if self.size.height else self.PER_FEED
        skipped = len(new) - per_feed
        if skipped > 0:
            kinds: dict[str, int] = {}
            for ln in new[:skipped]:
                kinds[ln.kind] = kinds.get(ln.kind, 0) + 1
            summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
            self.write(Text(f"… {skipped} more events in this burst: {summary}", style="dim italic"))
            new = new[skipped:]
        for line in new:
            self.write(render_log_line(line, self.clock))

    def reset(self, lines) -> None:
        self.clear()
        self.shown_seq = 0
        self.feed(lines)
