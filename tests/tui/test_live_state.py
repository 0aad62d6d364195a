"""The TUI follows node state changed outside it (the CLI over RPC calls the same service methods): traffic,
workers, mode, and a `mine` call's search."""

from __future__ import annotations

import asyncio

from tests.tui.conftest import SIZE, panel_text, run, settle, wait_for
from tui.widgets.mining_summary import MiningSummary
from tui.widgets.search_progress import SearchProgress


def test_mining_screen_follows_settings_changed_outside_the_tui(app, running):
    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("4")
            await settle(pilot)
            summary = app.screen.query_one(MiningSummary)
            progress = app.screen.query_one(SearchProgress)
            assert "0 tx/s" in panel_text(summary)
            # what `chaintop mining --traffic 2`, `--traffic 0`, `--workers 3`, `mining off` do over RPC
            await asyncio.to_thread(running.service.set_traffic, 2.0)
            await wait_for(pilot, lambda: "2 tx/s" in panel_text(summary), what="traffic 2 on screen")
            await asyncio.to_thread(running.service.set_traffic, 0.0)
            await wait_for(pilot, lambda: "0 tx/s" in panel_text(summary), what="traffic 0 on screen")
            await asyncio.to_thread(running.service.set_workers, 3)
            await wait_for(pilot, lambda: "3 worker(s)" in panel_text(summary), what="3 workers on screen")
            await asyncio.to_thread(running.service.set_mining, "off")
            await wait_for(pilot, lambda: "mining is off" in panel_text(progress), what="mode off")
            # a `mine` call (RPC `mine` -> Node.mine) searches while the mode is off: the screen says so
            with running.service.mine_call():
                await wait_for(pilot, lambda: "a mine call" in panel_text(progress), what="searching shown")
                assert "searching" in panel_text(summary)
            await wait_for(pilot, lambda: "mining is off" in panel_text(progress), what="idle again")
            assert "idle" in panel_text(summary)

    run(scenario())
