"""The top line: the numbered screens (the active one highlighted) and the chain at a glance."""

from __future__ import annotations

from rich.text import Text

from tui.widgets.panel import ViewPanel

TABS = (("1", "dashboard", "Dashboard"), ("2", "blocks", "Blocks"), ("3", "mempool", "Mempool"),
        ("4", "mining", "Mining"), ("5", "validators", "Validators"), ("6", "wallet", "Wallet"),
        ("7", "events", "Events"))
NETWORK_TAB = ("8", "network", "Network")  # shown on a node that is on a network, or while it is open


# when the full names leave no room
SHORT = {"dashboard": "Dash", "mempool": "Pool", "validators": "Vals", "network": "Net"}


def _tabs(active: str | None, names: str, networked: bool = False) -> Text:
    """names: full, short, or none (the other tabs show their keys only)."""
    t = Text(no_wrap=True, overflow="ellipsis")
    tabs = TABS + (NETWORK_TAB,) if networked or active == "network" else TABS
    for key, name, label in tabs:
        if name == active:
            t.append(f" {key} {label} ", style="bold reverse")
        elif names == "none":
            t.append(f" {key} ", style="bold cyan")
        else:
            t.append(f" {key}", style="bold cyan")
            t.append(f" {SHORT.get(name, label) if names == 'short' else label} ")
    return t


def render_tab_bar(view: dict) -> Text:
    """view: active (screen name), width, and optionally network, consensus, height. The chain badge always
    shows: when the tabs leave no room for it, the other tabs' names shorten, then only their keys show,
    then the badge drops the consensus."""
    width = view.get("width", 0)
    info = ""
    if view.get("network"):
        info = f"{view['network']} · {view.get('consensus', '?')} · #{view.get('height', '?')}"
    for names in ("full", "short", "none"):
        t = _tabs(view.get("active"), names, view.get("networked", False))
        if not info or width - t.cell_len >= len(info) + 3:
            break
    if info and width - t.cell_len < len(info) + 3:
        info = f"{view['network']} · #{view.get('height', '?')}"
    if info and width - t.cell_len >= len(info) + 3:
        t.append(" " * (view["width"] - t.cell_len - len(info) - 1))
        t.append(info, style="bold")
    return t


class TabBar(ViewPanel):
    render_view = staticmethod(render_tab_bar)
