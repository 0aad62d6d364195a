"""Key commands: keys list (the keystore proper comes with the node-service issue)."""

from __future__ import annotations

import typer

from cli import output
from cli.common import JsonFlag, handle_errors, open_node

keys_app = typer.Typer(help="Keys this node can sign with.", no_args_is_help=True)


@keys_app.command("list")
@handle_errors
def keys_list(as_json: JsonFlag = False) -> None:
    """Every key with its label and address; dev keys are marked dev-only."""
    with open_node() as node:
        data = node.keys()
    output.emit(data, as_json, lambda rows: output.list_table(
        ["label", "address", "kind"],
        [(k["label"], k["address"], "DEV (public seed)" if k["dev"] else "keystore") for k in rows],
        title="keys"))


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
