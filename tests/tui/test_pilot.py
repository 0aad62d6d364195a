"""The TUI driven through Pilot on a real node: navigation, search, send, mining toggles, palette,
quitting."""

from __future__ import annotations

import threading

from textual.widgets import DataTable, Input, Label

from node import events as ev
from tests.tui.conftest import SIZE, make_app, panel_text, run, settle, wait_for
from tui.screens.account import AccountScreen
from tui.screens.block_detail import BlockDetailScreen
from tui.screens.blocks import BlocksScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.events import EventsScreen
from tui.screens.help import HelpScreen
from tui.screens.mempool import MempoolScreen
from tui.screens.mining import MiningScreen
from tui.screens.prompt import PromptScreen
from tui.screens.tx import TxScreen
from tui.screens.validators import ValidatorsScreen
from tui.screens.wallet import WalletScreen


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


def test_number_keys_switch_screens_and_help_explains_each(app):
    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            expected = {"1": DashboardScreen, "2": BlocksScreen, "3": MempoolScreen, "4": MiningScreen,
                        "5": ValidatorsScreen, "6": WalletScreen, "7": EventsScreen}
            for key, screen in expected.items():
                await pilot.press(key)
                await settle(pilot)
                assert isinstance(app.screen, screen), key
                await pilot.press("question_mark")
                assert isinstance(app.screen, HelpScreen)
                await pilot.press("escape")
                assert isinstance(app.screen, screen)
            assert app.last_command == "watch"  # the Events screen's CLI twin

    run(scenario())


def test_drill_down_block_tx_account_and_back(app, chain_facts):
    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("2")
            await settle(pilot)
            table = app.screen.query_one(DataTable)
            assert table.row_count == 13  # heights 12..0: one page covers this chain
            for _ in range(7):  # down to height 5, which holds three transfers
                await pilot.press("down")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, BlockDetailScreen) and app.screen.block["height"] == 5
            assert app.last_command == "block 5"
            await pilot.press("left_square_bracket")  # parent
            await settle(pilot)
            assert app.screen.block["height"] == 4
            await pilot.press("right_square_bracket")
            await settle(pilot)
            txs = app.screen.query_one("#block-txs", DataTable)
            assert txs.row_count == 3
            txs.focus()
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, TxScreen)
            assert app.screen.tx["status"] == "confirmed" and app.screen.tx["height"] == 5
            await pilot.press("t")  # to the recipient's account
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen)
            assert app.screen.acct["balance"] > 0
            history = app.screen.query_one("#account-history", DataTable)
            assert history.row_count >= 1
            for screen in (TxScreen, BlockDetailScreen, BlocksScreen):
                await pilot.press("escape")
                assert isinstance(app.screen, screen)

    run(scenario())


def test_search_opens_the_right_view_and_nonsense_gets_a_message(app, chain_facts):
    async def search(pilot, text):
        await pilot.press("slash")
        inp = app.screen.query_one(Input)
        inp.value = text
        await pilot.press("enter")
        await settle(pilot)

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await search(pilot, "7")
            assert isinstance(app.screen, BlockDetailScreen) and app.screen.block["height"] == 7
            await pilot.press("escape")
            await search(pilot, chain_facts["block5"])
            assert isinstance(app.screen, BlockDetailScreen) and app.screen.block["height"] == 5
            await pilot.press("escape")
            await search(pilot, chain_facts["txids"][0])
            assert isinstance(app.screen, TxScreen) and app.screen.tx["txid"] == chain_facts["txids"][0]
            await pilot.press("escape")
            await search(pilot, chain_facts["pending"][0])
            assert isinstance(app.screen, TxScreen) and app.screen.tx["status"] == "pending"
            await pilot.press("escape")
            await search(pilot, chain_facts["dev1"])
            assert isinstance(app.screen, AccountScreen) and app.screen.acct["label"] == "dev1"
            await pilot.press("escape")
            await search(pilot, "dev3")
            assert isinstance(app.screen, AccountScreen) and app.screen.acct["label"] == "dev3"
            await pilot.press("escape")
            assert isinstance(app.screen, DashboardScreen)
            await search(pilot, "hello world")
            assert isinstance(app.screen, DashboardScreen)
            assert any("is not a height" in n for n in notifications(app))
            await search(pilot, "ab" * 32)
            assert isinstance(app.screen, DashboardScreen)
            assert any("no block or transaction" in n for n in notifications(app))
            await search(pilot, "99999")
            assert any("no block at height 99999" in str(n) for n in
                       [app.screen.query_one("#block-status").render()]), "an unknown height says so"

    run(scenario())


def test_send_form_sends_valid_input_and_reports_bad_input_inline(app, running):
    node = running.node

    async def fill(pilot, to, amount, fee=""):
        app.screen.query_one("#send-to", Input).value = to
        app.screen.query_one("#send-amount", Input).value = amount
        app.screen.query_one("#send-fee", Input).value = fee
        app.screen.query_one("#send-amount", Input).focus()
        await pilot.press("enter")
        await settle(pilot)

    def error(field):
        label = app.screen.query_one(f"#send-{field}-error", Label)
        return str(label.render()) if label.display else ""

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("6")
            await settle(pilot)
            before = len(node.mempool)
            await fill(pilot, "ctreg1notanaddress", "abc")
            assert "not an address of this network" in error("to")
            assert "not a number of coins" in error("amount")
            await fill(pilot, "dev1", "0")
            assert error("to") == "" and "more than zero" in error("amount")
            await fill(pilot, "dev1", "1.000000001")
            assert "8 decimal places" in error("amount")
            await fill(pilot, "dev1", "99999999")
            assert "but dev0 has" in error("amount")
            await fill(pilot, "dev1", "1", fee="0.000000001")
            assert "decimal places" in error("fee")
            assert len(node.mempool) == before, "nothing is sent while a field is wrong"
            await fill(pilot, "dev2", "1.5")
            await wait_for(pilot, lambda: len(node.mempool) == before + 1, what="the transfer in the mempool")
            assert app.last_command == "send --from dev0 --to dev2 --amount 1.5"
            assert app.screen.query_one("#send-amount", Input).value == ""  # cleared after sending
            await wait_for(pilot, lambda: len(app.model.pool) == before + 1,
                           what="the TxAdded event in the model")

    run(scenario())


def test_mining_keys_switch_modes_and_mine(app, running):
    service = running.service

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("4")
            await settle(pilot)
            await pilot.press("a")
            await wait_for(pilot, lambda: service.mode == "auto", what="auto mode")
            assert app.last_command == "mining auto"
            # auto mode mines the three pending transactions at once
            await wait_for(pilot, lambda: running.node.status()["height"] >= 13, what="a block in auto mode")
            await pilot.press("m")
            await wait_for(pilot, lambda: service.mode == "manual", what="manual mode")
            height = running.node.status()["height"]
            await pilot.press("space")
            await wait_for(pilot, lambda: running.node.status()["height"] == height + 1,
                           what="one mined block")
            assert app.last_command == "mine"
            await wait_for(pilot, lambda: app.model.status.get("height") == height + 1,
                           what="the head in the model")
            await pilot.press("t")
            await wait_for(pilot, lambda: service.traffic_rate == 10.0, what="traffic on")
            assert app.last_command == "mining --traffic 10"
            await pilot.press("t", "t")
            await wait_for(pilot, lambda: service.traffic_rate == 0.0, what="traffic off")
            await pilot.press("o")
            await wait_for(pilot, lambda: service.mode == "off", what="mining off")

    run(scenario())


def test_mining_workers_keys_resize_the_pool_and_show_the_command(app, running):
    service = running.service
    workers = lambda: service.mining_state()["workers"]  # noqa: E731

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("4")
            await settle(pilot)
            assert workers() == 1
            await pilot.press("plus")
            await wait_for(pilot, lambda: workers() == 2, what="two workers")
            assert app.last_command == "mining --workers 2"
            hint = panel_text(app.screen.query_one("#hint"))
            assert "$ chaintop mining --workers 2" in hint, hint
            await wait_for(pilot,
                           lambda: "2 worker(s)" in panel_text(app.screen.query_one("#mining-summary")),
                           what="the summary showing two workers")
            height = running.node.status()["height"]
            await pilot.press("space")  # the miner's pool was rebuilt: it still mines
            await wait_for(pilot, lambda: running.node.status()["height"] == height + 1,
                           what="a block with 2 workers")
            await pilot.press("minus")
            await wait_for(pilot, lambda: workers() == 1, what="back to one worker")
            assert app.last_command == "mining --workers 1"
            await settle(pilot)
            await pilot.press("minus")  # one is the fewest: nothing asked of the node, a warning instead
            await settle(pilot)
            assert workers() == 1 and app.last_command == "mining --workers 1"
            assert any("already the fewest" in m for m in notifications(app))
            await pilot.press("ctrl+p")  # the palette asks for a number
            await pilot.press(*"mining: workers")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="the workers prompt")
            await pilot.press("3", "enter")
            await wait_for(pilot, lambda: workers() == 3, what="three workers from the palette")
            assert app.last_command == "mining --workers 3"

    run(scenario())


def test_command_palette_runs_chain_operations(app, running):
    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p")
            await pilot.press(*"mining: interval")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await wait_for(pilot, lambda: running.service.mode == "interval",
                           what="interval mode from the palette")
            await pilot.press("ctrl+p")
            await pilot.press(*"block 3")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, BlockDetailScreen) and app.screen.block["height"] == 3

    run(scenario())


def test_q_and_ctrl_q_quit_with_exit_code_0(running):
    for key in ("q", "ctrl+q"):
        app = make_app(running)

        async def scenario(app=app, key=key):
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                await pilot.press("2")
                await pilot.press(key)
                await pilot.pause()

        run(scenario())
        assert app.return_code == 0
        assert app.is_exiting


def test_small_terminal_80x24_keeps_every_screen_usable(app):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            for key in "1234567":
                await pilot.press(key)
                await settle(pilot)
                tabs = str(app.screen.query_one("#tabs").render())
                assert all(f" {k} " in tabs for k in "1234567"), "every screen key stays visible"
                assert "regtest" in tabs and "#12" in tabs, "and so does the chain's badge"
                assert app.screen.has_class("-narrow")
            await pilot.press("6")
            await settle(pilot)
            app.screen.query_one("#send-to", Input).focus()
            await pilot.pause()
            assert app.screen.query_one("#send-to", Input).region.height == 1  # compact: the form fits

    run(scenario())


def test_event_flood_is_coalesced_and_the_queue_stays_flat(app, running):
    """20k events from a node thread: the app is woken a few times, the queue never builds up."""
    bus = running.node.events
    queue_peak = [0]

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            applied_before = app.model.applied

            def flood():
                for i in range(20_000):
                    if i % 2:
                        bus.emit(ev.MiningProgress(99, i, 1000.0, "ff" * 32, "7f" * 32, 2.0, 0.1, 1))
                    else:
                        bus.emit(ev.TxAdded(f"{i:064x}", "ctreg1x", i, 1000, 6.7))

            t = threading.Thread(target=flood)
            t.start()
            while t.is_alive():
                queue_peak[0] = max(queue_peak[0], app._message_queue.qsize())
                await pilot.pause(0.01)
            t.join()
            await wait_for(pilot, lambda: app.bridge.backlog == 0, what="the bridge drained")
            await settle(pilot)
            assert app.model.applied - applied_before >= 10_000  # every TxAdded; progress coalesced
            assert len(app.model.pool) >= 10_000, "every TxAdded reached the model"
            assert app.bridge.wakeups < 20_000 / 5, "events are batched per wake-up"
            assert queue_peak[0] <= 5, "the app's message queue does not grow with the flood"

    run(scenario())
