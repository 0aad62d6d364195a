"""Difficulty, the position in the retarget window and a preview of the next difficulty."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tui import draw, fmt
from tui.widgets.panel import ViewPanel


def render_difficulty(view: dict) -> Table:
    """view: bits, difficulty, window_pos, interval, retargets (bool), next_bits, preview (ratio), spacing,
    avg_spacing, no_retarget."""
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column(overflow="fold")
    if view.get("no_pow"):
        t.add_row("difficulty", Text("none: blocks come from stake-chosen proposers, one per slot, not from "
                                     "hashing", style="dim"))
        return t
    t.add_row("difficulty", f"{view.get('difficulty', 0):.4g}  (bits {view.get('bits', '?')}; 1 = the easiest target)")
    if view.get("no_retarget"):
        t.add_row("retarget", Text("never on this network (no retargeting, as on regtest): blocks stay instant",
                                   style="dim"))
        return t
    interval = view.get("interval", 1)
    pos = view.get("window_pos", 0)
    t.add_row("window", Text(draw.bar(pos / interval, 20)) + f" {pos}/{interval} blocks")
    avg = view.get("avg_spacing")
    spacing = view.get("spacing")
    if avg is not None:
        t.add_row("spacing", f"{fmt.seconds(avg)} average this window (target {spacing} s)")
    preview = view.get("preview")
    if preview is not None:
        arrow = "harder" if preview > 1.001 else "easier" if preview < 0.999 else "unchanged"
        t.add_row("next", f"x{preview:.3g} ({arrow}) at the retarget in {interval - pos} block(s)")
    return t


class DifficultyPanel(ViewPanel):
    render_view = staticmethod(render_difficulty)
