"""Epoch and slot progress, justified and finalized checkpoints, and the FFG vote gauge."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tui import draw, fmt
from tui.widgets.panel import ViewPanel

TWO_THIRDS = 2 / 3


def render_ffg_gauge(target_votes: float | None, width: int = 24) -> Text:
    """Votes for the current epoch's target as a share of active stake; the mark is the 2/3 needed to
    justify."""
    v = target_votes or 0.0
    style = "green" if v >= TWO_THIRDS else "yellow"
    return (Text(draw.gauge(v, TWO_THIRDS, width), style=style)
            + Text(f" {fmt.pct(v)} of stake (2/3 justifies)"))


def render_finality(view: dict) -> Table | Text:
    """view: unavailable (message) or epoch, slot, slots_per_epoch, justified_epoch, finalized_epoch,
    participation, target_votes, total_active_stake, active_validators, finality_delay, leaking,
    confirmations_hint."""
    if view.get("unavailable"):
        return Text(view["unavailable"], style="dim")
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column(overflow="fold")
    epoch, slot = view.get("epoch"), view.get("slot")
    spe = view.get("slots_per_epoch")
    if slot is not None and spe:
        into = slot % spe
        t.add_row("epoch", Text(f"{epoch}  ") + Text(draw.bar((into + 1) / spe, 16))
                  + f" slot {slot} ({into + 1}/{spe})")
    else:
        t.add_row("epoch", f"{epoch if epoch is not None else '-'}  slot {slot if slot is not None else '-'}")
    t.add_row("justified", f"epoch {_e(view.get('justified_epoch'))}  "
                           f"{fmt.short(view.get('justified_root'))}")
    t.add_row("finalized", f"epoch {_e(view.get('finalized_epoch'))}  "
                           f"{fmt.short(view.get('finalized_root'))}")
    t.add_row("votes", render_ffg_gauge(view.get("target_votes")))
    t.add_row("last epoch", f"{fmt.pct(view.get('participation'))} of active stake voted for its target")
    if view.get("total_active_stake") is not None:
        n = view.get("active_validators")
        stake = Text(f"{fmt.coins(view['total_active_stake'])} coins active"
                     + (f" ({n} validator{'' if n == 1 else 's'})" if n is not None else ""))
        if n == 0:
            stake += Text("  no active validator: nothing can be proposed by stake or justified",
                          style="bold red")
        t.add_row("stake", stake)
    if view.get("leaking"):
        t.add_row("LEAK", Text(f"inactivity leak: no finality for {view.get('finality_delay', '?')} epochs",
                               style="bold white on red"))
    elif view.get("finality_delay") is not None:
        t.add_row("delay", f"{view['finality_delay']} epoch(s) since the last finalized checkpoint")
    return t


def _e(x) -> str:
    return "-" if x is None else str(x)


class FinalityPanel(ViewPanel):
    render_view = staticmethod(render_finality)
