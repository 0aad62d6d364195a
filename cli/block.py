"""Block commands: blocks, block."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from cli import output
from cli.common import handle_errors, open_node
from cli.options import JsonOpt


def _time(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def render_blocks(rows: list[dict]):
    return output.list_table(
        ["height", "hash", "time (UTC)", "txs", "bits", "confirmations"],
        [(b["height"], output.short(b["hash"], 20), _time(b["timestamp"]), b["n_tx"], b["bits"],
          b["confirmations"]) for b in rows],
        title="recent blocks",
    )


def render_block(b: dict):
    rows = [
        ("height", b["height"]),
        ("hash", b["hash"]),
        ("parent", b["parent"]),
        ("time", f"{_time(b['timestamp'])} UTC ({b['timestamp']})"),
        ("beneficiary", b["beneficiary"]),
        ("bits", f"{b['bits']} (difficulty {b['difficulty']:.4g})"),
        ("nonce", b["nonce"]),
        ("tx root", b["tx_root"]),
        ("state root", b["state_root"]),
        ("reward + fees", f"{b['reward_coins']} + {b['fees_coins']} coins"),
        ("size", f"{b['size']} bytes"),
        ("confirmations", b["confirmations"]),
        ("main chain", b["main_chain"]),
        ("transactions", len(b["txs"])),
    ]
    rows += [("", t) for t in b["txs"][:50]]
    if len(b["txs"]) > 50:
        rows.append(("", f"… {len(b['txs']) - 50} more (use --json)"))
    return output.kv_table(rows, title=f"block {b['height']}")


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def blocks(
        last: Annotated[int, typer.Option("--last", "-n", help="How many blocks, newest first.")] = 10,
        as_json: JsonOpt = False,
    ) -> None:
        """The newest blocks of the main chain."""
        with open_node() as node:
            data = node.blocks(last)
        output.emit(data, as_json, render_blocks)

    @app.command()
    @handle_errors
    def block(
        ident: Annotated[str, typer.Argument(metavar="ID", help="A height or a block hash.")],
        as_json: JsonOpt = False,
    ) -> None:
        """One block: header fields, reward and transactions."""
        with open_node() as node:
            data = node.block(ident)
        output.emit(data, as_json, render_block)
