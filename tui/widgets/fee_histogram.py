"""A fee-rate histogram: how many waiting transactions pay each band of base units per byte."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tui import draw
from tui.widgets.panel import ViewPanel


def render_fee_histogram(view: dict) -> Table | Text:
    """view: rates (fee rates of pending txs), buckets, width (of the bar column)."""
    rates = view.get("rates", [])
    if not rates:
        return Text("no transactions waiting", style="dim")
    rows = draw.histogram(rates, view.get("buckets", 8))
    top = max(c for _, _, c in rows) or 1
    width = view.get("width", 30)
    t = Table.grid(padding=(0, 1))
    t.add_column(justify="right", no_wrap=True, style="cyan")
    t.add_column(no_wrap=True)
    t.add_column(justify="right", no_wrap=True)
    for lo, hi, count in reversed(rows):  # highest fee rates on top, as a miner would take them
        t.add_row(f"{lo:7.1f}-{hi:<7.1f}", Text(draw.bar(count / top, width, empty=" "), style="green"),
                  str(count))
    return t


class FeeHistogram(ViewPanel):
    render_view = staticmethod(render_fee_histogram)
