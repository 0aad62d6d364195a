"""What the TUI's wallet forms share: fields parsed as the CLI reads them, one base widget for the flow."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select

from chain.errors import ChaintopError
from chain.params import format_coins, parse_coins


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


def parse_sender_field(values: dict, errors: dict[str, str], missing_message: str) -> str:
    """The chosen account (a label); an error on the sender field when none is chosen."""
    sender = values.get("sender") or ""
    if not sender:
        errors["sender"] = missing_message
    return sender


def check_funds(errors: dict[str, str], sender: str, balances: dict[str, int], noun: str, amount: int | None,
                fee: int) -> None:
    """An error on the amount field when amount + fee is more than the sender's known balance."""
    bal = balances.get(sender)
    if bal is None or not amount:
        return
    total = amount + fee
    if total > bal:
        errors["amount"] = f"{noun} + fee is {format_coins(total)} but {sender} has {format_coins(bal)}"


class FormInput(Input):
    """A form field that lets `?` through to Help: no address, label or amount ever holds one."""

    PASS_THROUGH = frozenset("?")

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return character not in self.PASS_THROUGH and super().check_consume_key(key, character)

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls every class's _on_key down the MRO: prevent_default keeps Input's from typing it, and
        # the key, not stopped, bubbles up to the app's bindings.
        if event.character in self.PASS_THROUGH:
            event.prevent_default()


class WalletForm(Vertical):
    """A sender select plus text inputs, an inline error line under each; posts Submitted with the parsed
    values (base units) only when every field is valid, from the button or Enter in any input.

    A subclass names its fields (`PREFIX` for the widget ids, `INPUTS` in order), builds its inputs,
    parses with its pure validate_* function in `parse_values`, and declares its own
    `Submitted(WalletForm.Submitted)` so the screens' handlers keep their names (on_send_form_submitted,
    on_stake_form_submitted).

    Escape leaves the form (posts Left: the screen moves focus out, a dialog closes), so the number keys
    switch screens again; an error line goes as soon as its field is fixed.
    """

    BINDINGS = [Binding("escape", "leave", "Leave form", id="form.leave")]

    PREFIX: ClassVar[str]
    INPUTS: ClassVar[tuple[str, ...]]
    TITLE: ClassVar[str]
    SUBMIT: ClassVar[tuple[str, str]]  # button label, variant

    class Submitted(Message):
        def __init__(self, values: dict) -> None:
            super().__init__()
            self.values = values

    class Left(Message):
        """Escape in the form: whoever holds it takes the focus elsewhere."""

    def __init__(self, senders: list[str], min_fee: int, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="form")
        self.senders = senders
        self.min_fee = min_fee
        self.balances: dict[str, int] = {}
        self.border_title = self.TITLE

    # -- for subclasses ---------------------------------------------------------------------------
    def compose_inputs(self) -> ComposeResult:
        """One `self.field(name, label, Input(...))` per name in INPUTS."""
        raise NotImplementedError

    def parse_values(self, values: dict) -> tuple[dict[str, str], dict]:
        """(errors by field, parsed values) for the raw strings of values()."""
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------------------------
    def field(self, name: str, label: str, widget: Widget) -> ComposeResult:
        yield Horizontal(Label(label, classes="field-label"), widget, classes="field")
        yield Label("", id=f"{self.PREFIX}-{name}-error", classes="error")

    def text_input(self, name: str, placeholder: str) -> Input:
        return FormInput(placeholder=placeholder, id=f"{self.PREFIX}-{name}", compact=True)

    def compose(self) -> ComposeResult:
        yield from self.field("sender", "from", Select(
            [(s, s) for s in self.senders], value=self.senders[0] if self.senders else Select.NULL,
            allow_blank=False, compact=True, id=f"{self.PREFIX}-sender"))
        yield from self.compose_inputs()
        label, variant = self.SUBMIT
        yield Button(label, id=f"{self.PREFIX}-submit", variant=variant, compact=True)

    def values(self) -> dict:
        sender = self.query_one(f"#{self.PREFIX}-sender", Select).value
        return {"sender": sender if isinstance(sender, str) else "",
                **{name: self.query_one(f"#{self.PREFIX}-{name}", Input).value for name in self.INPUTS}}

    def show_errors(self, errors: dict[str, str]) -> None:
        self.shown_errors = dict(errors)
        for name in ("sender", *self.INPUTS):
            label = self.query_one(f"#{self.PREFIX}-{name}-error", Label)
            label.update(errors.get(name, ""))
            label.display = name in errors

    def recheck(self) -> None:
        """After an edit: the error lines already shown follow the fields (a fixed field's goes); fields
        not yet complained about stay quiet until the next submit."""
        shown = getattr(self, "shown_errors", {})
        if not shown:
            return
        errors, _ = self.parse_values(self.values())
        self.show_errors({name: errors[name] for name in shown if name in errors})

    def submit(self) -> bool:
        errors, parsed = self.parse_values(self.values())
        self.show_errors(errors)
        if errors:
            return False
        self.post_message(self.Submitted(parsed))
        return True

    def clear(self) -> None:
        for name in self.INPUTS:
            self.query_one(f"#{self.PREFIX}-{name}", Input).value = ""
        self.show_errors({})

    def on_mount(self) -> None:
        self.show_errors({})

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == f"{self.PREFIX}-submit":
            event.stop()
            self.submit()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.recheck()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.recheck()

    def action_leave(self) -> None:
        self.post_message(self.Left())
