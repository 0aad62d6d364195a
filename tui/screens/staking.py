"""Staking dialogs: stake from a dev account, unstake a validator."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from tui.widgets.stake_form import StakeForm


class StakeScreen(ModalScreen[dict | None]):
    """The stake form in a dialog; dismisses with the parsed values (base units) once they validate."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="stake.cancel")]

    def __init__(self, senders: list[str], min_stake: int | None, min_fee: int,
                 balances: dict[str, int]) -> None:
        super().__init__()
        self.form = StakeForm(senders, min_stake, min_fee, id="stake-dialog-form")
        self.form.balances = balances

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Stake: lock coins as a validator deposit (escape cancels)", classes="dialog-title")
            yield self.form

    def on_mount(self) -> None:
        self.query_one("#stake-amount", Input).focus()

    def on_stake_form_submitted(self, event: StakeForm.Submitted) -> None:
        event.stop()
        self.dismiss(event.values)

    def on_wallet_form_left(self, event: StakeForm.Left) -> None:
        event.stop()  # escape in the form's field: the form's own binding saw it first
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class UnstakeScreen(ModalScreen[dict | None]):
    """Confirm an exit: which account signs the unstake transaction (the validator's owner)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="unstake.cancel")]

    def __init__(self, validator: dict, senders: list[str], owner: str | None) -> None:
        super().__init__()
        self.validator = validator
        self.senders = senders
        self.owner = owner

    def compose(self) -> ComposeResult:
        v = self.validator
        with Vertical(classes="dialog"):
            yield Label(f"Unstake validator #{v['index']}: it exits, then its stake unlocks after the "
                        "withdrawal delay", classes="dialog-title")
            with Horizontal(classes="field"):
                yield Label("from", classes="field-label")
                default = (self.owner if self.owner in self.senders
                           else (self.senders[0] if self.senders else Select.NULL))
                yield Select([(s, s) for s in self.senders], value=default, allow_blank=False, compact=True,
                             id="unstake-sender")
            with Horizontal(classes="buttons"):
                yield Button("Unstake", id="unstake-submit", variant="warning", compact=True)
                yield Button("Cancel", id="unstake-cancel", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "unstake-submit":
            sender = self.query_one("#unstake-sender", Select).value
            self.dismiss({"sender": sender, "index": self.validator["index"]})
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
