"""One account: balance, nonce, pending transactions and its recent history."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable

from tui import equivalents, fmt
from tui.screens.base import ChainScreen
from tui.widgets.field_table import FieldTable
from tui.widgets.placeholder import Placeholder


def account_rows(acct: dict) -> list[tuple]:
    label = acct.get("label")
    rows = [("address", acct["address"], "bech32m: network prefix, 20-byte hash of the public key, checksum")]
    if label:
        rows.append(("label",
                     label + (" (dev key: public seed, never real value)" if acct.get("dev") else ""),
                     "a key this node can sign with"))
    rows += [
        ("balance", Text(f"{fmt.coins(acct['balance'])} coins", style="bold"),
         f"{acct['balance']:,} base units"),
        ("nonce", acct["nonce"], "transactions it has sent that are in blocks"),
        ("next nonce", acct.get("next_nonce", acct["nonce"]), "the nonce its next transaction must carry"),
        ("pending", acct.get("pending", 0), "its transactions waiting in the mempool"),
    ]
    return rows


def history_row(tx: dict, address: str, name=fmt.short_addr) -> tuple:
    outgoing = tx.get("from") == address
    other = tx.get("to") if outgoing else tx.get("from")
    amount = tx.get("amount")
    signed = "-" if amount is None else ("-" if outgoing else "+") + fmt.coins(amount)
    return (tx.get("height", "pending"), fmt.short(tx["txid"], 16), "out" if outgoing else "in",
            name(other), signed, fmt.coins(tx.get("fee")) if outgoing else "")


class AccountScreen(ChainScreen):
    TAB = "wallet"
    AUTO_FOCUS = "#account-history"
    BINDINGS = [
        Binding("escape", "back", "Back", id="account.back"),
        Binding("r", "reload", "Reload", id="account.reload"),
    ]

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address
        self.acct: dict | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Placeholder(id="account-status")
            yield FieldTable("account", id="account-fields")
            table = DataTable(id="account-history", cursor_type="row", zebra_stripes=True)
            table.border_title = "history (enter opens a transaction)"
            yield table

    def on_mount(self) -> None:
        table = self.query_one("#account-history", DataTable)
        for col in ("height", "txid", "dir", "counterparty", "amount", "fee"):
            table.add_column(col, key=col)
        super().on_mount()

    def reload(self) -> None:
        self.query_one("#account-status", Placeholder).show({"title": f"loading {self.address}…"})
        self.call(self.backend.account, self.address, done=self._got_account, failed=self._failed,
                  group="account")

    def _failed(self, error) -> None:
        self.query_one("#account-status", Placeholder).show({
            "title": "not an account here", "message": getattr(error, "message", str(error))})

    def _got_account(self, acct: dict) -> None:
        self.acct = acct
        self.address = acct["address"]
        self.query_one("#account-status", Placeholder).display = False
        self.query_one("#account-fields", FieldTable).show({"rows": account_rows(acct)})
        self.call(self.backend.account_history, self.address, done=self._got_history, group="account-history")

    def _got_history(self, history: dict) -> None:
        table = self.query_one("#account-history", DataTable)
        table.clear()
        pending = [p for p in self.model.pool.values() if p.sender == self.address]
        for p in sorted(pending, key=lambda p: p.nonce):
            table.add_row("pending", fmt.short(p.txid, 16), "out", "", "", fmt.coins(p.fee), key=p.txid)
        for tx in history["txs"]:
            if tx["txid"] not in table.rows:
                table.add_row(*history_row(tx, self.address, self.model.name), key=tx["txid"])
        scanned = history.get("scanned")
        where = f" in blocks {scanned[0]}…{scanned[1]}" if scanned else ""
        table.border_title = (f"history: {len(history['txs'])} confirmed{where}, {len(pending)} pending "
                              "(enter opens)")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.app.open_tx(event.row_key.value)

    def update_live(self, topics: frozenset[str]) -> None:
        if self.acct is not None and "head" in topics and self.due("account", 2.0):
            self.call(self.backend.account, self.address, done=self._got_account, group="account")

    @property
    def command(self) -> str:
        """The chaintop command for what this screen shows (the echo line names it)."""
        return equivalents.account(self.address)

    def action_back(self) -> None:
        self.app.close_drill_down()

    def action_reload(self) -> None:
        self.reload()
