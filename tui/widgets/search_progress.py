"""Mining: the current nonce search — hashes tried against the expected count, best hash against the
target."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tui import draw, fmt
from tui.widgets.panel import ViewPanel


def render_search_progress(view: dict) -> Table | Text:
    """view: progress (a MiningProgress dict or None), mode, active (a search runs), mine_calls (how many
    `mine` calls run it), width."""
    p = view.get("progress")
    if not p and view.get("active"):
        who = ("a mine call (space here, or `chaintop mine` over RPC)" if view.get("mine_calls")
               else f"{view.get('mode', '?')} mining")
        return Text(f"searching: {who}; the first progress report is on its way", style="yellow")
    if not p:
        idle = {"off": "mining is off", "continuous": "starting the next search",
                "manual": "idle: press space to mine one block",
                "auto": "idle: waiting for transactions", "interval": "idle: waiting for the next interval"}
        return Text(idle.get(view.get("mode", ""), "idle"), style="dim")
    width = view.get("width", 30)
    expected = p.get("expected_hashes") or 1
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column(overflow="fold")
    t.add_row("block", f"{p['height']}  ({p.get('workers', '?')} worker(s))")
    frac = p["hashes"] / expected
    t.add_row("hashes", Text(draw.bar(frac, width), style="yellow") +
              f" {fmt.big(p['hashes'])} of ~{fmt.big(expected)} expected ({frac:.0%})")
    t.add_row("rate", f"{fmt.hash_rate(p.get('hash_rate'))} in all; expected time per block "
                      f"{fmt.seconds(p.get('eta'))} (expected hashes / rate)")
    rates = p.get("worker_rates") or []
    if len(rates) > 1:
        t.add_row("per worker", Text(" · ".join(fmt.hash_rate(r) for r in rates))
                  + Text("  (one process each, on its own core)", style="dim"))
    best_bits, target_bits = fmt.leading_zero_bits(p.get("best_hash")), fmt.leading_zero_bits(p.get("target"))
    t.add_row("best", f"{fmt.short(p.get('best_hash'), 20)}  {best_bits} leading zero bits")
    t.add_row("target", f"{fmt.short(p.get('target'), 20)}  {target_bits} leading zero bits needed")
    t.add_row("", Text("each hash is a lottery ticket: past the expected count you are not 'due' — the "
                       "odds stay the same", style="dim"))
    return t


class SearchProgress(ViewPanel):
    render_view = staticmethod(render_search_progress)
