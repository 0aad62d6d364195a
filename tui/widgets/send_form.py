"""The send form: from a dev key to an address, with inline validation before anything is sent."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select

from chain.errors import ChaintopError
from chain.params import format_coins, parse_coins
from tui.forms import parse_amount_field


def validate_send(values: dict, check_address: Callable[[str], str | None], balances: dict[str, int],
                  min_fee: int) -> tuple[dict[str, str], dict]:
    """values: sender, to, amount, fee (strings). Returns (errors by field, parsed values in base units)."""
    errors: dict[str, str] = {}
    parsed: dict = {"sender": values.get("sender") or "", "to": (values.get("to") or "").strip()}
    if not parsed["sender"]:
        errors["sender"] = "choose the account to send from"
    why = check_address(parsed["to"])
    if why:
        errors["to"] = why
    parsed["amount"], why = parse_amount_field(values.get("amount"), "amount", "enter an amount in coins, e.g. 1.5")
    if why:
        errors["amount"] = why
    fee_text = (values.get("fee") or "").strip()
    parsed["fee"] = None
    if fee_text:
        try:
            fee = parse_coins(fee_text, "fee")
            if fee < min_fee:
                errors["fee"] = f"below the relay minimum of {format_coins(min_fee)} coins"
            parsed["fee"] = fee
        except ChaintopError as e:
            errors["fee"] = e.message
    bal = balances.get(parsed["sender"])
    if "amount" not in errors and "fee" not in errors and bal is not None and parsed.get("amount"):
        total = parsed["amount"] + (parsed["fee"] if parsed["fee"] is not None else min_fee)
        if total > bal:
            errors["amount"] = f"amount + fee is {format_coins(total)} but {parsed['sender']} has {format_coins(bal)}"
    return errors, parsed


class SendForm(Vertical):
    """Posts SendForm.Submitted with parsed values only when every field is valid."""

    class Submitted(Message):
        def __init__(self, values: dict) -> None:
            super().__init__()
            self.values = values

    def __init__(self, senders: list[str], check_address, min_fee: int, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="form")
        self.senders = senders
        self.check_address = check_address
        self.min_fee = min_fee
        self.balances: dict[str, int] = {}
        self.border_title = "send coins"

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Label("from", classes="field-label")
            yield Select([(s, s) for s in self.senders], value=self.senders[0] if self.senders else Select.NULL,
                         allow_blank=False, compact=True, id="send-sender")
        yield Label("", id="send-sender-error", classes="error")
        with Horizontal(classes="field"):
            yield Label("to", classes="field-label")
            yield Input(placeholder="address or dev label (dev1)", id="send-to", compact=True)
        yield Label("", id="send-to-error", classes="error")
        with Horizontal(classes="field"):
            yield Label("amount", classes="field-label")
            yield Input(placeholder="coins, e.g. 1.5", id="send-amount", compact=True)
        yield Label("", id="send-amount-error", classes="error")
        with Horizontal(classes="field"):
            yield Label("fee", classes="field-label")
            yield Input(placeholder=f"coins (default {format_coins(self.min_fee)})", id="send-fee", compact=True)
        yield Label("", id="send-fee-error", classes="error")
        yield Button("Send", id="send-submit", variant="primary", compact=True)

    def values(self) -> dict:
        sender = self.query_one("#send-sender", Select).value
        return {"sender": sender if isinstance(sender, str) else "",
                "to": self.query_one("#send-to", Input).value,
                "amount": self.query_one("#send-amount", Input).value,
                "fee": self.query_one("#send-fee", Input).value}

    def show_errors(self, errors: dict[str, str]) -> None:
        for field in ("sender", "to", "amount", "fee"):
            label = self.query_one(f"#send-{field}-error", Label)
            label.update(errors.get(field, ""))
            label.display = field in errors

    def submit(self) -> bool:
        errors, parsed = validate_send(self.values(), self.check_address, self.balances, self.min_fee)
        self.show_errors(errors)
        if errors:
            return False
        self.post_message(self.Submitted(parsed))
        return True

    def clear(self) -> None:
        for field in ("to", "amount", "fee"):
            self.query_one(f"#send-{field}", Input).value = ""
        self.show_errors({})

    def on_mount(self) -> None:
        self.show_errors({})

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send-submit":
            event.stop()
            self.submit()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()
