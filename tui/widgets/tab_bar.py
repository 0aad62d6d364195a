"""The top line: the numbered screens (the active one highlighted) and the chain at a glance."""

from __future__ import annotations

from rich.text import Text

from tui.widgets.panel import ViewPanel

TABS = (("1", "dashboard", "Dashboard"), ("2", "blocks", "Blocks"), ("3", "mempool", "Mempool"),
        ("4", "mining", "Mining"), ("5", "validators", "Validators"), ("6", "wallet", "Wallet"),
        ("7", "events", "Events"))


def render_tab_bar(view: dict) -> Text:
    """view: active (screen name), width, and optionally network, consensus, height."""
    t = Text(no_wrap=True, overflow="ellipsis")
    for key, name, label in TABS:
        if name == view.get("active"):
            t.append(f" {key} {label} ", style="bold reverse")
        else:
            t.append(f" {key}", style="bold cyan")
            t.append(f" {label} ")
    info = ""
    if view.get("network"):
        info = f"{view['network']} · {view.get('consensus', '?')} · #{view.get('height', '?')}"
    if info and view.get("width", 0) - t.cell_len >= len(info) + 3:
        t.append(" " * (view["width"] - t.cell_len - len(info) - 1))
        t.append(info, style="bold")
    return t


class TabBar(ViewPanel):
    render_view = staticmethod(render_tab_bar)
