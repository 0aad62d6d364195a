"""`chaintop tui`: the Textual TUI on the data dir, with the node (mining, traffic, RPC) running in this
process."""

from __future__ import annotations

import signal

import typer

from cli import output
from cli.common import datadir_for, handle_errors, settings
from cli.options import MiningModeOpt, RpcPortOpt, TrafficOpt, WorkersOpt


def cli_prefix() -> str:
    """How the user invokes chaintop for this data dir: what the TUI prefixes its equivalent commands with."""
    if settings.datadir:
        return f"chaintop --datadir {settings.datadir}"
    if settings.network != "devnet":
        return f"chaintop --network {settings.network}"
    return "chaintop"


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def tui(
        mining: MiningModeOpt = "interval",
        traffic: TrafficOpt = 2.0,
        workers: WorkersOpt = None,
        rpc_port: RpcPortOpt = 0,
    ) -> None:
        ("Open the TUI on the data dir (creating the default devnet on first start); CLI commands reach it "
         "over RPC.")
        from node.daemon import RunningNode
        from node.node import Node

        path = datadir_for()
        if not (path / "chain").exists():
            Node.create(path, settings.network).close()
            output.err_console.print(f"initialised {settings.network} in {path}", highlight=False)
        running = RunningNode(path, mining, traffic, rpc_port, workers)
        try:
            running.start()
            from tui.app import ChaintopApp
            from tui.backend import Backend

            # The app measures ages on the chain's own clock, which stands still while a PoS devnet is closed.
            tui_app = ChaintopApp(Backend(running.node, running.service, running, path), clock=running.node.clock,
                                  cli_prefix=cli_prefix())

            def on_term(*_) -> None:
                loop = tui_app._loop
                if loop is not None:
                    loop.call_soon_threadsafe(tui_app.action_quit_clean)

            signal.signal(signal.SIGTERM, on_term)
            tui_app.run()
        finally:
            pending = len(running.node.mempool)
            running.close()
        output.err_console.print(f"chaintop: node stopped cleanly; {pending} pending transaction(s) saved",
                                 highlight=False)
        code = tui_app.return_code or 0
        if code:
            raise typer.Exit(code)


__all__ = ["register"]
