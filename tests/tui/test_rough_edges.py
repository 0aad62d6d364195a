"""Rough edges a new user hit on the TUI's screens: a dialog froze the screen behind it, a missing block
showed empty boxes, the number keys and the echo line disagreed, internal counters in the Events caption, a
halving without its number, mining keys on proof of stake, a sender's nonces out of order, unexplained
template counts, and "active stake 1 coins" with no active validator (the 80-column badge: test_render)."""

from __future__ import annotations

import asyncio

import pytest
from rich.console import Console

from chain.params import COIN, HYBRID_DEVNET, POS_DEVNET, REGTEST
from node.daemon import RunningNode
from node.node import Node
from tests.tui.conftest import SIZE, make_app, panel_text, run, settle, wait_for
from tui.model import LiveModel
from tui.screens.block_detail import BlockDetailScreen, subsidy_text
from tui.screens.blocks import BlocksScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.events import caption_text
from tui.screens.help import HelpScreen
from tui.screens.mempool import render_template
from tui.screens.mining import MiningScreen
from tui.widgets.finality_panel import render_finality
from tui.widgets.mining_summary import MiningSummary


def text(renderable, width: int = 160) -> str:
    console = Console(width=width, record=True, color_system=None,
                      file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def test_the_screen_behind_a_dialog_keeps_updating(app, running):
    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("4")
            await settle(pilot)
            mining = app.screen
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            summary = mining.query_one(MiningSummary)
            for rate in (7, 9, 0):  # each change, not just the first (a resume as Help opens may carry that)
                await asyncio.to_thread(running.service.set_traffic, float(rate))
                await wait_for(pilot, lambda r=rate: f"{r} tx/s" in panel_text(summary),
                               what=f"traffic {rate} redrawn behind Help")
            assert isinstance(app.screen, HelpScreen)

    run(scenario())


def test_a_missing_block_says_so_in_one_message(app):
    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.open_block(99)
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, BlockDetailScreen)
            assert "no block at height 99" in panel_text(screen.query_one("#block-status"))
            assert not any(screen.query_one(sel).display
                           for sel in ("#block-reward", "#block-txs", "#block-header", "#block-pos"))

    run(scenario())


def test_number_keys_and_the_echo_line_agree(app):
    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("2")
            await settle(pilot)
            await pilot.press("enter")  # the head, block 12
            await settle(pilot)
            assert isinstance(app.screen, BlockDetailScreen) and app.last_command == "block 12"
            await pilot.press("1")
            await settle(pilot)
            await pilot.press("2")  # back to Blocks as it was left: block 12 open, and the echo says so
            await settle(pilot)
            assert isinstance(app.screen, BlockDetailScreen) and app.last_command == "block 12"
            await pilot.press("2")  # pressed again: the list itself
            await settle(pilot)
            assert isinstance(app.screen, BlocksScreen) and app.last_command == "blocks --last 20"
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("escape")
            assert isinstance(app.screen, BlocksScreen) and app.last_command == "blocks --last 20"

    run(scenario())


def test_events_caption_speaks_to_users():
    caption = caption_text({"events": 1234, "hide_tx": False, "pos": False})
    assert "1,234 events since this TUI opened" in caption and "t hides them" in caption
    assert "wake-up" not in caption and "coalesced" not in caption


def test_subsidy_explanation_names_the_halving_interval():
    assert subsidy_text(5, REGTEST) == ("new coins this height mints: 50 coins at genesis, halved every 150 "
                                        "blocks; the next halving is at block 150")
    assert "no new coins" in subsidy_text(5, POS_DEVNET)


@pytest.fixture
def pos_running(tmp_path):
    Node.create(tmp_path / "pos", "pos-devnet").close()
    node = RunningNode(tmp_path / "pos", mining="manual", traffic=0.0, workers=1).start()
    yield node
    node.close()


def _keys(app) -> dict[str, str]:
    return {key: b.binding.action for key, b in app.active_bindings.items()}


def test_proof_of_stake_screens_offer_no_mining_keys(app, pos_running):
    async def keys_on(the_app, mode: str) -> dict[str, str]:
        async with the_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            the_app.show_mode(mode)
            await settle(pilot)
            assert isinstance(the_app.screen, DashboardScreen if mode == "dashboard" else MiningScreen)
            before = the_app.last_command
            await pilot.press("space")
            await settle(pilot)
            assert the_app.last_command == before or the_app.backend.consensus != "pos"
            return _keys(the_app)

    assert "space" in run(keys_on(app, "dashboard"))
    assert "space" not in run(keys_on(make_app(pos_running), "dashboard"))
    pos_mining = run(keys_on(make_app(pos_running), "mining"))
    assert "space" not in pos_mining and "a" not in pos_mining and "t" in pos_mining


def test_mempool_rows_keep_a_senders_nonces_in_order():
    model = LiveModel(clock=lambda: 0.0)
    for txid, sender, nonce, rate in (("a7", "A", 7, 1.0), ("a8", "A", 8, 9.0), ("b0", "B", 0, 5.0)):
        model.apply(type("TxAdded", (), {"txid": txid, "sender": sender, "nonce": nonce, "fee": 1,
                                         "fee_rate": rate, "replaced": None})())
    assert [t.txid for t in model.pool_by_fee_rate()] == ["a7", "b0", "a8"]


def test_the_template_says_why_pending_transactions_wait(tmp_path):
    node = Node.create(tmp_path / "r", "regtest")
    try:
        node.send("dev0", "dev1", COIN)
        node.send("dev2", "dev1", COIN, nonce=1)  # nonce 0 never sent: queued behind the gap
        tpl = node.template_view()
        counts = (tpl["pending"], tpl["n_tx"], tpl["ready"], tpl["queued"], tpl["over_limit"])
        assert counts == (2, 1, 1, 1, 0)
        shown = text(render_template({"template": tpl}))
        assert "1 of the 2 pending" in shown and "ready  1 (each sender's nonces in order" in shown
        assert "queued 1 behind a nonce gap" in shown and "left out" not in shown
        over = text(render_template({"template": {**tpl, "over_limit": 2}}))
        assert "left out 2 ready but over the block's size or count limit" in over
    finally:
        node.close()


def test_active_stake_is_the_real_sum(tmp_path):
    node = Node.create(tmp_path / "h", "hybrid-devnet", genesis_validators=0)
    try:
        f = node.finality()
    finally:
        node.close()
    assert f["total_active_stake"] == 0 and f["active_validators"] == 0
    shown = text(render_finality({**f, "epoch": 0, "slot": 0,
                                  "slots_per_epoch": HYBRID_DEVNET.slots_per_epoch}))
    assert "0 coins active (0 validators)" in shown and "no active validator" in shown
