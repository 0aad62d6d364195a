"""This epoch's committees per slot and the proposer schedule, with attestations seen so far."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tui.widgets.panel import ViewPanel


def render_committees(view: dict) -> Table | Text:
    """view: committees ({epoch, slots: [{slot, proposer, committee}]}), current_slot, attestations {slot: n}
    (votes seen live or carried by recent blocks),
    local (set of local validator indices), duties ([{index, kind, slot}])."""
    data = view.get("committees")
    if not data:
        return Text(view.get("message", "no committee data"), style="dim")
    current = view.get("current_slot")
    seen = view.get("attestations", {})
    local = set(view.get("local", ()))
    t = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", expand=True)
    t.add_column("slot", justify="right", no_wrap=True)
    t.add_column("proposer", justify="right", no_wrap=True)
    t.add_column("votes", justify="right", no_wrap=True)
    t.add_column("committee (validator indices; * = ours)", overflow="fold", ratio=1)
    for s in data.get("slots", []):
        slot = s["slot"]
        members = s.get("committee", [])
        style = ("bold reverse" if slot == current
                 else ("dim" if current is not None and slot > current else ""))
        proposer = s.get("proposer")
        prop = "-" if proposer is None else f"#{proposer}" + ("*" if proposer in local else "")
        votes = (f"{seen.get(slot, 0)}/{len(members)}" if current is not None and slot <= current
                 else f"-/{len(members)}")
        names = " ".join(f"{i}*" if i in local else str(i) for i in members)
        t.add_row(Text(str(slot), style=style), prop, votes, names)
    return t


class CommitteeTable(ViewPanel):
    render_view = staticmethod(render_committees)
