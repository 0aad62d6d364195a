"""Account commands: account."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import output
from cli.common import datadir_for, handle_errors, open_node
from cli.options import JsonOpt


def render_account(a: dict):
    label = f"{a['label']} (DEV KEY — public seed, never real value)" if a["dev"] else a["label"]
    return output.kv_table([
        ("address", a["address"]),
        ("label", label),
        ("balance", f"{a['balance_coins']} coins ({a['balance']} base units)"),
        ("nonce", a["nonce"]),
        ("pending txs", a["pending"]),
    ], title="account")


def render_history(rows: list[dict], address: str, limit: int):
    def what(t: dict) -> tuple[str, str]:
        if t["kind"] != "transfer":
            sign = "-" if t.get("amount") else ""
            return output.tx_what(t, with_amount=False), f"{sign}{t['amount_coins']}" if sign else ""
        if t["from"] == address and t["to"] == address:
            return "to itself", "0"
        if t["from"] == address:
            return f"sent to {output.short(t['to'], 20)}", f"-{t['amount_coins']}"
        return f"received from {output.short(t['from'], 20)}", f"+{t['amount_coins']}"

    table_rows = []
    for t in rows:
        text, amount = what(t)
        table_rows.append((t["height"], output.short(t["txid"], 12), text, amount,
                           t["fee_coins"] if t["from"] == address else "", t["confirmations"]))
    more = f" (the newest {limit}: --limit N for more)" if len(rows) >= limit else ""
    return output.list_table(["height", "txid", "what", "amount", "fee", "confs"], table_rows,
                             title=f"history of {output.short(address, 24)}: {len(rows)} confirmed "
                                   f"transaction(s), newest first{more}; coins",
                             keep=("height", "txid"))


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def account(address: Annotated[str, typer.Argument(metavar="ADDRESS", help="Address or key label.")],
                history: Annotated[bool, typer.Option(
                    "--history", help="The account's confirmed transactions instead, newest first.")] = False,
                limit: Annotated[int, typer.Option(
                    "--limit", metavar="N", help="With --history: at most N transactions.")] = 100,
                as_json: JsonOpt = False) -> None:
        """Balance and nonce of an account, or with --history its confirmed transactions."""
        from chain.errors import UsageError

        if limit < 1:
            raise UsageError("bad-limit", "--limit must be at least 1")
        from wallet.keystore import Keystore

        with open_node() as node:
            entry = Keystore(datadir_for()).find(address.strip())
            if entry is not None:  # a keystore label: the node knows addresses, not our key names
                from chain.crypto import compute_address, encode_address
                from chain.params import Params

                hrp = Params.from_dict(node.params_view()).hrp
                address = encode_address(hrp, compute_address(bytes.fromhex(entry["pubkey"])))
            if history:
                data = node.account_history(address, limit)
                resolved = node.account(address)["address"]
            else:
                data = node.account(address)
        if history:
            output.emit(data, as_json, lambda rows: render_history(rows, resolved, limit))
            return
        output.emit(data, as_json, render_account)
