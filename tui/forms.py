"""Field parsing shared by the TUI's forms: coin amounts as the CLI reads them, errors as inline text."""

from __future__ import annotations

from chain.errors import ChaintopError
from chain.params import parse_coins


def parse_amount_field(text: str | None, noun: str, empty_message: str) -> tuple[int | None, str | None]:
    """(base units, None) for a positive amount of coins, else (what was parsed, the inline error)."""
    text = (text or "").strip()
    if not text:
        return None, empty_message
    try:
        amount = parse_coins(text, "amount")
    except ChaintopError as e:
        return None, e.message
    if amount == 0:
        return amount, f"the {noun} must be more than zero"
    return amount, None
