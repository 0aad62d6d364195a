"""A small column chart over recent blocks (difficulty, block times)."""

from __future__ import annotations

from rich.text import Text

from tui import draw
from tui.widgets.panel import ViewPanel


def render_column_chart(view: dict) -> Text:
    """view: values (oldest first), height (rows), unit, first_label, last_label, reference (a dashed
    level)."""
    values = view.get("values", [])
    if not values:
        return Text(view.get("empty", "no data yet"), style="dim")
    rows = draw.column_chart(values, view.get("height", 5))
    top = max(values)
    t = Text()
    for i, row in enumerate(rows):
        label = f"{top:>8.3g} " if i == 0 else " " * 9
        t.append(label, style="dim")
        t.append(row + "\n", style=view.get("style", "cyan"))
    t.append(" " * 9 + f"{view.get('first_label', '')}".ljust(
                 max(0, len(values) - len(str(view.get('last_label', ''))))),
             style="dim")
    t.append(f"{view.get('last_label', '')}", style="dim")
    if view.get("caption"):
        t.append("\n" + view["caption"], style="dim")
    return t


class ColumnChart(ViewPanel):
    render_view = staticmethod(render_column_chart)
