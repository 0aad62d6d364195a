"""Transaction commands: tx, send, proof."""

from __future__ import annotations

from typing import Annotated

import typer

from chain.params import parse_coins
from cli import output
from cli.common import JsonFlag, handle_errors, open_node


def render_tx(t: dict):
    rows = [
        ("txid", t["txid"]),
        ("status", t["status"]),
        ("kind", t["kind"]),
        ("from", t["from"]),
        ("to", t.get("to")),
        ("amount", f"{t.get('amount_coins')} coins"),
        ("fee", f"{t['fee_coins']} coins ({t['fee_rate']} units/byte)"),
        ("nonce", t["nonce"]),
    ]
    if t["status"] == "confirmed":
        rows += [("block", f"{t['height']}  {t['block']}"), ("confirmations", t["confirmations"])]
    return output.kv_table(rows, title="transaction")


def render_proof(p: dict):
    rows = [("txid", p["txid"]), ("block", f"{p['height']}  {p['block']}"), ("position", f"{p['index']} of {p['tree_size']}"),
            ("tx root", p["tx_root"]), ("verified", "yes — the path hashes to the header's tx root" if p["verified"] else "NO")]
    rows += [(f"path[{i}]", h) for i, h in enumerate(p["proof"])]
    return output.kv_table(rows, title="inclusion proof (RFC 6962)")


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def tx(txid: Annotated[str, typer.Argument(metavar="TXID")], as_json: JsonFlag = False) -> None:
        """A transaction: pending or confirmed, with its block and confirmations."""
        with open_node() as node:
            data = node.tx(txid)
        output.emit(data, as_json, render_tx)

    @app.command()
    @handle_errors
    def send(
        sender: Annotated[str, typer.Option("--from", help="Address or key label (e.g. dev0) to pay from.")],
        to: Annotated[str, typer.Option("--to", help="Recipient address or key label.")],
        amount: Annotated[str, typer.Option("--amount", help="Coins, as a decimal (exact, up to 8 places).")],
        fee: Annotated[str | None, typer.Option("--fee", help="Fee in coins; default the minimum relay fee.")] = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Sign a transfer with a key this node holds and put it in the mempool."""
        units = parse_coins(amount, "amount")
        fee_units = parse_coins(fee, "fee") if fee is not None else None
        with open_node() as node:
            data = node.send(sender, to, units, fee_units)
        output.emit(data, as_json, lambda d: f"sent: txid {d['txid']}")

    @app.command()
    @handle_errors
    def proof(txid: Annotated[str, typer.Argument(metavar="TXID")], as_json: JsonFlag = False) -> None:
        """A Merkle inclusion proof of a confirmed transaction against its block's tx root."""
        with open_node() as node:
            data = node.proof(txid)
        output.emit(data, as_json, render_proof)
