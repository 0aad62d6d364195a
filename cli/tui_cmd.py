"""`chaintop tui`: the Textual TUI on the data dir, with the node (mining, traffic, RPC) running in this
process."""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer

from chain.errors import UsageError
from cli import output
from cli.common import datadir_for, handle_errors, settings
from cli.options import BlockTimeOpt, ListenOpt, PeerOpt, RpcPortOpt, TrafficOpt, ValidatorsOpt, WorkersOpt


def cli_prefix() -> str:
    """How the user invokes chaintop for this data dir: what the TUI prefixes its equivalent commands with."""
    if settings.datadir:
        return f"chaintop --datadir {settings.datadir}"
    if settings.network != "devnet":
        return f"chaintop --network {settings.network}"
    return "chaintop"


def require_terminal() -> None:
    """Refuse before anything starts when stdin or stdout is not a terminal: the TUI would write escape codes
    into a pipe and wait for keys that never come."""
    missing = [name for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout))
               if stream is None or not stream.isatty()]
    if missing:
        raise UsageError("no-terminal", (
            f"chaintop tui draws a full-screen interface and needs a terminal, but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not one (a pipe, a file or no console); without one, "
            "run `chaintop node` (the node headless) and reach it with the other commands, or `chaintop "
            "watch` for its events"))


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def tui(
        mining: Annotated[str | None, typer.Option(
            "--mining", metavar="MODE",
            help="continuous (always searching: the default where the difficulty retargets), auto, interval "
                 "(the default on regtest and PoS), manual or off.")] = None,
        traffic: TrafficOpt = 2.0,
        workers: WorkersOpt = None,
        rpc_port: RpcPortOpt = 0,
        block_time: BlockTimeOpt = None,
        listen: ListenOpt = None,
        peer: PeerOpt = None,
        validators: ValidatorsOpt = None,
    ) -> None:
        ("Open the TUI on the data dir (creating the default devnet on first start); CLI commands reach it "
         "over RPC.")
        from node.daemon import RunningNode
        from node.node import Node

        require_terminal()
        path = datadir_for()
        if not (path / "chain").exists():
            Node.create(path, settings.network).close()
            output.err_console.print(f"initialised {settings.network} in {path}", highlight=False)
        running = RunningNode(path, mining, traffic, rpc_port, workers, block_time=block_time, listen=listen,
                              peers=peer, validators=validators)  # --listen/--peer: a node of a network
        try:
            running.start()
            from tui.app import ChaintopApp
            from tui.backend import Backend

            # The app measures ages on the chain's own clock, which stands still while a PoS devnet is closed.
            tui_app = ChaintopApp(Backend(running.node, running.service, running, path),
                                  clock=running.node.clock, cli_prefix=cli_prefix())

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
