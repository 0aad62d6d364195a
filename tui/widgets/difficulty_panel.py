"""Difficulty, the position in the retarget window and a preview of the next difficulty."""

from __future__ import annotations

import time

from rich.table import Table
from rich.text import Text

from tui import draw, fmt
from tui.widgets.panel import ViewPanel


def render_difficulty(view: dict) -> Table:
    """view: bits, difficulty, no_retarget, interval, spacing, window_pos (blocks of the window so far),
    first / last (the window's heights), retarget_at, blocks_left, avg_spacing (the pace), timespan (first to
    last, projected unless exact), target_timespan, from_genesis and genesis_time, clamp, capped, preview
    (old target / new: above 1 is harder)."""
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column(overflow="fold")
    if view.get("no_pow"):
        t.add_row("difficulty", Text("none: blocks come from stake-chosen proposers, one per slot, not from "
                                     "hashing", style="dim"))
        return t
    t.add_row("difficulty", f"{view.get('difficulty', 0):.4g}  (bits {view.get('bits', '?')}; "
                            "1 = the easiest target)")
    if view.get("no_retarget"):
        t.add_row("retarget", Text("never on this network (no retargeting, as on regtest): "
                                   "blocks stay instant", style="dim"))
        return t
    interval = view.get("interval", 1)
    pos = view.get("window_pos", 0)
    window = Text(draw.bar(pos / interval, 20)) + f" {pos}/{interval} blocks"
    if view.get("first") is not None:
        window += Text(f" ({view['first']}…{view['last']} set block {view['retarget_at']}'s bits)",
                       style="dim")
    t.add_row("window", window)
    avg = view.get("avg_spacing")
    spacing = view.get("spacing")
    if avg is not None:
        t.add_row("pace", f"{fmt.seconds(avg)} between blocks this window (target {spacing} s)")
    timespan = view.get("timespan")
    if timespan is not None:
        tt = view.get("target_timespan", interval * (spacing or 0))
        span = Text(f"{'' if view.get('exact') else '~'}{fmt.seconds(timespan)} from block {view['first']} "
                    f"to {view['last']} ({interval - 1} gaps) against {interval} × {spacing} s = {tt} s")
        if view.get("from_genesis"):
            since = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(view.get("genesis_time", 0)))
            span += Text(f"; the first window starts at genesis' timestamp ({since})", style="yellow")
        t.add_row("timespan", span)
    preview = view.get("preview")
    if preview is not None:
        arrow = "harder" if preview > 1.001 else "easier" if preview < 0.999 else "unchanged"
        left = view.get("blocks_left")
        when = (f"at the next block ({view.get('retarget_at')})" if left == 1
                else f"at block {view.get('retarget_at')}, in {left} blocks")
        why = []
        if view.get("clamp"):
            why.append(f"clamped to x4 {view['clamp']}")
        if view.get("capped"):
            why.append("capped at the pow limit, the easiest target")
        t.add_row("next", Text(f"x{preview:.3g} ({arrow}) {when}", style="bold")
                  + Text(f"  ({'; '.join(why)})" if why else "", style="yellow"))
        tt = view.get("target_timespan", interval * (spacing or 0))
        off_by_one = (f"; {interval - 1} gaps against {interval} spacings, so an exact pace comes out "
                      f"x{interval / (interval - 1):.3g} harder" if interval > 1 else "")
        t.add_row("", Text(f"the rule (Bitcoin's): new target = old × timespan / {tt} s, the timespan "
                           f"clamped to x4 either way, never easier than the pow limit{off_by_one}",
                           style="dim"))
    return t


class DifficultyPanel(ViewPanel):
    render_view = staticmethod(render_difficulty)
