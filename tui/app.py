"""ChaintopApp: wires the node (through Backend), the live model, the screens, the palette and the key
bindings."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import App, ScreenStackError
from textual.binding import Binding

from chain.errors import ChaintopError
from tui import equivalents
from tui.actions import Actions
from tui.backend import Backend
from tui.bridge import EventBridge
from tui.commands import ChainCommands
from tui.messages import ModelChanged, NodeEventsReady
from tui.model import LiveModel
from tui.screens.account import AccountScreen
from tui.screens.block_detail import BlockDetailScreen
from tui.screens.blocks import BlocksScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.events import EventsScreen
from tui.screens.help import HelpScreen
from tui.screens.mempool import MempoolScreen
from tui.screens.mining import MiningScreen
from tui.screens.network import NetworkScreen
from tui.screens.prompt import PromptScreen
from tui.screens.tx import TxScreen
from tui.screens.validators import ValidatorsScreen
from tui.screens.wallet import WalletScreen
from tui.search import classify
from tui.workers import call_node

REDRAW_EVERY = 0.1  # seconds: at most ~10 redraws a second however fast events arrive
STATUS_EVERY = 0.5  # seconds between status() reads while blocks keep arriving
ALERT_SECONDS = 30  # how long a slashing / leak / reorg stays in the banner
PREBUILD_GAP = 0.05  # seconds between building one screen in the background and the next


class ChaintopApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "chaintop"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    MODES = {"dashboard": DashboardScreen, "blocks": BlocksScreen, "mempool": MempoolScreen,
             "mining": MiningScreen, "validators": ValidatorsScreen, "wallet": WalletScreen,
             "events": EventsScreen, "network": NetworkScreen}
    DEFAULT_MODE = "dashboard"
    COMMANDS = App.COMMANDS | {ChainCommands}
    BINDINGS = [
        Binding("1", "show_mode('dashboard')", "Dashboard", id="screen.dashboard", show=False),
        Binding("2", "show_mode('blocks')", "Blocks", id="screen.blocks", show=False),
        Binding("3", "show_mode('mempool')", "Mempool", id="screen.mempool", show=False),
        Binding("4", "show_mode('mining')", "Mining", id="screen.mining", show=False),
        Binding("5", "show_mode('validators')", "Validators", id="screen.validators", show=False),
        Binding("6", "show_mode('wallet')", "Wallet", id="screen.wallet", show=False),
        Binding("7", "show_mode('events')", "Events", id="screen.events", show=False),
        Binding("8", "show_mode('network')", "Network", id="screen.network", show=False),
        Binding("slash", "search", "Search", id="app.search"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit_clean", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit_clean", "Quit", id="app.quit_ctrl", show=False, priority=True),
        Binding("escape", "back", "Back", id="app.back", show=False),
    ]

    def __init__(self, backend: Backend, clock: Callable[[], float] = time.time, cli_prefix: str = "chaintop",
                 live_clock: bool = True, prebuild: bool = True) -> None:
        super().__init__()
        self.prebuild = prebuild  # build the other screens in the background after the first paint
        self.prebuilt = not prebuild  # True once every screen is built (tests wait for it to settle)
        self.backend = backend
        self.clock = clock
        self.cli_prefix = cli_prefix
        self.live_clock = live_clock  # False in snapshot tests: no wall-clock times on screen
        self.model = LiveModel(clock)
        self.actions = Actions(self)
        self.last_command: str | None = None
        self.last_note: str | None = None  # said beside the command when it is not an exact equivalent
        self.is_exiting = False
        self.explain = True  # field explanations on detail screens (x toggles)
        self._status_due = False
        self._status_at = 0.0
        self._alert_seq = 0
        # Subscribe before the snapshot so nothing falls between them; events wait in the bridge until mount.
        self.bridge = EventBridge(backend.events, self._wake).start()
        self.keys = backend.keys()
        self.model.labels = {k["address"]: k["label"] for k in self.keys}
        self.model.load_status(backend.status())
        self.model.load_recent(backend.recent_blocks(64))
        self.model.load_pool(backend.mempool_view())
        self.model.load_mining(backend.mining_state())

    # -- node events -> model -> screen --------------------------------------------------------
    def _wake(self) -> None:
        if self._loop is not None:  # before the loop runs, on_mount drains instead
            self.post_message(NodeEventsReady())

    def on_mount(self) -> None:
        self.set_interval(REDRAW_EVERY, self._tick)
        self.set_interval(1.0, self._clock_tick)
        self.on_node_events_ready(NodeEventsReady())
        if self.prebuild:
            self.call_after_refresh(self._prebuild_next)

    async def _prebuild_next(self) -> None:
        """Compose and mount the screens not yet visited, one at a time once the first screen is painted: the
        first visit to each is then a switch, not a build (that cost 120-550 ms a screen under load). A key
        press in between is handled between two widgets' mounts."""
        init_mode = getattr(self, "_init_mode", None)  # Textual's own first step of switch_mode
        if self.is_exiting or init_mode is None or not self._running or self._exit:
            return  # (shutting down: Textual is closing the screen stacks)
        pending = [m for m in self.MODES if m not in self._screen_stacks and m != self.current_mode
                   and (m != "network" or self.backend.is_networked)]
        if not pending:
            self.prebuilt = True
            return
        await init_mode(pending[0])
        self.set_timer(PREBUILD_GAP, self._prebuild_next)

    def _clock_tick(self) -> None:
        self.model.dirty.add("clock")  # ages and countdowns move even when no event arrives

    def on_unmount(self) -> None:
        self.bridge.stop()

    def on_node_events_ready(self, _message: NodeEventsReady) -> None:
        events = self.bridge.drain()
        for event in events:
            self.model.apply(event)
            if type(event).__name__ in ("BlockConnected", "Reorg"):
                self._status_due = True
        fresh = [a for a in self.model.alerts if a.seq > self._alert_seq]
        for line in fresh[-3:]:
            self.notify(line.text, severity="error", title=line.kind, timeout=8)
        if fresh:
            self._alert_seq = fresh[-1].seq

    def _tick(self) -> None:
        if self._status_due and time.monotonic() - self._status_at >= STATUS_EVERY:
            self._status_due = False
            self._status_at = time.monotonic()
            call_node(self, self.backend.status, done=self.model.load_status, group="status")
        try:
            screen = self.screen
        except ScreenStackError:  # between modes for a moment; the dirty topics wait for the next tick
            return
        topics = self.model.take_dirty()
        if topics:
            # A dialog or Help leaves the screen behind it in view: it keeps updating too (Textual repaints a
            # background screen's changes through the dialog). Screens fully covered catch up on resume.
            for shown in (*self._background_screens, screen):
                if hasattr(shown, "update_live"):
                    shown.post_message(ModelChanged(frozenset(topics)))

    def recent_alerts(self) -> list:
        now = self.clock()
        return [a for a in self.model.alerts if now - a.at <= ALERT_SECONDS][-2:]

    # -- navigation ------------------------------------------------------------------------
    def action_show_mode(self, mode: str) -> None:
        self.show_mode(mode)

    def show_mode(self, mode: str, focus: str | None = None) -> None:
        """A screen's number key: that screen as it was left (a block opened from it stays open; the echo
        line names the block); pressed again, back to the screen's own list."""
        if self.current_mode != mode:
            self.switch_mode(mode)
        else:
            while len(self.screen_stack) > 1:
                self.pop_screen()
        self.show_command(self.screen_command(), quiet=True)
        if focus:
            self.call_after_refresh(lambda: self.screen.query_one(f"#{focus}").focus())

    def open_block(self, ident: str | int) -> None:
        self.push_screen(BlockDetailScreen(ident))
        self.show_command(equivalents.block(ident), quiet=True)

    def open_tx(self, txid: str) -> None:
        self.push_screen(TxScreen(txid))
        self.show_command(equivalents.tx(txid), quiet=True)

    def open_account(self, address: str) -> None:
        self.push_screen(AccountScreen(address))
        self.show_command(equivalents.account(address), quiet=True)

    def screen_command(self) -> str:
        """The chaintop command for the screen on top: a drill-down's own (block 5), else its mode's."""
        return getattr(self.screen, "command", None) or equivalents.SCREEN.get(self.current_mode, "")

    def close_drill_down(self) -> None:
        """Back from a block, tx or account view: the echo line names what is on screen again."""
        if len(self.screen_stack) > 1:
            self.pop_screen()
            self.show_command(self.screen_command(), quiet=True)

    def action_back(self) -> None:
        if getattr(self.screen, "command", None):
            self.close_drill_down()
        elif len(self.screen_stack) > 1:
            self.pop_screen()

    def action_help(self) -> None:
        tab = getattr(self.screen, "TAB", "dashboard")
        self.push_screen(HelpScreen(tab))

    def action_search(self) -> None:
        self.push_screen(PromptScreen("search", "a height, block hash, txid, address or dev label",
                                      "enter opens the matching view · escape cancels"), self.search)

    def search(self, text: str | None) -> None:
        if text is None:
            return
        q = classify(text, self.backend.hrp)
        if q.kind == "height":
            self.open_block(q.value)
        elif q.kind == "address":
            why = self.backend.check_address(q.value)
            if why:
                self.notify(why, severity="warning", title="search")
            else:
                self.open_account(q.value)
        elif q.kind == "hash":
            call_node(self, self._resolve_hash, q.value, done=self._open_resolved, group="search")
        else:
            self.notify(q.why, severity="warning", title="search")

    def _resolve_hash(self, h: str) -> tuple[str, str]:
        for kind, fn in (("block", self.backend.block), ("tx", self.backend.tx)):
            try:
                fn(h)
                return kind, h
            except ChaintopError as e:
                if e.code not in ("block-not-found", "tx-not-found", "not-found"):
                    raise
        return "none", h

    def _open_resolved(self, found: tuple[str, str]) -> None:
        kind, h = found
        if kind == "block":
            self.open_block(h)
        elif kind == "tx":
            self.open_tx(h)
        else:
            self.notify(f"no block or transaction {h[:16]}… on this node", severity="warning", title="search")

    # -- the hint line ---------------------------------------------------------------------
    def show_command(self, command: str, quiet: bool = False, note: str | None = None) -> None:
        """Put the equivalent chaintop command on the hint line; `quiet` skips the notification (navigation);
        `note` says how the command differs from what the TUI just did (e.g. it only applies at the next
        start)."""
        if not command:
            return
        self.last_command = command
        self.last_note = note
        refresh = getattr(self.screen, "refresh_chrome", None)
        if refresh is not None:
            refresh()
        if not quiet:
            self.notify(f"$ {self.cli_prefix} {command}" + (f"\n({note})" if note else ""),
                        title="at the next start" if note else "same as", timeout=4)

    # -- quitting --------------------------------------------------------------------------
    def action_quit_clean(self) -> None:
        """Stop listening and leave; the caller (chaintop tui) then closes the node: mining stops, mempool
        saved."""
        self.is_exiting = True
        self.bridge.stop()
        self.exit(0)
