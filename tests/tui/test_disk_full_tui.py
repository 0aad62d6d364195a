"""The TUI on a full disk (issue 14): the node's disk-full shows inline (the mining panel's FAILED line, the
event log's alert), and the screen keeps drawing; it was a crash on the panel's retry time."""

from __future__ import annotations

import pytest

from chain.errors import ChaintopError
from tests.tui.conftest import SIZE, run, settle, wait_for
from tui.widgets.mining_summary import render_mining_summary


def test_a_full_disk_is_said_on_the_dashboard(app, running, tmp_path, monkeypatch):
    fault = tmp_path / "disk-full"
    monkeypatch.setenv("CHAINTOP_FAULT_DISK_FULL", str(fault))

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            fault.touch()
            with pytest.raises(ChaintopError) as e:
                running.node.send("dev0", "dev1", 1000)
            assert e.value.code == "disk-full"
            await wait_for(pilot, lambda: "disk-full" in app.export_screenshot(), what="the disk-full line")
            assert app.is_running

    run(scenario())

def test_the_mining_panel_draws_an_error_without_a_retry_time():
    view = {"mode": "auto", "workers": 2, "error": {"reason": "disk-full", "message": "the disk is full",
                                                    "retry_in": None}}
    render_mining_summary(view)  # no TypeError on None
