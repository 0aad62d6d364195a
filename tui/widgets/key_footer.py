"""KeyFooter: Textual's Footer, rebuilt only when the keys it shows changed."""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    """Footer recomposes all its keys (new widgets, styles and all) whenever the screen's bindings are
    refreshed: on every screen switch, focus move or refresh_bindings, a third of a switch's time under load.
    The keys shown seldom change, so compare what it would show first."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None

    def bindings_changed(self, screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    def _signature(self) -> tuple:
        active = self.screen.active_bindings
        keys = tuple((b.key, b.action, b.description, b.group, enabled, tooltip)
                     for (_, b, enabled, tooltip) in active.values() if b.show)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        return keys, palette[1:] if palette else None, self.show_command_palette, self.compact

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached:
            return
        signature = self._signature()
        if signature != self._shown:
            self._shown = signature
            await self.recompose()
