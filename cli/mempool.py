"""Mempool commands: mempool (list), mempool drop TXID."""

from __future__ import annotations

import typer

from cli import output
from cli.common import handle_errors, open_node
from cli.options import JsonOpt, TxidArg

mempool_app = typer.Typer(
    help="Pending transactions, highest fee rate first; `mempool drop TXID` removes one.",
    invoke_without_command=True)


def render_pool(rows: list[dict]):
    queued = sum(1 for t in rows if not t.get("ready", True))
    return output.list_table(
        ["txid", "from", "to / what", "amount", "fee", "nonce", "status"],
        [(output.short(t["txid"], 10), output.short(t["from"], 14), output.tx_what(t, False, 10),
          t.get("amount_coins"), t["fee_coins"], t["nonce"], output.tx_state(t)) for t in rows],
        title=f"mempool: {len(rows)} pending ({queued} queued behind a nonce gap), highest fee rate first; "
              "amounts and fees in coins",
        keep=("txid", "from", "nonce"),
    )


@mempool_app.callback()
@handle_errors
def mempool(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Pending transactions, highest fee rate first: each ready, or queued behind its sender's nonce gap."""
    if ctx.invoked_subcommand is not None:
        return
    with open_node() as node:
        data = node.mempool_view()
    output.emit(data, as_json, render_pool)


@mempool_app.command("drop")
@handle_errors
def drop(txid: TxidArg, as_json: JsonOpt = False) -> None:
    """Remove a pending transaction (memory and disk); the sender's later nonces wait for the gap."""
    with open_node() as node:
        data = node.drop_tx(txid)
    output.emit(data, as_json, lambda d: f"dropped: txid {d['txid']} (nonce {d['nonce']})" + (
        f"; {len(d['queued'])} later transaction(s) of the sender now wait for nonce {d['nonce']}: "
        "send it again (`send --nonce`) or drop them too" if d["queued"] else ""))


def register(app: typer.Typer) -> None:
    app.add_typer(mempool_app, name="mempool")
