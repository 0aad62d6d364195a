"""The `chaintop` command: global options, and one module per noun registered onto one Typer app."""

from __future__ import annotations

import typer
from typer._click.core import ParameterSource

from cli import account, block, chain, db, mempool, mine, node, stake, tui_cmd, tx, wallet
from cli.common import settings
from cli.options import DatadirOpt, NetworkOpt
from cli.usage import HouseGroup, use_house_commands

app = typer.Typer(
    cls=HouseGroup,
    name="chaintop",
    help="A blockchain node and explorer in the terminal. Every read command takes --json.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    datadir: DatadirOpt = None,
    network: NetworkOpt = "devnet",
) -> None:
    settings.datadir = datadir
    settings.network = network
    settings.network_given = ctx.get_parameter_source("network") not in (None, ParameterSource.DEFAULT)


for module in (chain, block, tx, account, wallet, mine, mempool, db, node, stake, tui_cmd):
    module.register(app)
use_house_commands(app)


def run() -> None:
    app()


if __name__ == "__main__":
    run()
