"""ChainScreen: the chrome every screen shares (tabs, alerts, hint line, footer) and its live-update hooks."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer

from tui.messages import ModelChanged
from tui.widgets.alert_banner import AlertBanner
from tui.widgets.hint_line import HintLine
from tui.widgets.tab_bar import TabBar
from tui.workers import call_node


class ChainScreen(Screen):
    """Subclasses implement compose_body(), reload() (fetch from the node) and update_live(topics)."""

    TAB = "dashboard"  # which tab is highlighted

    def __init__(self) -> None:
        super().__init__()
        self._throttle: dict[str, float] = {}

    def compose(self) -> ComposeResult:
        yield TabBar(id="tabs")
        yield AlertBanner(id="alerts")
        with Container(id="body", classes=f"body-{self.TAB}"):
            yield from self.compose_body()
        yield HintLine(id="hint")
        yield Footer()

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
        """True at most once per `every` seconds for `key`: throttles node reads triggered by live events."""
        now = time.monotonic()
        if now - self._throttle.get(key, 0.0) < every:
            return False
        self._throttle[key] = now
        return True

    # -- lifecycle -------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.refresh_chrome()
        self.reload()

    def on_screen_resume(self) -> None:
        self.refresh_chrome()
        self.update_live(frozenset({"head", "mempool", "mining", "pos", "log", "alert", "clock"}))

    def on_resize(self) -> None:
        self.refresh_chrome()

    def on_model_changed(self, message: ModelChanged) -> None:
        self.refresh_chrome()
        self.update_live(message.topics)

    def refresh_chrome(self) -> None:
        if not self.is_mounted:
            return
        s = self.model.status
        self.query_one(TabBar).show({"active": self.TAB, "width": self.size.width, "network": s.get("network"),
                                     "consensus": s.get("consensus"), "height": s.get("height")})
        self.query_one(HintLine).show({"command": self.app.last_command, "prefix": self.app.cli_prefix})
        self.query_one(AlertBanner).show({"lines": self.app.recent_alerts(),
                                          "clock": self.app.live_clock})

    def reload(self) -> None:
        """Fetch what this screen shows from the node (in workers)."""

    def update_live(self, topics: frozenset[str]) -> None:
        """Redraw from the live model; called at most ~10 times a second with the topics that changed."""
