"""The stake form: lock coins from a dev account as a new validator's deposit."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select

from chain.params import format_coins
from tui.forms import parse_amount_field


def validate_stake(values: dict, balances: dict[str, int], min_stake: int | None, min_fee: int) -> tuple[dict, dict]:
    """values: sender, amount (strings). Returns (errors by field, parsed values in base units)."""
    errors: dict[str, str] = {}
    parsed: dict = {"sender": values.get("sender") or ""}
    if not parsed["sender"]:
        errors["sender"] = "choose the account that stakes"
    amount, why = parse_amount_field(values.get("amount"), "stake", "enter the stake in coins")
    parsed["amount"] = amount
    if why:
        errors["amount"] = why
    elif min_stake and amount < min_stake:
        errors["amount"] = f"a validator needs at least {format_coins(min_stake)} coins"
    bal = balances.get(parsed["sender"])
    if "amount" not in errors and bal is not None and parsed["amount"] + min_fee > bal:
        errors["amount"] = f"stake + fee is {format_coins(parsed['amount'] + min_fee)} but {parsed['sender']} has " \
                           f"{format_coins(bal)}"
    return errors, parsed


class StakeForm(Vertical):
    class Submitted(Message):
        def __init__(self, values: dict) -> None:
            super().__init__()
            self.values = values

    def __init__(self, senders: list[str], min_stake: int | None, min_fee: int, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="form")
        self.senders = senders
        self.min_stake = min_stake
        self.min_fee = min_fee
        self.balances: dict[str, int] = {}
        self.border_title = "stake (become a validator)"

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Label("from", classes="field-label")
            yield Select([(s, s) for s in self.senders], value=self.senders[0] if self.senders else Select.NULL,
                         allow_blank=False, compact=True, id="stake-sender")
        yield Label("", id="stake-sender-error", classes="error")
        with Horizontal(classes="field"):
            yield Label("amount", classes="field-label")
            hint = f"coins (at least {format_coins(self.min_stake)})" if self.min_stake else "coins"
            yield Input(placeholder=hint, id="stake-amount", compact=True)
        yield Label("", id="stake-amount-error", classes="error")
        yield Button("Stake", id="stake-submit", variant="warning", compact=True)

    def values(self) -> dict:
        sender = self.query_one("#stake-sender", Select).value
        return {"sender": sender if isinstance(sender, str) else "", "amount": self.query_one("#stake-amount", Input).value}

    def show_errors(self, errors: dict[str, str]) -> None:
        for field in ("sender", "amount"):
            label = self.query_one(f"#stake-{field}-error", Label)
            label.update(errors.get(field, ""))
            label.display = field in errors

    def submit(self) -> bool:
        errors, parsed = validate_stake(self.values(), self.balances, self.min_stake, self.min_fee)
        self.show_errors(errors)
        if errors:
            return False
        self.post_message(self.Submitted(parsed))
        return True

    def clear(self) -> None:
        self.query_one("#stake-amount", Input).value = ""
        self.show_errors({})

    def on_mount(self) -> None:
        self.show_errors({})

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "stake-submit":
            event.stop()
            self.submit()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()
