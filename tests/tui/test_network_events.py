"""The network's events (node/p2p) reach the Events screen in plain words."""

from __future__ import annotations

from node import events as ev
from tests.tui.conftest import SIZE, run, settle, wait_for
from tests.tui.test_event_words import log_text
from tui.screens.events import EventsScreen


def test_peers_and_received_blocks_show_on_the_events_screen(app, running):
    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("7")
            await settle(pilot)
            assert isinstance(app.screen, EventsScreen)
            events = running.node.events
            events.emit(ev.PeerJoined("ab" * 32, "127.0.0.1:20001", "outbound", 12))
            events.emit(ev.BlockReceived(13, "cd" * 32, "127.0.0.1:20001", 1.25, "connected"))
            events.emit(ev.PeerBanned("ab" * 32, "127.0.0.1:20001", "sent invalid block (bad-tx-root)", 600))
            events.emit(ev.PeerLeft("ab" * 32, "127.0.0.1:20001", "banned"))
            await wait_for(pilot, lambda: "left: banned" in log_text(app), what="the PeerLeft line")
            text = log_text(app)
            assert "peer 127.0.0.1:20001 joined (outbound, node abababababab…, at height 12)" in text
            assert "block 13" in text and "1.2 ms after it was published: connected" in text
            assert "BANNED peer 127.0.0.1:20001 for 600 s: sent invalid block (bad-tx-root)" in text

    run(scenario())
