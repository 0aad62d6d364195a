"""The line above the footer: the chaintop command equivalent to the last action."""

from __future__ import annotations

from rich.text import Text

from tui.widgets.panel import ViewPanel

TIP = "every action here prints its chaintop command on this line · ? help · / search · ctrl+p commands"


def render_hint(view: dict) -> Text:
    """view: command (the last equivalent command, or None), prefix (how chaintop is invoked), note (how the
    command differs from what was just done, or None)."""
    cmd = view.get("command")
    t = Text(no_wrap=True, overflow="ellipsis")
    if not cmd:
        t.append(TIP, style="dim")
        return t
    t.append("$ ", style="bold green")
    t.append(f"{view.get('prefix', 'chaintop')} {cmd}", style="bold")
    if view.get("note"):
        t.append(f"   {view['note']}", style="dim")
    return t


class HintLine(ViewPanel):
    render_view = staticmethod(render_hint)
