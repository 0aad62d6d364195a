"""ViewPanel: a Static that draws a view dict through a pure render function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.widgets import Static


class ViewPanel(Static):
    """Subclasses set `render_view`; `show(view)` redraws only when the view changed."""

    render_view: Callable[[Any], Any] = staticmethod(lambda view: str(view))

    def __init__(self, title: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self._view: Any = None
        if title:
            self.border_title = title

    def show(self, view: Any) -> None:
        if view == self._view:
            return
        self._view = view
        self.update(type(self).render_view(view))
