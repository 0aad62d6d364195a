"""What a screen shows when it has nothing to show yet, and why (never a blank panel)."""

from __future__ import annotations

from rich.text import Text

from tui.widgets.panel import ViewPanel


def render_placeholder(view: dict) -> Text:
    """view: title, message."""
    t = Text()
    if view.get("title"):
        t.append(view["title"] + "\n", style="bold yellow")
    t.append(view.get("message", ""))
    return t


class Placeholder(ViewPanel):
    render_view = staticmethod(render_placeholder)
