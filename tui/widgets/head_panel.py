"""Dashboard: the head of the chain, how old it is, the consensus mode and when the next block is due."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tui import fmt
from tui.widgets.panel import ViewPanel

CONSENSUS = {
    "pow": "proof of work (most work wins; finality is probabilistic)",
    "pos": "proof of stake (proposer per slot, FFG finality)",
    "hybrid": "PoW blocks + FFG checkpoints voted by stake",
    "merge": "PoW until the merge height, then proof of stake",
}


def render_head(view: dict) -> Table:
    """view: network, consensus, height, hash, age (s), eta (text)."""
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column(overflow="fold")
    t.add_row("height", Text(f"{view.get('height', '-')}", style="bold"))
    t.add_row("head", fmt.short(view.get("hash"), 32))
    t.add_row("age", fmt.age(view.get("age")) + " since the head block's timestamp")
    cons = view.get("consensus", "?")
    t.add_row("consensus", f"{cons}: {CONSENSUS.get(cons, '')}".rstrip(": "))
    t.add_row("next block", view.get("eta", "-"))
    return t


class HeadPanel(ViewPanel):
    render_view = staticmethod(render_head)
