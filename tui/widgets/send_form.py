"""The send form: from a dev key to an address, with inline validation before anything is sent."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult

from chain.errors import ChaintopError
from chain.params import format_coins, parse_coins
from tui.forms import WalletForm, check_funds, parse_amount_field, parse_sender_field


def validate_send(values: dict, check_address: Callable[[str], str | None], balances: dict[str, int],
                  min_fee: int) -> tuple[dict[str, str], dict]:
    """values: sender, to, amount, fee (strings). Returns (errors by field, parsed values in base units)."""
    errors: dict[str, str] = {}
    parsed: dict = {"sender": parse_sender_field(values, errors, "choose the account to send from"),
                    "to": (values.get("to") or "").strip()}
    why = check_address(parsed["to"])
    if why:
        errors["to"] = why
    parsed["amount"], why = parse_amount_field(values.get("amount"), "amount",
                                               "enter an amount in coins, e.g. 1.5")
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
    if "amount" not in errors and "fee" not in errors:
        fee = parsed["fee"] if parsed["fee"] is not None else min_fee
        check_funds(errors, parsed["sender"], balances, "amount", parsed["amount"], fee)
    return errors, parsed


class SendForm(WalletForm):
    """Posts SendForm.Submitted with parsed values only when every field is valid."""

    PREFIX = "send"
    INPUTS = ("to", "amount", "fee")
    TITLE = "send coins"
    SUBMIT = ("Send", "primary")

    class Submitted(WalletForm.Submitted):
        pass

    def __init__(self, senders: list[str], check_address, min_fee: int, *, id: str | None = None) -> None:
        super().__init__(senders, min_fee, id=id)
        self.check_address = check_address

    def compose_inputs(self) -> ComposeResult:
        yield from self.field("to", "to", self.text_input("to", "address or dev label (dev1)"))
        yield from self.field("amount", "amount", self.text_input("amount", "coins, e.g. 1.5"))
        fee_hint = f"coins (default {format_coins(self.min_fee)})"
        yield from self.field("fee", "fee", self.text_input("fee", fee_hint))

    def parse_values(self, values: dict) -> tuple[dict[str, str], dict]:
        return validate_send(values, self.check_address, self.balances, self.min_fee)
