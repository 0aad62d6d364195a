"""devnet up|status|down: N node processes on loopback, peered, each with its own data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import output
from cli.common import default_datadir, handle_errors, settings
from cli.options import BlockTimeOpt, JsonOpt

DirOpt = Annotated[str | None, typer.Option(
    "--dir", metavar="DIR", help="The devnet's root (default: the user data dir's devnets/<network>).")]


def devnet_root(directory: str | None) -> Path:
    if directory:
        return Path(directory).expanduser()
    if settings.datadir:
        return Path(settings.datadir).expanduser()
    return default_datadir(settings.network).parent / "devnets" / settings.network


def register(app: typer.Typer) -> None:
    devnet = typer.Typer(help="A local network of node processes on loopback: up, status, down.",
                         no_args_is_help=True)
    app.add_typer(devnet, name="devnet")

    @devnet.command("up")
    @handle_errors
    def up(
        nodes: Annotated[int, typer.Option("--nodes", metavar="N", help="How many nodes (1-16).")] = 4,
        directory: DirOpt = None,
        mining: Annotated[str | None, typer.Option(
            "--mining", metavar="MODE",
            help="Every node's mining mode (default interval: each node's wait is drawn at random with N x "
                 "the chain's spacing as its mean, so one block per spacing in all; continuous from the "
                 "easiest target outpaces propagation for minutes and splits the devnet).")] = None,
        block_time: BlockTimeOpt = None,
        slot_time: Annotated[float | None, typer.Option(
            "--slot-time", metavar="SECONDS",
            help="pos-devnet, merge-devnet: seconds per slot of a new devnet (default 2; 0.5 finalizes an "
                 "epoch every ~4 s).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Start N nodes (creating their chains the first time), all peered; again with a larger N adds
        nodes, which sync from the others. --network picks the chain (default devnet)."""
        from node import devnet as dn

        data = dn.up(devnet_root(directory), nodes, settings.network, mining, block_time,
                     slot_time=slot_time)
        output.emit(data, as_json, _render)

    @devnet.command("status")
    @handle_errors
    def status(directory: DirOpt = None, as_json: JsonOpt = False) -> None:
        """Each node of the devnet: running, height, head, peers, data dir."""
        from node import devnet as dn

        output.emit(dn.status(devnet_root(directory)), as_json, _render)

    register_tui(devnet)

    @devnet.command("down")
    @handle_errors
    def down(
        directory: DirOpt = None,
        purge: Annotated[bool, typer.Option("--purge", help="Also delete the devnet's data dirs.")] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Stop every node of the devnet cleanly (SIGTERM; SIGKILL after 30 s); --purge removes its data."""
        import shutil

        from node import devnet as dn

        root = devnet_root(directory)
        data = dn.down(root)
        if purge:
            shutil.rmtree(root, ignore_errors=True)
        data["purged"] = purge
        output.emit(data, as_json, lambda d: f"stopped {', '.join(d['stopped']) or 'nothing (none ran)'}"
                    + (f"; killed {', '.join(d['killed'])} (no clean stop in 30 s)" if d["killed"] else "")
                    + ("; data removed" if purge else f"; data kept in {d['root']}"))


def register_tui(devnet: typer.Typer) -> None:
    @devnet.command("tui")
    @handle_errors
    def tui(
        name: Annotated[str, typer.Argument(metavar="NODE", help="node1, node2, ...")] = "node1",
        directory: DirOpt = None,
    ) -> None:
        """Run one devnet node inside the TUI: its headless process stops and the TUI takes its place (same
        data dir, port, peers, validators, miner); quitting the TUI stops that node (`devnet up` restarts
        it headless)."""
        import os

        from node import devnet as dn

        argv = dn.tui_argv(devnet_root(directory), name)
        os.execvp(argv[0], argv)


def _render(d: dict):
    from rich.console import Group

    rows = [(n["name"], "yes" if n["running"] else "no", n["height"] if n["height"] is not None else "-",
             n["head"][:8] if n["head"] else "-", n["peers"] if n["peers"] is not None else "-",
             n["p2p"], n["validators"]) for n in d["nodes"]]
    title = f"devnet {d['network']} in {d['root']} (mining {d['mining']})"
    if d.get("started"):
        title += f": started {', '.join(d['started'])}"
    table = output.list_table(["node", "running", "height", "head", "peers", "p2p", "validators"], rows,
                              title=title, keep=("p2p", "head"))
    first = d["nodes"][0]["datadir"] if d["nodes"] else "DIR"
    name = d["nodes"][0]["name"] if d["nodes"] else "NODE"
    net = "" if d["network"] == "devnet" else f" --network {d['network']}"
    # a devnet outside the default place is found again only with its --dir (found trying `--dir` as a user)
    where = "" if Path(d["root"]) == default_datadir(d["network"]).parent / "devnets" / d["network"] else (
        f" --dir {d['root']}")
    # `tui` on a running node's data dir is refused (datadir-locked): the devnet's own command swaps it in
    return Group(table, f"each node's data dir is {d['root']}/<node>: e.g. `chaintop --datadir {first} "
                        f"peers`, `... watch`; the TUI on a node: `chaintop{net} devnet tui {name}{where}`")
