"""Dashboard: mempool size and the fee rates waiting transactions pay."""

from __future__ import annotations

import statistics

from rich.table import Table
from rich.text import Text

from tui import draw
from tui.widgets.panel import ViewPanel


def summarize(rates: list[float]) -> dict:
    if not rates:
        return {"count": 0}
    s = sorted(rates)
    return {"count": len(s), "min": s[0], "median": statistics.median(s), "max": s[-1]}


def render_mempool_summary(view: dict) -> Table:
    """view: count, min, median, max (fee rates, base units per byte), rates (for a sparkline histogram)."""
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column(overflow="fold")
    t.add_row("pending", Text(f"{view.get('count', 0)}", style="bold") + " transaction(s) waiting")
    if view.get("count"):
        t.add_row("fee rate", f"min {view['min']:.1f} · median {view['median']:.1f} · "
                              f"max {view['max']:.1f} units/byte")
        hist = draw.histogram(view.get("rates", []), 16)
        t.add_row("spread", Text(draw.sparkline([c for _, _, c in hist], 16), style="green")
                  + Text("  low → high fee rate", style="dim"))
    else:
        t.add_row("fee rate", Text("- (nothing waiting)", style="dim"))
    return t


class MempoolSummary(ViewPanel):
    render_view = staticmethod(render_mempool_summary)
