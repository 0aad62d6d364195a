"""Dashboard: mining mode, whether a search is running, hash rate and its sparkline."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tui import draw, fmt
from tui.widgets.panel import ViewPanel

MODES = {
    "continuous": "always searching, as real miners do: the retarget sets the pace",
    "auto": "mines whenever transactions wait",
    "interval": "mines one block per target spacing",
    "manual": "mines only when asked (space on Mining)",
    "off": "never mines",
}


def render_mining_summary(view: dict) -> Table:
    """view: mode, active, workers, traffic, hash_rate, rates (recent hash rates), width, workers_keys (say
    that + / - change the workers: only where those keys work), error (the miner's last failure, until it
    recovers)."""
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column(overflow="fold")
    if view.get("pos"):
        t.add_row("mining", Text("not used: proof of stake picks a proposer per slot (Validators, 5)",
                                 style="dim"))
        t.add_row("traffic", f"{view.get('traffic', 0):g} tx/s generated")
        return t
    mode = view.get("mode", "?")
    t.add_row("mode", Text(mode, style="bold") + Text(f"  {MODES.get(mode, '')}", style="dim"))
    state = Text("searching", style="bold yellow") if view.get("active") else Text("idle", style="dim")
    if view.get("active") and view.get("mine_calls"):
        state += Text(" (a mine call: space, or `chaintop mine`)", style="yellow")
    t.add_row("now", state + Text(f"  {view.get('workers', 0)} worker(s)")
              + Text("  (+ / - to change)" if view.get("workers_keys") else "", style="dim"))
    error = view.get("error")
    if error:
        retry = error.get("retry_in")  # None: a full disk, which ends when there is room, not on a timer
        t.add_row("FAILED", Text(f"{error.get('reason')}: {error.get('message')}", style="bold red")
                  + Text(f"  (retrying in {retry:g} s)" if retry is not None else "", style="dim"))
    t.add_row("hash rate", fmt.hash_rate(view.get("hash_rate")))
    spark = draw.sparkline(view.get("rates", []), max(10, view.get("width", 30)))
    t.add_row("", Text(spark or "(no search yet)", style="green" if spark else "dim"))
    t.add_row("traffic", f"{view.get('traffic', 0):g} tx/s generated")
    return t


class MiningSummary(ViewPanel):
    render_view = staticmethod(render_mining_summary)
