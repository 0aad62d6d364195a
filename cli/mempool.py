"""Mempool commands: mempool."""

from __future__ import annotations

import typer

from cli import output
from cli.common import handle_errors, open_node
from cli.options import JsonOpt


def render_pool(rows: list[dict]):
    return output.list_table(
        ["txid", "from", "to", "amount", "fee", "fee rate", "nonce"],
        [(output.short(t["txid"]), output.short(t["from"], 20), output.short(t.get("to", ""), 20),
          t.get("amount_coins"), t["fee_coins"], t["fee_rate"], t["nonce"]) for t in rows],
        title=f"mempool: {len(rows)} pending, highest fee rate first",
    )


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def mempool(as_json: JsonOpt = False) -> None:
        """Pending transactions, highest fee rate first."""
        with open_node() as node:
            data = node.mempool_view()
        output.emit(data, as_json, render_pool)
