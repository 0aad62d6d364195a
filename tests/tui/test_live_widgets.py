"""The widgets a busy chain redraws most (issue 11, key-to-screen latency under load): the dashboard's block
ticker draws exactly what rich's Table drew for it, the blocks list stays bounded and touches only the ages
that changed, and the events pane typesets no more than a screenful per redraw."""

from __future__ import annotations

import asyncio

import pytest
from rich.console import Console
from rich.table import Table
from textual.app import App

from tui import fmt
from tui.model import LogLine
from tui.widgets.block_table import LIVE_ROWS, BlockTable
from tui.widgets.block_ticker import render_ticker
from tui.widgets.event_log import EventLog


def _lines(renderable, width: int) -> list[list[tuple[str, str]]]:
    console = Console(width=width, color_system="truecolor")
    lines = console.render_lines(renderable, console.options.update(width=width), pad=False)
    # (character, style) per cell: the two renderers may split a line into segments differently
    return [[(ch, _norm(seg.style)) for seg in line for ch in seg.text] for line in lines]


def _norm(style) -> str:
    return "" if style is None or not str(style) or str(style) == "none" else str(style)


def _reference_table(view: dict) -> Table:
    """The ticker as it was drawn before TickerRows: rich's Table."""
    t = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    t.add_column("height", justify="right")
    t.add_column("hash")
    t.add_column("age", justify="right")
    t.add_column("txs", justify="right")
    for b in view["blocks"][: view["limit"]]:
        t.add_row(str(b["height"]), fmt.short(b["hash"], 16), fmt.age(view["now"] - b["timestamp"]),
                  str(b.get("n_tx", "?")))
    return t


@pytest.mark.parametrize("width", [60, 40, 24])
@pytest.mark.parametrize("count", [1, 4, 10])
def test_the_ticker_draws_what_the_table_drew(width, count):
    blocks = [{"height": 5_000 - 37 * i, "hash": f"{i:02x}" * 32, "timestamp": 1_000 - 13 * i ** 3,
               "n_tx": i * i} for i in range(count)]
    view = {"blocks": blocks, "now": 1_100, "limit": 10}
    assert _lines(render_ticker(view), width) == _lines(_reference_table(view), width)


class _Blocks(App):
    def compose(self):
        yield BlockTable(id="t")


def _views(top: int, count: int) -> list[dict]:
    return [{"height": h, "hash": f"{h:064x}", "timestamp": 1_000 + h, "n_tx": 0, "difficulty": 1.0,
             "beneficiary": None} for h in range(top, top - count, -1) if h >= 0]


def test_the_blocks_list_stays_bounded_while_blocks_arrive_at_the_top():
    async def scenario():
        app = _Blocks()
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one(BlockTable)
            table.add_headers(_views(49, 50), 2_000)
            for top in range(99, 1_000, 50):  # 50 new blocks at a time, the cursor at the top
                table.add_headers(_views(top, 50), 2_000)
                await pilot.pause()
            assert table.row_count == LIVE_ROWS
            assert (table.highest, table.lowest) == (999, 999 - LIVE_ROWS + 1)
            assert table.coordinate_to_cell_key((0, 0)).row_key.value == "999"  # newest first
            # the user scrolled down: nothing is dropped under the cursor
            table.move_cursor(row=LIVE_ROWS - 5, animate=False)
            table.add_headers(_views(1_049, 50), 2_000)
            assert table.row_count == LIVE_ROWS + 50

    asyncio.run(scenario())


def test_ages_are_written_only_when_their_text_changes():
    async def scenario():
        app = _Blocks()
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one(BlockTable)
            table.add_headers(_views(9, 10), 1_100)  # ages 91 s .. 100 s: "1m31s" ...
            await pilot.pause()
            writes = []
            real = table.update_cell
            table.update_cell = lambda *a, **k: (writes.append(a), real(*a, **k))
            table.refresh_ages(1_100)  # the same second: every text is as drawn
            assert writes == []
            table.refresh_ages(1_101)
            assert len(writes) == 10
            assert table.get_cell("9", "age") == "1m32s"

    asyncio.run(scenario())


class _Log(App):
    def compose(self):
        yield EventLog(id="log", clock=False)


def test_a_flood_of_events_is_typeset_a_screenful_at_a_time():
    async def scenario():
        app = _Log()
        async with app.run_test(size=(100, 30)) as pilot:
            log = app.query_one(EventLog)
            await pilot.pause()
            lines = [LogLine(i + 1, 0.0, "TxAdded", f"tx {i} added", "info", "tx") for i in range(500)]
            log.feed(lines)
            await pilot.pause()
            height = log.size.height
            assert len(log.lines) <= height + 1  # a screenful and the summary line
            text = "\n".join("".join(seg.text for seg in strip) for strip in log.lines)
            skipped = 500 - max(10, height)
            assert f"… {skipped} more events in this burst: {skipped} TxAdded" in text
            assert "tx 499 added" in text  # the newest are the ones shown
            assert log.shown_seq == 500

    asyncio.run(scenario())
