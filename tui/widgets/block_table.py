"""The blocks list: one row per block, newest first, filled a page at a time as the cursor nears the end."""

from __future__ import annotations

from textual.widgets import DataTable

from tui import fmt

COLUMNS = (("height", "height"), ("hash", "hash"), ("age", "age"), ("txs", "txs"),
           ("difficulty", "difficulty"), ("beneficiary", "beneficiary"))


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
            self.add_row(*block_row(v, now), key=str(v["height"]))
            self.timestamps[v["height"]] = v["timestamp"]
        heights = [v["height"] for v in new]
        self.lowest = min(heights + ([self.lowest] if self.lowest is not None else []))
        self.highest = max(heights + ([self.highest] if self.highest is not None else []))
        if prepend:
            self.sort("height", reverse=True)
            if keep > 0:  # stay on the same block while new ones arrive above it
                self.move_cursor(row=keep + len(new), animate=False)

    def refresh_ages(self, now: float, rows: int = 60) -> None:
        for i in range(min(rows, self.row_count)):
            key = self.coordinate_to_cell_key((i, 0)).row_key
            h = int(key.value)
            self.update_cell(key, "age", fmt.age(now - self.timestamps[h]))

    def drop_above(self, height: int) -> None:
        """After a reorg: rows above the fork point are stale (their heights hold other blocks now)."""
        for h in [h for h in self.timestamps if h > height]:
            self.remove_row(str(h))
            del self.timestamps[h]
        self.highest = max(self.timestamps) if self.timestamps else None
