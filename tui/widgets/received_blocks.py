"""Blocks that arrived by gossip: height, hash, who mined it, from which peer, how long after publication."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tui import fmt
from tui.widgets.panel import ViewPanel

STATUS_STYLE = {"connected": "green", "reorg": "bold red", "side": "yellow"}


def render_received_blocks(view: dict):
    """view: rows [{height, hash, miner, peer, delay_ms, status}], newest first."""
    rows = view.get("rows", [])
    if not rows:
        return Text("no block has arrived from a peer yet (blocks this node mines itself are not listed)",
                    style="dim")
    table = Table(expand=True, box=None, pad_edge=False, header_style="bold")
    for name, justify in (("height", "right"), ("hash", "left"), ("mined by", "left"), ("from peer", "left"),
                          ("delay", "right"), ("result", "left")):
        table.add_column(name, justify=justify, no_wrap=True)
    for r in rows:
        table.add_row(str(r["height"]), fmt.short(r["hash"], 12), r["miner"], r["peer"],
                      f"{r['delay_ms']:.1f} ms",
                      Text(r["status"], style=STATUS_STYLE.get(r["status"], "dim")))
    return table


class ReceivedBlocks(ViewPanel):
    render_view = staticmethod(render_received_blocks)
