"""A banner for what must not be missed: slashings, inactivity leaks, reorgs."""

from __future__ import annotations

import time

from rich.text import Text

from tui.widgets.panel import ViewPanel


def render_alerts(view: dict) -> Text:
    """view: lines (LogLine-like: at, text), limit."""
    lines = list(view.get("lines", []))[-view.get("limit", 3):]
    t = Text()
    for i, line in enumerate(lines):
        stamp = time.strftime("%H:%M:%S", time.localtime(line.at)) if view.get("clock", True) else ""
        t.append(f" ! {stamp} {line.text} ", style="bold white on red")
        if i < len(lines) - 1:
            t.append("\n")
    return t


class AlertBanner(ViewPanel):
    render_view = staticmethod(render_alerts)

    def show(self, view) -> None:
        super().show(view)
        self.display = bool(view.get("lines"))
