"""A table of named fields, each with its value and a short explanation of what the number means."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tui.widgets.panel import ViewPanel

WIDE = 130  # from this many columns the explanation gets its own column; below, it goes under the value


def render_fields(view: dict) -> Table:
    """view: rows [(name, value, explanation)], explain (bool), width (of the panel; default wide)."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(style="bold cyan", no_wrap=True)
    explain = view.get("explain", True)
    beside = explain and view.get("width", WIDE) >= WIDE
    table.add_column(overflow="fold", min_width=66 if beside else None)
    if beside:
        table.add_column(style="dim", ratio=1)
    for name, value, why in view.get("rows", []):
        text = value if isinstance(value, Text) else Text(_plain(value))
        if beside:
            table.add_row(name, text, why or "")
        elif explain and why:
            table.add_row(name, Text.assemble(text, "\n", (why, "dim")))
        else:
            table.add_row(name, text)
    return table


def _plain(value) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


class FieldTable(ViewPanel):
    """Redraws itself with the explanation beside or under each value as its width changes."""

    render_view = staticmethod(render_fields)

    def show(self, view) -> None:
        super().show({**view, "width": self.size.width or self.app.size.width})

    def on_resize(self) -> None:
        if self._view is not None:
            self.show(self._view)
