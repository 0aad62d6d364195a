"""Mining: mode and workers, live hash rate, the current search against its target, difficulty and block
times."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical

from tui import fmt
from tui.actions import MAX_WORKERS, MIN_WORKERS
from tui.screens.base import ChainScreen
from tui.screens.dashboard import difficulty_view, stake_produces
from tui.widgets.column_chart import ColumnChart
from tui.widgets.difficulty_panel import DifficultyPanel
from tui.widgets.energy_panel import EnergyPanel
from tui.widgets.mining_summary import MiningSummary
from tui.widgets.search_progress import SearchProgress
from tui.widgets.supply_panel import SupplyPanel

CHART_BLOCKS = 40
TRAFFIC_STEPS = (0.0, 10.0, 200.0)


def chart_views(headers: list[dict], spacing: int) -> tuple[dict, dict]:
    """(difficulty chart, block-time chart) over headers given newest first."""
    old_first = list(reversed(headers))
    diffs = [h.get("difficulty", 0.0) for h in old_first]
    # The gap after genesis (a fixed date in the preset) says nothing about mining: leave it out.
    times = [max(0, b["timestamp"] - a["timestamp"]) for a, b in zip(old_first, old_first[1:], strict=False)
             if a["height"] > 0]
    first = old_first[0]["height"] if old_first else ""
    last = old_first[-1]["height"] if old_first else ""
    diff_view = {"values": diffs, "height": 5, "first_label": first, "last_label": last, "style": "magenta",
                 "caption": "difficulty per block (oldest left)"}
    avg = sum(times) / len(times) if times else 0
    clip = 10 * spacing  # one long pause (a node switched off overnight) must not flatten every other bar
    clipped = any(t > clip for t in times)
    times = [min(t, clip) for t in times]
    time_view = {"values": times, "height": 5, "first_label": first, "last_label": last, "style": "cyan",
                 "caption": f"seconds between blocks; average {fmt.seconds(avg)}, target {spacing} s"
                            + (f" (bars cut at {clip} s)" if clipped else ""),
                 "empty": "needs two blocks after genesis"}
    return diff_view, time_view


class MiningScreen(ChainScreen):
    TAB = "mining"
    BINDINGS = [
        Binding("space", "mine(1)", "Mine 1", id="mining.mine_one"),
        Binding("ctrl+t", "mine(10)", "Mine 10", id="mining.mine_ten", show=False),
        Binding("c", "mode('continuous')", "Continuous", id="mining.continuous"),
        # auto stays a key (in help and the palette); the footer has no room for every mode at 120 columns
        Binding("a", "mode('auto')", "Auto", id="mining.auto", show=False),
        Binding("i", "mode('interval')", "Interval", id="mining.interval"),
        Binding("m", "mode('manual')", "Manual", id="mining.manual"),
        Binding("o", "mode('off')", "Off", id="mining.off"),
        Binding("t", "traffic", "Traffic", id="mining.traffic"),
        # one footer entry for the pair ("+/- Workers"): the footer has no room for two at 120 columns
        Binding("plus", "workers(1)", "Workers", id="mining.workers_up", key_display="+/-"),
        Binding("minus", "workers(-1)", "Fewer workers", id="mining.workers_down", key_display="-",
                show=False),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield MiningSummary("mining", id="mining-summary")
            yield SearchProgress("current search", id="mining-progress")
        with Horizontal(classes="row"):
            yield ColumnChart("difficulty", id="chart-difficulty")
            yield ColumnChart("block times", id="chart-times")
        with Vertical(classes="row-auto"):
            yield DifficultyPanel("retarget", id="mining-difficulty")
        with Horizontal(classes="row"):
            yield EnergyPanel("energy per block: PoW vs PoS (chaintop energy)", id="mining-energy")
            yield SupplyPanel("supply (chaintop supply)", id="mining-supply")

    def reload(self) -> None:
        self._headers: list[dict] = []
        self.call(self.backend.mining_state, done=self._got_state, group="mining-state")
        self._load_headers()
        self._load_ledgers()
        self.update_live(frozenset({"mining", "head"}))

    def _load_ledgers(self) -> None:
        self.call(self.backend.energy, done=self._got_energy, group="mining-energy")
        self.call(self.backend.supply, done=self.query_one(SupplyPanel).show, group="mining-supply")

    def _got_energy(self, view: dict) -> None:
        panel = self.query_one(EnergyPanel)
        panel.show({**view, "width": max(6, panel.size.width - 40)})

    def _got_state(self, state: dict) -> None:
        self.model.load_mining(state)
        self.update_live(frozenset({"mining"}))

    def _load_headers(self) -> None:
        head = self.model.status.get("height")
        if head is None:
            return
        self.call(self.backend.headers, head, CHART_BLOCKS + 1, done=self._got_headers,
                  group="mining-headers")

    def _got_headers(self, headers: list[dict]) -> None:
        self._headers = headers
        diff_view, time_view = chart_views(headers, self.backend.params.target_spacing)
        self.query_one("#chart-difficulty", ColumnChart).show(diff_view)
        self.query_one("#chart-times", ColumnChart).show(time_view)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Mining keys are hidden while proof of stake makes the blocks; traffic still works."""
        if action in ("mine", "mode", "workers"):
            return not stake_produces(self.model.status, self.backend.consensus)
        return True

    def update_live(self, topics: frozenset[str]) -> None:
        m = self.model
        produced_by_stake = stake_produces(m.status, self.backend.consensus)
        if "head" in topics and getattr(self, "_stake_keys", None) != produced_by_stake:
            self._stake_keys = produced_by_stake
            self.refresh_bindings()
        if topics & {"mining", "clock"}:
            rate = m.progress["hash_rate"] if m.progress else (m.hash_rates[-1] if m.hash_rates else 0.0)
            summary = self.query_one(MiningSummary)
            summary.show({**m.mining, "hash_rate": rate, "rates": list(m.hash_rates),
                          "pos": stake_produces(m.status, self.backend.consensus), "workers_keys": True,
                          "width": max(10, summary.size.width - 14)})
            progress = self.query_one(SearchProgress)
            progress.show({"progress": m.progress, "mode": m.mining.get("mode"),
                           "active": m.mining.get("active"), "mine_calls": m.mining.get("mine_calls"),
                           "width": max(10, progress.size.width - 40)})
        if "head" in topics:
            self.query_one(DifficultyPanel).show(difficulty_view(m.status, list(m.recent),
                                                                 self.backend.params))
            if self.due("mining-headers", 1.0):
                self._load_headers()
            if self.due("mining-ledgers", 2.0):
                self._load_ledgers()

    def action_mine(self, blocks: int) -> None:
        self.app.actions.mine(blocks)

    def action_mode(self, mode: str) -> None:
        self.app.actions.set_mining(mode)

    def action_workers(self, step: int) -> None:
        current = int(self.model.mining.get("workers") or MIN_WORKERS)
        wanted = min(MAX_WORKERS, max(MIN_WORKERS, current + step))
        if wanted == current:
            self.app.notify(f"{current} worker(s): already the {'fewest' if step < 0 else 'most'} a node "
                            f"runs ({MIN_WORKERS} to {MAX_WORKERS})", severity="warning", timeout=3)
            return
        self.app.actions.set_workers(wanted)

    def action_traffic(self) -> None:
        rate = self.model.mining.get("traffic", 0.0) or 0.0
        later = [r for r in TRAFFIC_STEPS if r > rate]
        self.app.actions.set_traffic(later[0] if later else 0.0)
