"""Dashboard: the most recent blocks, newest first."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from tui import fmt
from tui.widgets.panel import ViewPanel

HEADER = ("height", "hash", "age", "txs")
RIGHT = (True, False, True, True)  # justified right


class TickerRows:
    """The ticker's rows laid out as rich's Table(box=None, padding=(0, 1), show_edge=False) lays them out,
    as one Text: the same cells and styles at a fraction of the cost (the dashboard redraws it on every new
    block). Narrower than its natural width, it is that Table, which knows how to squeeze columns."""

    def __init__(self, rows: list[tuple[str, ...]]) -> None:
        self.rows = rows
        self.widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]

    def _line(self, cells: tuple[str, ...]) -> str:
        parts = [c.rjust(w) if right else c.ljust(w)
                 for c, w, right in zip(cells, self.widths, RIGHT, strict=True)]
        return " " + "  ".join(parts) + " "

    def table(self) -> Table:
        t = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
        for name, right in zip(HEADER, RIGHT, strict=True):
            t.add_column(name, justify="right" if right else "left")
        for row in self.rows:
            t.add_row(*row)
        return t

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if sum(self.widths) + 2 * len(self.widths) > options.max_width:
            yield self.table()
            return
        text = Text(no_wrap=True)
        text.append(self._line(HEADER), style="bold")
        for row in self.rows:
            text.append("\n" + self._line(row))
        yield text


def render_ticker(view: dict) -> TickerRows | Text:
    """view: blocks [{height, hash, timestamp, n_tx}], now, limit."""
    blocks = view.get("blocks", [])[: view.get("limit", 8)]
    if not blocks:
        return Text("no blocks yet", style="dim")
    now = view.get("now", 0)
    return TickerRows([(str(b["height"]), fmt.short(b["hash"], 16), fmt.age(now - b["timestamp"]),
                        str(b.get("n_tx", "?"))) for b in blocks])


class BlockTicker(ViewPanel):
    render_view = staticmethod(render_ticker)
