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
        # A panel whose size the stylesheet fixes (cells or fr, both ways) cannot move anything by changing
        # its text: repaint it alone instead of laying the whole screen out again (the layout pass was a
        # third of the TUI's time under load).
        self.update(type(self).render_view(view), layout=not self._is_fixed_size())

    def _is_fixed_size(self) -> bool:
        height, width = self.styles.height, self.styles.width
        return (height is not None and width is not None and not height.is_auto and not width.is_auto
                and not self.styles.max_height and not self.styles.min_height
                and self.styles.overflow_y == "hidden")  # (a scrolling one's scrollbars follow its text)
