"""Wallet: the keys this node signs with and their balances, a send form and a stake form."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Input

from tui import fmt
from tui.forms import WalletForm
from tui.screens.base import ChainScreen
from tui.widgets.send_form import SendForm
from tui.widgets.stake_form import StakeForm


class WalletScreen(ChainScreen):
    TAB = "wallet"
    AUTO_FOCUS = "#wallet-table"
    BINDINGS = [
        Binding("enter", "open", "Account", id="wallet.open"),
        Binding("n", "focus_send", "Send", id="wallet.send"),
        Binding("s", "focus_stake", "Stake", id="wallet.stake"),
    ]

    def compose_body(self) -> ComposeResult:
        labels = [k["label"] for k in self.app.keys]
        with VerticalScroll(id="wallet-scroll"):
            table = DataTable(id="wallet-table", cursor_type="row", zebra_stripes=True)
            table.border_title = "accounts this node can sign for (dev keys: public seed, devnets only)"
            yield table
            with Horizontal(id="wallet-forms"):
                yield SendForm(labels, self.backend.check_address, self.backend.params.min_fee,
                               id="send-form")
                yield StakeForm(labels, getattr(self.backend.params, "min_stake", None) or
                                getattr(self.backend.params, "max_effective_balance", None),
                                self.backend.params.min_fee, id="stake-form")

    def on_mount(self) -> None:
        table = self.query_one("#wallet-table", DataTable)
        for col in ("label", "address", "balance", "nonce", "pending"):
            table.add_column(col, key=col)
        if not self.backend.is_pos:
            self.query_one(StakeForm).border_subtitle = "needs a proof-of-stake network"
        super().on_mount()

    def reload(self) -> None:
        self.call(self.backend.wallet, done=self._got_wallet, group="wallet")

    def _got_wallet(self, accounts: list[dict]) -> None:
        table = self.query_one("#wallet-table", DataTable)
        keep = table.cursor_row
        table.clear()
        balances = {}
        for a in accounts:
            balances[a["label"]] = a["balance"]
            table.add_row(a["label"], fmt.short_addr(a["address"], 24),
                          Text(fmt.coins(a["balance"]), justify="right"), a["nonce"],
                          a.get("pending", 0), key=a["address"])
        if 0 <= keep < table.row_count:
            table.move_cursor(row=keep, animate=False)
        self.query_one(SendForm).balances = balances
        self.query_one(StakeForm).balances = balances

    def update_live(self, topics: frozenset[str]) -> None:
        if topics & {"head", "mempool"} and self.due("wallet", 1.0):
            self.reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.app.open_account(event.row_key.value)

    def action_open(self) -> None:
        table = self.query_one("#wallet-table", DataTable)
        if table.row_count:
            self.app.open_account(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def action_focus_send(self) -> None:
        self.query_one("#send-to", Input).focus()

    def action_focus_stake(self) -> None:
        self.query_one("#stake-amount", Input).focus()

    def on_send_form_submitted(self, event: SendForm.Submitted) -> None:
        v = event.values
        self.app.actions.send(v["sender"], v["to"], v["amount"], v["fee"], done=lambda _: self._sent())

    def _sent(self) -> None:
        self.query_one(SendForm).clear()
        self._leave_forms()
        self.reload()

    def on_wallet_form_left(self, event: WalletForm.Left) -> None:
        event.stop()
        self._leave_forms()

    def _leave_forms(self) -> None:
        """Focus back on the accounts table: out of a field, the number keys switch screens again."""
        self.query_one("#wallet-table", DataTable).focus()

    def on_stake_form_submitted(self, event: StakeForm.Submitted) -> None:
        v = event.values
        self.app.actions.stake(v["sender"], v["amount"], done=lambda _: self._staked(),
                               failed=self._stake_failed)

    def _staked(self) -> None:
        self.query_one(StakeForm).clear()
        self._leave_forms()
        self.reload()

    def _stake_failed(self, error) -> None:
        self.query_one(StakeForm).show_errors({"amount": getattr(error, "message", str(error))})
