"""Stakes and withdrawals reach the Events screen (and `chaintop watch`) in plain words."""

from __future__ import annotations

from rich.text import Text

from cli.node import _describe
from node import events as ev
from tests.tui.conftest import SIZE, run, settle, wait_for
from tui.screens.events import EventsScreen
from tui.widgets.event_log import EventLog

COIN = 10**8


def log_text(app) -> str:
    """The log's lines as one string, wrapping undone (a long line wraps at the screen's width)."""
    log = app.screen.query_one(EventLog)
    return " ".join(" ".join("".join(seg.text for seg in strip) for strip in log.lines).split())


def test_stake_and_withdrawal_show_on_the_events_screen(app, running):
    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("7")
            await settle(pilot)
            assert isinstance(app.screen, EventsScreen)
            running.node.events.emit(ev.ValidatorStaked(4, 32 * COIN))
            running.node.events.emit(ev.StakeWithdrawn(2, 31 * COIN))
            await wait_for(pilot, lambda: "lock-up" in log_text(app), what="the withdrawal line")
            text = log_text(app)
            assert "validator #4 staked with 32 coins" in text
            assert "validator #2's lock-up is over: 31 coins went back to the account that staked it" in text

    run(scenario())


def test_watch_describes_stakes_and_withdrawals():
    staked = Text.from_markup(_describe(ev.ValidatorStaked(4, 32 * COIN).to_dict())).plain
    withdrawn = Text.from_markup(_describe(ev.StakeWithdrawn(2, 31 * COIN).to_dict())).plain
    assert "staked validator #4 with 32 coins" in staked
    assert "withdrawn validator #2's lock-up is over: 31 coins went back" in withdrawn
