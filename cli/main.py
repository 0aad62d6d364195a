"""The `chaintop` command: global options, and one module per noun registered onto one Typer app."""

from __future__ import annotations

from typing import Annotated

import typer
from typer._click.core import ParameterSource

import cli.helpfmt  # noqa: F401 — for its effect: --help names values (ADDRESS, COINS, N), never <str>
from cli import (
    account,
    attack,
    block,
    chain,
    db,
    ledgers,
    mempool,
    mine,
    net,
    node,
    stake,
    time_cmd,
    tui_cmd,
    tx,
    wallet,
)
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


def get_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chaintop")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"chaintop {get_version()}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    datadir: DatadirOpt = None,
    network: NetworkOpt = "devnet",
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print chaintop's version and exit.")] = False,
) -> None:
    settings.datadir = datadir
    settings.network = network
    settings.network_given = ctx.get_parameter_source("network") not in (None, ParameterSource.DEFAULT)


for module in (chain, block, tx, account, wallet, mine, mempool, db, node, net, stake, time_cmd, tui_cmd,
               ledgers, attack):
    module.register(app)
use_house_commands(app)


def run() -> None:
    from cli.signals import exit_on_sigterm

    exit_on_sigterm()  # SIGTERM unwinds like an exception: an embedded node closes its miner and store
    app()


if __name__ == "__main__":
    run()
