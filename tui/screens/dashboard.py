"""Dashboard: the chain at a glance — head, mining, difficulty, mempool, finality, recent blocks."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from chain.consensus import pow as pow_rules
from tui import fmt
from tui.backend import PosUnavailable
from tui.screens.base import ChainScreen
from tui.widgets.block_ticker import BlockTicker
from tui.widgets.difficulty_panel import DifficultyPanel
from tui.widgets.finality_panel import FinalityPanel
from tui.widgets.head_panel import HeadPanel
from tui.widgets.mempool_summary import MempoolSummary, summarize
from tui.widgets.mining_summary import MiningSummary


def eta_text(consensus: str, mining: dict, progress: dict | None, head_time: int | None, now: float,
             spacing: int, pending: int) -> str:
    """When the next block is due, in words, from the mining mode and the current search."""
    if consensus == "pos" or mining.get("producer") == "pos":
        return "every slot: the slot's proposer makes it (Validators, 5, shows the schedule)"
    mode = mining.get("mode")
    if progress and mining.get("active"):
        return (f"~{fmt.seconds(progress.get('eta'))} expected at {fmt.hash_rate(progress.get('hash_rate'))} "
                "(searching)")
    if mode == "interval" and head_time is not None:
        left = head_time + spacing - now
        return "due now" if left <= 0 else f"in ~{fmt.seconds(left)} (interval mining, every {spacing} s)"
    if mode == "auto":
        return ("as soon as a transaction waits (auto)" if not pending
                else "now: transactions are waiting (auto)")
    if mode == "manual":
        return "when you ask: space here or on Mining (4), or `chaintop mine`"
    if mode == "off":
        return "never: mining is off (a on Mining turns it on)"
    return "-"


def stake_produces(status: dict, consensus: str) -> bool:
    """Whether the next block comes from a stake-chosen proposer (pos, or merge past its height) rather than
    PoW."""
    producer = status.get("producer")
    return producer == "pos" if producer else consensus == "pos"


def difficulty_view(status: dict, recent: list[dict], params) -> dict:
    """Difficulty, position in the retarget window and a preview of the next retarget (pure): the chain's
    own rule (pow.retarget) over the same window get_next_bits reads, the blocks still to come at this
    window's pace; exact once the window's last block is in."""
    if stake_produces(status, params.consensus):
        return {"no_pow": True}
    bits = status.get("bits")
    view = {"bits": bits, "difficulty": status.get("difficulty", 0.0), "no_retarget": params.pow_no_retarget,
            "interval": params.retarget_interval, "spacing": params.target_spacing}
    height = status.get("height")
    if height is None or params.pow_no_retarget:
        return view
    # The window get_next_bits reads: block R (a multiple of the interval) takes its bits from the timestamps
    # of blocks R - interval (its `first`; genesis for the first window) through R - 1.
    interval = params.retarget_interval
    retarget_at = -(-(height + 1) // interval) * interval
    first, last = retarget_at - interval, retarget_at - 1
    view.update(window_pos=height - first + 1, first=first, last=last, retarget_at=retarget_at,
                blocks_left=retarget_at - height, target_timespan=params.target_timespan)
    by_height = {b["height"]: b for b in recent}
    if not bits or first not in by_height or height not in by_height or height == first:
        return view  # nothing to time yet: the window's first block is the newest one
    start, now_ts = by_height[first]["timestamp"], by_height[height]["timestamp"]
    # The pace of the blocks still to come: this window's so far, without the gap after genesis (the preset's
    # fixed date says nothing about mining); the target spacing while there is no such gap yet.
    paced_from = 1 if first == 0 else first
    if height > paced_from and paced_from in by_height:
        pace = (now_ts - by_height[paced_from]["timestamp"]) / (height - paced_from)
    else:
        pace = float(params.target_spacing)
    view["avg_spacing"] = pace
    timespan = (now_ts - start) + (last - height) * pace  # exact when height == last
    view.update(timespan=timespan, exact=height == last, from_genesis=first == 0, genesis_time=start)
    tt = params.target_timespan
    old_bits, limit = int(bits, 16), pow_rules.bits_to_target(params.pow_limit_bits)
    new_bits = pow_rules.retarget(old_bits, int(timespan), tt, limit)
    if timespan > 4 * tt:
        view["clamp"] = "easier"
    elif timespan < tt // 4:
        view["clamp"] = "harder"
    clamped = min(max(int(timespan), tt // 4), tt * 4)
    view["capped"] = pow_rules.bits_to_target(old_bits) * clamped // tt > limit
    view["preview"] = pow_rules.bits_to_target(old_bits) / max(1, pow_rules.bits_to_target(new_bits))
    return view


class DashboardScreen(ChainScreen):
    TAB = "dashboard"
    BINDINGS = [
        Binding("space", "mine_one", "Mine 1", id="dashboard.mine"),
        Binding("a", "toggle_auto", "Auto on/off", id="dashboard.auto"),
        Binding("enter", "open_head", "Head block", id="dashboard.open_head"),
    ]

    def compose_body(self) -> ComposeResult:
        yield HeadPanel("head", id="head")
        yield MiningSummary("mining", id="mining")
        yield DifficultyPanel("difficulty", id="difficulty")
        yield MempoolSummary("mempool", id="mempool")
        yield FinalityPanel("finality", id="finality")
        yield BlockTicker("recent blocks", id="ticker")

    def reload(self) -> None:
        self._finality_error: str | None = None
        self.update_live(frozenset({"head", "mempool", "mining", "pos", "clock"}))
        self._load_finality()

    def _load_finality(self) -> None:
        if not self.backend.is_pos:
            self._finality_error = ("proof of work: a block is as final as the work piled on it — count "
                                    "confirmations (6 is Bitcoin's habit). No validators or checkpoints "
                                    "here.")
            return
        self.call(self.backend.finality, done=self._got_finality, failed=self._no_finality, group="finality")

    def _got_finality(self, data: dict) -> None:
        self._finality_error = None
        self.model.load_pos(data)
        self.model.dirty.discard("pos")  # drawn right here; not a reason to fetch again
        self.update_live(frozenset({"pos"}))

    def _no_finality(self, error) -> None:
        self._finality_error = error.message if isinstance(error, PosUnavailable) else str(error)
        self.update_live(frozenset({"pos"}))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Mining keys are hidden while proof of stake makes the blocks (pos, merge past its height)."""
        if action in ("mine_one", "toggle_auto"):
            return not stake_produces(self.model.status, self.backend.consensus)
        return True

    def update_live(self, topics: frozenset[str]) -> None:
        m, s, p = self.model, self.model.status, self.backend.params
        now = self.now()
        if "head" in topics and getattr(self, "_stake_keys", None) != stake_produces(s, p.consensus):
            self._stake_keys = stake_produces(s, p.consensus)
            self.refresh_bindings()  # the footer follows check_action (a merge changes it once)
        if topics & {"head", "mining", "clock", "mempool"}:
            self.query_one(HeadPanel).show({
                "height": s.get("height"), "hash": s.get("head"),
                "consensus": s.get("consensus", p.consensus),
                "age": (now - s["head_time"]) if s.get("head_time") is not None else None,
                "eta": eta_text(p.consensus, {**m.mining, "producer": s.get("producer")}, m.progress,
                                s.get("head_time"), now, p.target_spacing, len(m.pool)),
            })
        if topics & {"mining", "clock"}:
            rate = m.progress["hash_rate"] if m.progress else (m.hash_rates[-1] if m.hash_rates else 0.0)
            self.query_one(MiningSummary).show({**m.mining, "hash_rate": rate, "rates": list(m.hash_rates),
                                                "pos": stake_produces(s, p.consensus),
                                                "width": max(10,
                                                             self.query_one(MiningSummary).size.width - 14)})
        if topics & {"head"}:
            self.query_one(DifficultyPanel).show(difficulty_view(s, list(m.recent), p))
            self.query_one(BlockTicker).show({"blocks": list(m.recent), "now": now, "limit": 10})
        elif "clock" in topics:
            self.query_one(BlockTicker).show({"blocks": list(m.recent), "now": now, "limit": 10})
        if topics & {"mempool"}:
            rates = m.fee_rates()
            self.query_one(MempoolSummary).show({**summarize(rates), "rates": rates})
        if topics & {"pos", "head", "clock"}:
            if getattr(self, "_finality_error", None):
                self.query_one(FinalityPanel).show({"unavailable": self._finality_error})
            else:
                self.query_one(FinalityPanel).show({**m.pos,
                                                    "epoch": m.pos.get("current_epoch", m.pos.get("epoch")),
                                                    "slot": m.pos.get("current_slot", m.pos.get("slot")),
                                                    "slots_per_epoch": getattr(p, "slots_per_epoch", None)})
            if "pos" in topics and self.backend.is_pos and self.due("finality", 1.0):
                self._load_finality()

    def action_mine_one(self) -> None:
        self.app.actions.mine(1)

    def action_toggle_auto(self) -> None:
        mode = self.model.mining.get("mode")
        self.app.actions.set_mining("manual" if mode in ("auto", "interval") else "auto")

    def action_open_head(self) -> None:
        if self.model.status.get("height") is not None:
            self.app.open_block(self.model.status["height"])
