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


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def account(address: Annotated[str, typer.Argument(metavar="ADDRESS", help="Address or key label.")],
                as_json: JsonOpt = False) -> None:
        """Balance and nonce of an account."""
        from wallet.keystore import Keystore

        with open_node() as node:
            entry = Keystore(datadir_for()).find(address.strip())
            if entry is not None:  # a keystore label: the node knows addresses, not our key names
                from chain.crypto import compute_address, encode_address
                from chain.params import Params

                hrp = Params.from_dict(node.params_view()).hrp
                address = encode_address(hrp, compute_address(bytes.fromhex(entry["pubkey"])))
            data = node.account(address)
        output.emit(data, as_json, render_account)
