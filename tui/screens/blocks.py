"""Blocks: newest first, paged on demand (a 100k-block chain opens as fast as a 1k one)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from tui.screens.base import ChainScreen
from tui.widgets.block_table import BlockTable

PAGE = 50  # rows fetched per page: a screenful or two
PREFETCH = 15  # fetch the next page when the cursor comes this close to the last loaded row


class BlocksScreen(ChainScreen):
    TAB = "blocks"
    AUTO_FOCUS = "#blocks-table"
    BINDINGS = [
        Binding("enter", "open", "Open block", id="blocks.open"),
        Binding("r", "reload", "Reload", id="blocks.reload"),
        Binding("g", "goto", "Go to height", id="blocks.goto"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static("newest first · enter opens a block · more load as you scroll · g goes to a height",
                     classes="caption", id="blocks-caption")
        yield BlockTable(id="blocks-table")

    def reload(self) -> None:
        self._loading = False
        self._load_page(None)

    def _load_page(self, below: int | None) -> None:
        if self._loading:
            return
        top = self.model.status.get("height") if below is None else below - 1
        if top is None:
            # the status snapshot has not arrived yet; ask the node for it
            self._loading = True
            self.call(self.backend.status, done=lambda s: self._start_from(s["height"]), group="blocks-page")
            return
        if top < 0:
            return
        self._loading = True
        self.call(self.backend.headers, top, PAGE, done=self._got_page, failed=self._page_failed,
                  group="blocks-page")

    def _start_from(self, height: int) -> None:
        self._loading = True
        self.call(self.backend.headers, height, PAGE, done=self._got_page, failed=self._page_failed,
                  group="blocks-page")

    def _got_page(self, views: list[dict]) -> None:
        self._loading = False
        table = self.query_one(BlockTable)
        table.add_headers(views, self.now())
        self._caption()

    def _page_failed(self, error) -> None:
        self._loading = False
        self.app.notify(f"could not load blocks: {error}", severity="error")

    def _caption(self) -> None:
        t = self.query_one(BlockTable)
        if t.lowest is None:
            return
        self.query_one("#blocks-caption", Static).update(
            f"newest first · showing heights {t.highest}…{t.lowest} ({t.row_count} loaded"
            f"{'' if t.lowest == 0 else ', more as you scroll'}) · enter opens · g goes to a height")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one(BlockTable)
        if table.lowest and event.cursor_row >= table.row_count - PREFETCH:
            self._load_page(table.lowest)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.app.open_block(int(event.row_key.value))

    def update_live(self, topics: frozenset[str]) -> None:
        table = self.query_one(BlockTable)
        head = self.model.status.get("height")
        if "reorg" in topics:  # rows may now name blocks that left the main chain
            self.action_reload(echo=False)
            return
        if "head" in topics and head is not None and table.highest is not None:
            if head < table.highest:
                table.drop_above(head)
            if head > table.highest and not self._loading and self.due("blocks-new", 0.5):
                if head - table.highest > PAGE and table.cursor_row < PREFETCH:
                    # more new blocks than a page: start again from the head (no gap below the new page)
                    self.action_reload(echo=False)
                    return
                count = min(PAGE, head - table.highest)
                self._loading = True
                self.call(self.backend.headers, head, count, done=self._got_page, failed=self._page_failed,
                          group="blocks-page")
        if "clock" in topics:
            table.refresh_ages(self.now())

    def action_open(self) -> None:
        table = self.query_one(BlockTable)
        if table.row_count:
            key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key
            self.app.open_block(int(key.value))

    def action_reload(self, echo: bool = True) -> None:
        table = self.query_one(BlockTable)
        table.clear()
        table.lowest = table.highest = None
        table.timestamps.clear()
        table.ages.clear()
        self._loading = False
        self._load_page(None)
        if echo:
            self.app.show_command("blocks --last 50")

    def action_goto(self) -> None:
        self.app.actions.prompt_block()
