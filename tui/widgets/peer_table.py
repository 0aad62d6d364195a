"""The Network screen's peers: id, address, latency, score, head; or why there are none."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tui.widgets.panel import ViewPanel


def render_peer_table(view: dict | None):
    """view: the node's peers() answer (as `chaintop peers --json`), or None when it is not on a network."""
    if view is None:
        return Text("this node is not on a network: `chaintop devnet up --nodes 4` then `chaintop devnet tui "
                    "node1`, or start it with --listen / --peer", style="dim")
    table = Table(expand=True, box=None, pad_edge=False, header_style="bold")
    for name, justify in (("node", "left"), ("address", "left"), ("dir", "left"), ("head", "right"),
                          ("score", "right"), ("ping", "right"), ("blocks/txs in", "right")):
        table.add_column(name, justify=justify, no_wrap=True)
    for p in view["peers"]:
        latency = "-" if p.get("latency_ms") is None else f"{p['latency_ms']:.1f} ms"
        score = Text(str(p["score"]), style="red" if p["score"] < 0 else "")
        table.add_row(p["node_id"][:8], p["address"], p["direction"][:3], str(p["head_height"]), score,
                      latency, f"{p['blocks_received']}/{p['txs_received']}")
    lines: list = [Text(f"this node {view['node_id'][:8]} on {view['listen']} · score: 0 is clean, an "
                        "invalid block bans at -100 · ping: last round trip", style="dim"), table]
    if view.get("partitioned"):
        lines.append(Text("PARTITIONED: no peer is dialled or accepted; p heals (`chaintop net heal`)",
                          style="bold red"))
    elif not view["peers"]:
        lines.append(Text("no peers yet", style="dim"))
    for address in view.get("connecting", []):
        lines.append(Text(f"dialling {address} (no Status from it yet)", style="dim"))
    for b in view.get("banned", []):
        lines.append(Text(f"banned {b['address']} for {b['seconds_left']} s more: {b['reason']}",
                          style="red"))
    for c in view.get("conflicts", []):
        lines.append(Text(f"refused {c['address']}: finality conflict, {c['reason']}", style="bold red"))
    if view.get("syncing_from"):
        lines.append(Text(f"syncing from {view['syncing_from']}"))
    return Group(*lines)


class PeerTable(ViewPanel):
    render_view = staticmethod(render_peer_table)
