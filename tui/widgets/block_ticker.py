"""Dashboard: the most recent blocks, newest first."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tui import fmt
from tui.widgets.panel import ViewPanel


def render_ticker(view: dict) -> Table | Text:
    """view: blocks [{height, hash, timestamp, n_tx}], now, limit."""
    blocks = view.get("blocks", [])[: view.get("limit", 8)]
    if not blocks:
        return Text("no blocks yet", style="dim")
    now = view.get("now", 0)
    t = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    t.add_column("height", justify="right")
    t.add_column("hash")
    t.add_column("age", justify="right")
    t.add_column("txs", justify="right")
    for b in blocks:
        t.add_row(str(b["height"]), fmt.short(b["hash"], 16), fmt.age(now - b["timestamp"]),
                  str(b.get("n_tx", "?")))
    return t


class BlockTicker(ViewPanel):
    render_view = staticmethod(render_ticker)
