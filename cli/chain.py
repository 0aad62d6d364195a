"""Chain-wide commands: init, status, and the `make run` demo."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from cli import output
from cli.common import JsonFlag, datadir_for, handle_errors, open_node, settings


def render_status(s: dict):
    age = max(0, int(time.time()) - s["head_time"])
    return output.kv_table([
        ("network", f"{s['network']} (chain id {s['chain_id']:#x})"),
        ("consensus", s["consensus"]),
        ("height", s["height"]),
        ("head", s["head"]),
        ("head age", f"{age} s"),
        ("bits", f"{s['bits']}  (difficulty {s['difficulty']:.4g}; next block {s['next_bits']})"),
        ("chain work", s["chain_work"]),
        ("mempool", f"{s['mempool_size']} pending"),
        ("data dir", s["datadir"]),
    ], title="chaintop status")


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def init(
        network: Annotated[str | None, typer.Option(help="Network preset: devnet, regtest.")] = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Create a new chain (genesis and prefunded dev accounts) in the data dir."""
        from chain.node.node import Node

        net = network or settings.network
        path = datadir_for(net)
        with Node.create(path, net) as node:
            data = node.status()
            data["dev_accounts"] = node.keys()
        output.emit(data, as_json, lambda d: output.kv_table([
            ("initialised", d["datadir"]),
            ("network", d["network"]),
            ("genesis", d["head"]),
            ("dev accounts", f"{len(d['dev_accounts'])} prefunded from a PUBLIC seed — dev only, never real value"),
        ] + ([("next", f"commands find this chain with `chaintop --network {net} …` or `export CHAINTOP_NETWORK={net}`")]
             if net != settings.network and not settings.datadir else [])))

    @app.command()
    @handle_errors
    def status(as_json: JsonFlag = False) -> None:
        """The head of the chain, difficulty and mempool size."""
        with open_node() as node:
            data = node.status()
        output.emit(data, as_json, render_status)

    @app.command(hidden=True)
    @handle_errors
    def demo(blocks: Annotated[int, typer.Option(help="Blocks to mine.")] = 5) -> None:
        """Initialise the default devnet if missing, mine a few blocks, print status (what `make run` does)."""
        from chain.node.node import Node
        from cli.mine import mine_with_progress

        path = datadir_for()
        if not (path / "chain").exists():
            Node.create(path, settings.network).close()
            output.console.print(f"initialised {settings.network} in {path}")
        with open_node() as node:
            mine_with_progress(node, blocks, None, as_json=False)
            output.console.print(render_status(node.status()))
