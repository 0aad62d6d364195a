"""ChainScreen: the chrome every screen shares (tabs, alerts, hint line, footer) and its live-update hooks."""

from __future__ import annotations

import time

from textual import events
from textual.app import ComposeResult
from textual.containers import Container
from textual.screen import Screen

from tui.messages import ModelChanged
from tui.widgets.alert_banner import AlertBanner
from tui.widgets.hint_line import HintLine
from tui.widgets.key_footer import KeyFooter
from tui.widgets.tab_bar import TabBar
from tui.workers import call_node


class _StyledOnce(Screen):
    """Textual restyles every widget of a screen each time it resumes, in case the stylesheet changed while it
    was away, and re-reads the whole stylesheet before a new screen's first showing. A screen styled against
    the stylesheet in force keeps its styles: a new one's widgets are styled as they mount, and widgets that
    change class restyle themselves. A theme change or a resize while it was away still restyles it."""

    def __init__(self) -> None:
        super().__init__()
        self._styled_for: tuple | None = None  # (stylesheet update count, terminal size) at the last restyle
        if any(self.app._screen_stacks.values()):  # not the first screen: the app's stylesheet is in force,
            # its widgets get styled as they mount; the stamp tells Textual no stylesheet re-read is due
            self._styled_for = (self.app._css_update_count, self.app.size)
            self._css_update_count = self.app._css_update_count

    async def on_event(self, event: events.Event) -> None:
        # A screen built in the background (ChaintopApp._prebuild_next) may get its Mount only after the app
        # began closing and pruned its widgets: there is nothing to set up then.
        if isinstance(event, events.Mount) and not self.app._running:
            return
        await super().on_event(event)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        now = (self.app._css_update_count, self.app.size)
        if event.refresh_styles and self._css_update_count == now[0] and self._styled_for == now:
            event.refresh_styles = False
        self._styled_for = now


class ChainScreen(_StyledOnce):
    """Subclasses implement compose_body(), reload() (fetch from the node) and update_live(topics)."""

    TAB = "dashboard"  # which tab is highlighted

    def __init__(self) -> None:
        super().__init__()
        self._throttle: dict[str, float] = {}
        self._topics: frozenset[str] = frozenset()  # what the update_live call now running was told
        # keys refused by due(), to be retried at the window's end
        self._trailing: dict[str, frozenset[str]] = {}

    def compose(self) -> ComposeResult:
        yield TabBar(id="tabs")
        yield AlertBanner(id="alerts")
        with Container(id="body", classes=f"body-{self.TAB}"):
            yield from self.compose_body()
        yield HintLine(id="hint")
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    # -- shortcuts -------------------------------------------------------------------------
    @property
    def backend(self):
        return self.app.backend

    @property
    def model(self):
        return self.app.model

    def now(self) -> float:
        return self.app.clock()

    def call(self, fn, *args, done=None, failed=None, group=None, **kwargs) -> None:
        call_node(self, fn, *args, done=done, failed=failed, group=group, **kwargs)

    def due(self, key: str, every: float) -> bool:
        """True at most once per `every` seconds for `key`: throttles node reads triggered by live events.

        A refused call is not dropped: update_live runs again with the same topics when the window ends, so
        the last event of a burst (the final block, the slashing) is always read back, not left stale."""
        now = time.monotonic()
        left = every - (now - self._throttle.get(key, 0.0))
        if left > 0:
            if self._topics and key not in self._trailing and self.is_mounted:
                self._trailing[key] = self._topics
                self.set_timer(left + 0.01, lambda: self._retry(key))
            return False
        self._throttle[key] = now
        return True

    def _retry(self, key: str) -> None:
        topics = self._trailing.pop(key, frozenset())
        if self.is_current:
            self._live(topics)

    # -- lifecycle -------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.refresh_chrome()
        self.reload()

    def on_screen_resume(self) -> None:
        if not self.is_current:
            return  # built in the background (ChaintopApp._prebuild_next): drawn when it is first shown
        self.refresh_chrome()
        # The screen shows as it was left at once; catching up with what happened meanwhile (the events
        # screen may have a burst of lines to typeset) waits for that first frame.
        self.call_after_refresh(self._live, frozenset({"head", "mempool", "mining", "pos", "log", "alert",
                                                       "clock"}))

    def on_resize(self) -> None:
        self.refresh_chrome()

    def on_model_changed(self, message: ModelChanged) -> None:
        self.refresh_chrome()
        self._live(message.topics)

    def _live(self, topics: frozenset[str]) -> None:
        self._topics = topics
        try:
            self.update_live(topics)
        finally:
            self._topics = frozenset()

    def refresh_chrome(self) -> None:
        if not self.is_mounted:
            return
        s = self.model.status
        self.query_one(TabBar).show({"active": self.TAB, "width": self.size.width,
                                     "network": s.get("network"), "consensus": s.get("consensus"),
                                     "height": s.get("height"), "networked": self.backend.is_networked})
        self.query_one(HintLine).show({"command": self.app.last_command, "prefix": self.app.cli_prefix,
                                       "note": getattr(self.app, "last_note", None)})
        self.query_one(AlertBanner).show({"lines": self.app.recent_alerts(),
                                          "clock": self.app.live_clock})

    def reload(self) -> None:
        """Fetch what this screen shows from the node (in workers)."""

    def update_live(self, topics: frozenset[str]) -> None:
        """Redraw from the live model; called at most ~10 times a second with the topics that changed."""
