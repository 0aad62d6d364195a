"""Screenshots of every screen at 120x40 on the deterministic chain (frozen display clock, no wall-clock
times).

Update after an intended change with: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest

from tests.tui.conftest import SIZE, settle


def take(snap_compare, app, *keys, size=SIZE, before=None):
    async def run_before(pilot):
        await settle(pilot)
        if before is not None:
            await before(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("key", ["1", "2", "3", "4", "5", "6", "7"],
                         ids=["dashboard", "blocks", "mempool", "mining", "validators", "wallet", "events"])
def test_screen(snap_compare, app, key):
    take(snap_compare, app, key)


def test_block_detail(snap_compare, app):
    take(snap_compare, app, "2", "down", "down", "down", "down", "down", "down", "down", "enter")


def test_tx_detail(snap_compare, app, chain_facts):
    async def open_tx(pilot):
        pilot.app.open_tx(chain_facts["txids"][3])

    take(snap_compare, app, before=open_tx)


def test_account(snap_compare, app):
    async def open_account(pilot):
        pilot.app.open_account("dev1")

    take(snap_compare, app, before=open_account)


def test_help(snap_compare, app):
    take(snap_compare, app, "4", "question_mark")


def test_send_form_errors(snap_compare, app):
    async def bad_send(pilot):
        await pilot.press("6")
        await settle(pilot)
        pilot.app.screen.query_one("#send-to").value = "nobody"
        pilot.app.screen.query_one("#send-amount").value = "-3"
        pilot.app.screen.query_one("#send-form").submit()

    take(snap_compare, app, before=bad_send)


def test_dashboard_80x24(snap_compare, app):
    take(snap_compare, app, "1", size=(80, 24))


# -- proof of stake on the deterministic hybrid chain (PoW blocks, FFG committees; see build_hybrid_chain) ---

@pytest.mark.parametrize("key", ["1", "5"], ids=["dashboard", "validators"])
def test_hybrid_screen(snap_compare, hybrid_app, key):
    take(snap_compare, hybrid_app, key)


def test_hybrid_block_with_votes_and_evidence(snap_compare, hybrid_app, hybrid_facts):
    async def open_block(pilot):
        pilot.app.open_block(hybrid_facts["evidence_block"])

    take(snap_compare, hybrid_app, before=open_block)
