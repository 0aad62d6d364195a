"""The stake form: lock coins from a dev account as a new validator's deposit."""

from __future__ import annotations

from textual.app import ComposeResult

from chain.params import format_coins
from tui.forms import WalletForm, check_funds, parse_amount_field, parse_sender_field


def validate_stake(values: dict, balances: dict[str, int], min_stake: int | None,
                   min_fee: int) -> tuple[dict, dict]:
    """values: sender, amount (strings). Returns (errors by field, parsed values in base units)."""
    errors: dict[str, str] = {}
    parsed: dict = {"sender": parse_sender_field(values, errors, "choose the account that stakes")}
    amount, why = parse_amount_field(values.get("amount"), "stake", "enter the stake in coins")
    parsed["amount"] = amount
    if why:
        errors["amount"] = why
    elif min_stake and amount < min_stake:
        errors["amount"] = f"a validator needs at least {format_coins(min_stake)} coins"
    if "amount" not in errors:
        check_funds(errors, parsed["sender"], balances, "stake", parsed["amount"], min_fee)
    return errors, parsed


class StakeForm(WalletForm):
    """Posts StakeForm.Submitted with parsed values only when the sender and the stake are valid."""

    PREFIX = "stake"
    INPUTS = ("amount",)
    TITLE = "stake (become a validator)"
    SUBMIT = ("Stake", "warning")

    class Submitted(WalletForm.Submitted):
        pass

    def __init__(self, senders: list[str], min_stake: int | None, min_fee: int, *,
                 id: str | None = None) -> None:
        super().__init__(senders, min_fee, id=id)
        self.min_stake = min_stake

    def compose_inputs(self) -> ComposeResult:
        hint = f"coins (at least {format_coins(self.min_stake)})" if self.min_stake else "coins"
        yield from self.field("amount", "amount", self.text_input("amount", hint))

    def parse_values(self, values: dict) -> tuple[dict, dict]:
        return validate_stake(values, self.balances, self.min_stake, self.min_fee)
