"""The energy ledger: joules per block of the PoW search against the PoS duties on this chain, to scale, and
a sparkline of the recent blocks."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from node.energy import format_joules
from tui import draw
from tui.widgets.panel import ViewPanel


def energy_bars(view: dict) -> list[tuple[str, float, int]]:
    """(label, joules per block, blocks) for the sides this chain can compare."""
    p, s = view.get("pow") or {}, view.get("pos") or {}
    rows = []
    if p.get("blocks"):
        rows.append(("PoW search", p.get("search_joules_per_block") or 0.0, p["blocks"]))
        if p.get("votes_cpu_seconds"):
            rows.append(("PoS votes", p.get("votes_joules_per_block") or 0.0, p["blocks"]))
    if s.get("blocks"):
        rows.append(("PoS blocks", s.get("joules_per_block") or 0.0, s["blocks"]))
    return rows


WHAT = {"PoW search": "search: the worker processes hashing nonces",
        "PoS votes": "votes: the committees signing and verifying checkpoint votes on those PoW blocks",
        "PoS blocks": "PoS blocks: their validators proposing, signing and verifying votes"}


def render_energy(view: dict) -> Table | Text:
    """view: an energy_view dict (node/ledgers.py) plus width (of the bars)."""
    model = view.get("model") or {}
    watts = model.get("watts_per_core")
    rows = energy_bars(view)
    if not rows:
        return Text("nothing measured yet: each block this node connects records the CPU it cost",
                    style="dim")
    width = max(6, view.get("width", 20))
    top = max(v for _, v, _ in rows) or 1.0
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column(overflow="fold")
    for label, value, blocks in rows:
        t.add_row(label, Text(draw.bar(value / top, width), style="red" if "search" in label else "green")
                  + f" {format_joules(value)}/block" + Text(f" ({blocks} blocks)", style="dim"))
    r = view.get("reduction")
    if r and r.get("percent") is not None:
        pct = r["percent"]
        words = (f"{pct:.4g}% less per block under PoS" if pct >= 0 else
                 f"PoS costs {r['after_joules_per_block'] / r['before_joules_per_block']:.3g}x the search: "
                 "the difficulty is still low")
        t.add_row("saving", Text(words, style="bold") + Text(" (Ethereum's Merge: ~99.99%)", style="dim"))
    spark = draw.sparkline([b["joules"] for b in view.get("recent", [])], width + 12)
    if spark:
        t.add_row("per block", Text(spark, style="yellow") + Text(" joules, oldest left", style="dim"))
    t.add_row("", Text("; ".join(WHAT[label] for label, _, _ in rows), style="dim"))
    t.add_row("model", Text(f"CPU seconds the OS counted × {watts:g} W per busy core "
                            "($CHAINTOP_WATTS_PER_CORE); idle cores count nothing", style="dim"))
    return t


class EnergyPanel(ViewPanel):
    render_view = staticmethod(render_energy)
