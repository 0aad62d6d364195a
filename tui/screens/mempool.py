"""Mempool: pending transactions by fee rate, the fee-rate histogram, the projected next block, and
replacements and evictions as they happen."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from tui import fmt
from tui.screens.base import ChainScreen
from tui.widgets.fee_histogram import FeeHistogram

ROWS = 200  # the table shows the best-paying ROWS transactions; the counts cover all of them


def render_template(view: dict) -> Table | Text:
    """view: template (node.template_view()) and pending (count)."""
    tpl = view.get("template")
    if not tpl:
        return Text("computing…", style="dim")
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column(overflow="fold")
    t.add_row("height", str(tpl["height"]))
    t.add_row("takes", f"{tpl['n_tx']} of the {tpl['pending']} pending: ready ones, best fee rate first")
    if "ready" in tpl:  # why the others wait
        queued, over = tpl.get("queued", 0), tpl.get("over_limit", 0)
        t.add_row("ready", f"{tpl['ready']} (each sender's nonces in order, no gap)")
        t.add_row("queued", Text(f"{queued} behind a nonce gap (an earlier nonce of the sender is missing)",
                                 style="yellow" if queued else "dim"))
        if over:
            t.add_row("left out", Text(f"{over} ready but over the block's size or count limit",
                                       style="yellow"))
    t.add_row("size", f"{tpl['size']:,} bytes")
    t.add_row("fees", f"{fmt.coins(tpl['fees'])} coins to the miner")
    return t


def render_pool_events(view: dict) -> Text:
    lines = view.get("lines", [])
    if not lines:
        return Text("none yet: a replacement (same sender and nonce, higher fee) or an eviction (pool full) "
                    "shows here", style="dim")
    t = Text()
    for line in lines[:8]:
        t.append(line.text + "\n", style="yellow")
    return t


class MempoolScreen(ChainScreen):
    TAB = "mempool"
    AUTO_FOCUS = "#mempool-table"
    BINDINGS = [
        Binding("enter", "open", "Open tx", id="mempool.open"),
        Binding("f", "fee_estimate", "Fee estimate", id="mempool.fee_estimate"),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="mempool-row"):
            table = DataTable(id="mempool-table", cursor_type="row", zebra_stripes=True)
            table.border_title = "pending, highest fee rate first"
            yield table
            with Vertical(id="mempool-side"):
                yield FeeHistogram("fee rates (units/byte)", id="mempool-hist")
                tpl = Static(Text("computing…", style="dim"), id="mempool-template", classes="panel")
                tpl.border_title = "projected next block"
                yield tpl
                ev = Static("", id="mempool-events", classes="panel")
                ev.border_title = "replaced / evicted / expired"
                yield ev

    def on_mount(self) -> None:
        table = self.query_one("#mempool-table", DataTable)
        for col in ("txid", "from", "nonce", "fee", "fee rate"):
            table.add_column(col, key=col)
        super().on_mount()

    def reload(self) -> None:
        self._shown: list[str] = []
        self.update_live(frozenset({"mempool"}))

    def update_live(self, topics: frozenset[str]) -> None:
        if "mempool" not in topics and "head" not in topics:
            return
        if self.due("mempool-table", 0.5):
            self._fill_table()
            rates = self.model.fee_rates()
            self.query_one(FeeHistogram).show({"rates": rates, "buckets": 8, "width": 20})
            self.query_one("#mempool-events", Static).update(
                render_pool_events({"lines": list(self.model.pool_events)}))
        if self.due("mempool-template", 1.0):
            self.call(self.backend.template, done=self._got_template, group="template")

    def _fill_table(self) -> None:
        table = self.query_one("#mempool-table", DataTable)
        best = self.model.pool_by_fee_rate(ROWS)
        order = [t.txid for t in best]
        if order == self._shown:
            return
        self._shown = order
        keep = table.cursor_row
        table.clear()
        for t in best:
            table.add_row(fmt.short(t.txid, 16), self.model.name(t.sender), t.nonce, fmt.coins(t.fee),
                          f"{t.fee_rate:.2f}", key=t.txid)
        if 0 <= keep < table.row_count:
            table.move_cursor(row=keep, animate=False)
        n = len(self.model.pool)
        table.border_title = (f"{n} pending, highest fee rate first (a sender's by nonce)"
                              + (f" (top {ROWS} shown)" if n > ROWS else ""))
        if not n:
            table.border_title = "empty: send from Wallet (6) or turn traffic on (t on Mining, 4)"

    def _got_template(self, tpl: dict) -> None:
        self.query_one("#mempool-template", Static).update(render_template({"template": tpl}))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.app.open_tx(event.row_key.value)

    def action_open(self) -> None:
        table = self.query_one("#mempool-table", DataTable)
        if table.row_count:
            self.app.open_tx(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def action_fee_estimate(self) -> None:
        self.app.actions.fee_estimate()
