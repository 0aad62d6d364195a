"""The blocks list: one row per block, newest first, filled a page at a time as the cursor nears the end."""

from __future__ import annotations

from textual.widgets import DataTable

from tui import fmt

COLUMNS = (("height", "height"), ("hash", "hash"), ("age", "age"), ("txs", "txs"),
           ("difficulty", "difficulty"), ("beneficiary", "beneficiary"))
# Rows kept while new blocks arrive at the top and the cursor is near it: a DataTable re-sorts and redraws all
# its rows on each change, and at 100 blocks a second the list would grow without end (paging down fetches
# the dropped ones again).
LIVE_ROWS = 150


def block_row(view: dict, now: float) -> tuple:
    """One header view (node.blocks shape) -> the cells of its row."""
    return (view["height"], fmt.short(view["hash"], 16), fmt.age(now - view["timestamp"]),
            view.get("n_tx", 0), f"{view.get('difficulty', 0):.4g}", fmt.short_addr(view.get("beneficiary")))


class BlockTable(DataTable):
    """Rows keyed by height; `lowest` is the oldest height loaded (the next page starts below it)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.lowest: int | None = None
        self.highest: int | None = None
        self.timestamps: dict[int, int] = {}
        self.ages: dict[int, str] = {}  # the age text each row shows

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def add_headers(self, views: list[dict], now: float) -> None:
        new = [v for v in views if str(v["height"]) not in self.rows]
        if not new:
            return
        prepend = self.highest is not None and new[0]["height"] > self.highest
        keep = self.cursor_row
        for v in new:
            row = block_row(v, now)
            self.add_row(*row, key=str(v["height"]))
            self.timestamps[v["height"]] = v["timestamp"]
            self.ages[v["height"]] = row[2]
        heights = [v["height"] for v in new]
        self.lowest = min(heights + ([self.lowest] if self.lowest is not None else []))
        self.highest = max(heights + ([self.highest] if self.highest is not None else []))
        if prepend:
            self.sort("height", reverse=True)
            if keep > 0:  # stay on the same block while new ones arrive above it
                self.move_cursor(row=keep + len(new), animate=False)
            self._trim(LIVE_ROWS)

    def _trim(self, keep: int) -> None:
        """Drop the oldest rows beyond `keep` while the cursor is well above them."""
        extra = self.row_count - keep
        if extra <= 0 or self.cursor_row >= keep // 2:
            return
        for h in sorted(self.timestamps)[:extra]:
            self.remove_row(str(h))
            del self.timestamps[h]
            self.ages.pop(h, None)
        self.lowest = min(self.timestamps)

    def refresh_ages(self, now: float, rows: int = 60) -> None:
        """The age column of the top rows; a cell is touched only when its text changes (any change makes the
        table draw all its rows again)."""
        for i in range(min(rows, self.row_count)):
            key = self.coordinate_to_cell_key((i, 0)).row_key
            h = int(key.value)
            age = fmt.age(now - self.timestamps[h])
            if self.ages.get(h) != age:
                self.ages[h] = age
                self.update_cell(key, "age", age)

    def drop_above(self, height: int) -> None:
        """After a reorg: rows above the fork point are stale (their heights hold other blocks now)."""
        for h in [h for h in self.timestamps if h > height]:
            self.remove_row(str(h))
            del self.timestamps[h]
            self.ages.pop(h, None)
        self.highest = max(self.timestamps) if self.timestamps else None
