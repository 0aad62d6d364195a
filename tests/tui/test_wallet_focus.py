"""The Wallet screen's forms do not trap the keyboard: escape leaves a field, `?` reaches Help, focus leaves
the form after a send, a fixed field's error goes, and hints name this chain's dev labels."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Label

from tests.tui.conftest import SIZE, run, settle, wait_for
from tui.screens.dashboard import DashboardScreen
from tui.screens.help import HelpScreen
from tui.screens.wallet import WalletScreen


def _error(app, field: str) -> str:
    label = app.screen.query_one(f"#send-{field}-error", Label)
    return str(label.render()) if label.display else ""


def test_escape_leaves_a_field_and_question_mark_opens_help(app):
    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("6")
            await settle(pilot)
            await pilot.press("n")  # into the send form's "to" field
            to = app.screen.query_one("#send-to", Input)
            assert app.focused is to
            await pilot.press("d", "e", "v", "1", "question_mark")
            assert isinstance(app.screen, HelpScreen), "? opens Help from inside a field"
            assert to.value == "dev1"
            await pilot.press("escape")
            assert isinstance(app.screen, WalletScreen)
            await pilot.press("escape")  # leaves the field
            assert isinstance(app.focused, DataTable)
            await pilot.press("1")
            assert isinstance(app.screen, DashboardScreen), "out of the field, 1 switches screens"
            assert to.value == "dev1"

    run(scenario())


def test_fixed_fields_lose_their_error_and_a_send_leaves_the_form(app, running):
    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("6")
            await settle(pilot)
            form = app.screen.query_one("#send-form")
            app.screen.query_one("#send-to", Input).value = "nobody"
            app.screen.query_one("#send-amount", Input).value = "-3"
            form.submit()
            await settle(pilot)
            assert _error(app, "to") and _error(app, "amount")
            app.screen.query_one("#send-to", Input).value = "dev2"
            await settle(pilot)
            assert _error(app, "to") == "", "the fixed field's error is gone"
            assert _error(app, "amount"), "the field still wrong keeps its error"
            amount = app.screen.query_one("#send-amount", Input)
            amount.value = "1.5"
            await settle(pilot)
            assert _error(app, "amount") == ""
            amount.focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: len(running.node.mempool) == 4, what="the transfer sent")
            await wait_for(pilot, lambda: isinstance(app.focused, DataTable), what="focus out of the form")
            await pilot.press("3")
            assert app.screen.TAB == "mempool"

    run(scenario())


def test_stake_dialog_escape_from_its_field_cancels(hybrid_app):
    async def scenario():
        async with hybrid_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            hybrid_app.actions.stake_dialog()
            await wait_for(pilot, lambda: hybrid_app.screen.query("#stake-dialog-form"), what="the dialog")
            await settle(pilot)
            assert isinstance(hybrid_app.focused, Input)
            await pilot.press("escape")
            assert isinstance(hybrid_app.screen, DashboardScreen)

    run(scenario())


def test_address_hint_names_this_chains_dev_labels(app, hybrid_running):
    from tests.tui.conftest import make_app

    assert "dev0…dev9)" in app.backend.check_address("")
    hybrid = make_app(hybrid_running)
    assert "dev0…dev15)" in hybrid.backend.check_address("")
    assert "(cthyb1…)" in hybrid.backend.check_address("")
