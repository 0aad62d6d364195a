"""Network commands: peers, net connect|disconnect PEER, net partition|heal, devnet up|status|down."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from cli import output
from cli.common import datadir_for, handle_errors, open_node
from cli.options import JsonOpt

PeerArg = Annotated[str, typer.Argument(metavar="PEER", help="HOST:PORT, or a node id (8+ hex digits).")]


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def peers(as_json: JsonOpt = False) -> None:
        """The running node's peers: head, score, latency; who is banned and why."""
        with open_node(embedded_ok=False) as api:
            data = api.peers()
        output.emit(data, as_json, render_peers)

    net = typer.Typer(help="Connect to or cut off a peer of the running node (split and heal a network).",
                      no_args_is_help=True)
    app.add_typer(net, name="net")

    @net.command("connect")
    @handle_errors
    def connect(peer: PeerArg, as_json: JsonOpt = False) -> None:
        """Dial PEER (HOST:PORT) and keep it in the address book; undoes `net disconnect` of it."""
        with open_node(embedded_ok=False) as api:
            data = api.net_connect(peer)
        output.emit(data, as_json, lambda d: f"connecting to {d['connecting']} (see `chaintop peers`)")

    @net.command("disconnect")
    @handle_errors
    def disconnect(peer: PeerArg, as_json: JsonOpt = False) -> None:
        """Say Goodbye to PEER and refuse it until `net connect` (its blocks and votes stop coming)."""
        with open_node(embedded_ok=False) as api:
            data = api.net_disconnect(peer)
        output.emit(data, as_json, lambda d: "\n".join(
            f"disconnected {p['address']}" + (f" (node {p['node_id'][:16]}…)" if p["node_id"] else "")
            for p in d["disconnected"]))

    @net.command("partition")
    @handle_errors
    def partition(as_json: JsonOpt = False) -> None:
        """Split this node off: Goodbye to every peer, refuse and dial none until `net heal` (mines alone).

        Not kept across a restart, as bitcoind's `setnetworkactive false` is not:
        a node restarted while partitioned dials its peers again (its address book is left as it was)."""
        with open_node(embedded_ok=False) as api:
            data = api.net_partition()
        output.emit(data, as_json, render_partition)

    @net.command("heal")
    @handle_errors
    def heal(as_json: JsonOpt = False) -> None:
        """End `net partition`: redial the dropped peers; the lighter branch reorgs onto the heavier."""
        with open_node(embedded_ok=False) as api:
            data = api.net_heal()
        output.emit(data, as_json, render_heal)

    from cli import devnet

    devnet.register(app)


def render_partition(d: dict) -> str:
    lines = [f"partitioned: dropped {len(d['dropped'])} peer(s); refusing and not dialling any until "
             "`chaintop net heal`"]
    lines += [f"  dropped {p['address']} (node {p['node_id'][:16]}…)" for p in d["dropped"]]
    return "\n".join(lines)


def render_heal(d: dict) -> str:
    where = ", ".join(d["reconnecting"]) or "nobody (no known peer: `chaintop net connect HOST:PORT`)"
    return f"healed: redialling {where}; sync takes the heavier chain (see `chaintop peers`)"


def render_peers(d: dict):
    rows = []
    for p in d["peers"]:
        since = output.age(time.time() - p["connected_since"])
        latency = "-" if p["latency_ms"] is None else f"{p['latency_ms']:.1f} ms"
        rows.append((p["node_id"][:8], p["address"], p["direction"][:3], p["head_height"], p["score"],
                     latency,
                     since, f"{p['blocks_received']}/{p['txs_received']}"))
    table = output.list_table(
        ["node", "address", "dir", "height", "score", "ping", "up", "blocks/txs in"], rows, keep=("address",),
        title=f"{len(d['peers'])} peer(s) of node {d['node_id'][:12]} listening on {d['listen']} "
              "(score: 0 is clean, an invalid block bans at -100)")
    parts: list = [table]
    for address in d["connecting"]:
        parts.append(f"dialling {address} (no Status from it yet)")
    for b in d["banned"]:
        parts.append(f"banned {b['address']} (node {b['node_id'][:12]}) for {b['seconds_left']} s more: "
                     f"{b['reason']}")
    for address in d["disconnected"]:
        parts.append(f"cut off by `net disconnect`: {address} (`chaintop net connect {address}` heals)")
    for c in d.get("conflicts", []):
        who = f" (node {c['node_id'][:12]})" if c["node_id"] else ""
        parts.append(f"refused {c['address']}{who}: finality conflict, {c['reason']}")
    if d.get("partitioned"):
        parts.append("partitioned by `net partition`: no peer is dialled or accepted (`chaintop net heal`)")
    if d["syncing_from"]:
        parts.append(f"syncing from {d['syncing_from']}")
    parts.append(f"synced {d['synced_blocks']} block(s); gossip: {d['relayed']} relayed, {d['ignored']} "
                 f"ignored, {d['rejected']} rejected, {d['gossip_dropped']} dropped (queue full)")
    from rich.console import Group

    return Group(*parts)


__all__ = ["register", "datadir_for"]
