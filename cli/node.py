"""Node commands: node (run headless), rpc METHOD [PARAMS...], watch."""

from __future__ import annotations

import json
import signal
import sys
import time
from typing import Annotated

import typer

from chain.errors import StoreError, UsageError
from chain.params import format_coins
from cli import output
from cli.common import datadir_for, handle_errors, open_node
from cli.options import JsonOpt, MiningModeOpt, NdjsonOpt, RpcPortOpt, TrafficOpt, WorkersOpt


def _parse_param(text: str):
    """bitcoin-cli style: JSON if it parses (numbers, true, objects), else the plain string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def node(
        mining: MiningModeOpt = "manual",
        traffic: TrafficOpt = 0.0,
        rpc_port: RpcPortOpt = 0,
        workers: WorkersOpt = None,
    ) -> None:
        """Run the node headless until Ctrl-C or SIGTERM; CLI commands reach it over RPC meanwhile."""
        from node.daemon import RunningNode

        datadir = datadir_for()
        running = RunningNode(datadir, mining, traffic, rpc_port, workers)
        signal.signal(signal.SIGTERM, lambda *_: running.stopped.set())
        signal.signal(signal.SIGINT, lambda *_: running.stopped.set())
        try:
            running.start()
            s = running.node.status()
            output.err_console.print(
                f"chaintop node: {s['network']} height {s['height']} in {datadir}\n"
                f"  rpc {running.url} (cookie in {datadir}/.cookie), mining {mining}, "
                f"traffic {traffic} tx/s\n"
                f"  Ctrl-C stops it cleanly", highlight=False)
            running.wait()
        finally:
            pending = len(running.node.mempool)
            running.close()
            output.err_console.print(f"chaintop node: stopped cleanly; {pending} pending transaction(s) "
                                     "saved")

    @app.command()
    @handle_errors
    def rpc(
        method: Annotated[str, typer.Argument(help="A method name, e.g. status, block, mining_set.")],
        params: Annotated[list[str] | None, typer.Argument(
            help="Positional params (JSON values or strings).")] = None,
    ) -> None:
        """A raw JSON-RPC call to the running node; prints the result (or the error) as JSON.

        `rpc help` lists every method with its parameters (no node needed); `rpc help METHOD` shows one.
        """
        from node.client import RpcClient

        if method == "help":
            from node.rpc import describe_methods

            if len(params or []) > 1:
                raise UsageError("bad-params", "rpc help takes at most one method name")
            output.emit(describe_methods(*(params or [])), False, _render_methods)
            return

        client = RpcClient.for_datadir(datadir_for())
        if client is None:
            raise StoreError("no-node", f"no node is running on {datadir_for()}; start one with "
                                        "`chaintop node`")
        reply = client.raw_call(method, [_parse_param(p) for p in params or []])
        if "error" in reply:
            sys.stdout.write(json.dumps(reply["error"], indent=2) + "\n")
            raise typer.Exit(1)
        output.emit(reply.get("result"), True)

    @app.command()
    @handle_errors
    def watch(
        as_json: NdjsonOpt = False,
        progress: Annotated[bool, typer.Option(
            "--progress/--no-progress", help="Include MiningProgress events.")] = True,
    ) -> None:
        """Stream the running node's events until interrupted."""
        from node.client import RpcClient

        client = RpcClient.for_datadir(datadir_for())
        if client is None:
            raise StoreError("no-node", f"no node is running on {datadir_for()}; start one with "
                                        "`chaintop node`")
        if not as_json:
            output.err_console.print(f"watching {client.url} — Ctrl-C to stop", highlight=False)
        try:
            for event in client.iter_events():
                if not progress and event["event"] == "MiningProgress":
                    continue
                if as_json:
                    sys.stdout.write(json.dumps(event) + "\n")
                    sys.stdout.flush()
                else:
                    output.console.print(_describe(event), highlight=False)
        except KeyboardInterrupt:
            return
        output.err_console.print("the node went away")

    @app.command("fee-estimate")
    @handle_errors
    def fee_estimate(as_json: JsonOpt = False) -> None:
        """Fee rates (base units per byte) recent blocks paid, and what a transfer should offer."""
        with open_node() as api:
            data = api.fee_estimate()
        output.emit(data, as_json, lambda d: output.kv_table(
            [("source", f"{d['source']} ({d['samples']} txs in {d['blocks']} blocks)")] +
            [(k, f"{d[k]} units/byte -> {d['transfer_fee'][k]} units for a transfer")
             for k in ("low", "medium", "high")],
            title="fee estimate"))


def _render_methods(methods: list[dict]):
    from rich.markup import escape  # [optional] params are not markup

    if len(methods) == 1:
        (m,) = methods
        rows = [("usage", escape(f"chaintop rpc {m['usage']}")), ("what", m["description"])]
        rows += [(f"  {p['name']}", f"{p['type']}, " + ("required" if p["required"] else "optional")
                  + (f", default {p['default']}" if p["default"] is not None else ""))
                 for p in m["params"]]
        return output.kv_table(rows, title=f"rpc method {m['method']}")
    table = output.list_table(["method and params", "what it does"],
                              [(escape(m["usage"]), m["description"]) for m in methods],
                              title="JSON-RPC methods (\\[optional] params; positional in this order "
                                    "or named; `rpc help METHOD` for types)")
    table.columns[0].no_wrap = True
    return table


def _describe(e: dict) -> str:
    kind = e["event"]
    t = time.strftime("%H:%M:%S")
    if kind == "BlockConnected":
        return f"{t} [bold green]block[/] {e['height']} {e['hash'][:16]}… {len(e['txs'])} txs"
    if kind == "Reorg":
        return f"{t} [bold red]reorg[/] depth {e['depth']}: {e['old_head'][:12]}… -> {e['new_head'][:12]}…"
    if kind == "TxAdded":
        return f"{t} [cyan]tx+[/] {e['txid'][:16]}… fee rate {e['fee_rate']}"
    if kind == "TxRemoved":
        return f"{t} [dim]tx-[/] {e['txid'][:16]}… {e['reason']}"
    if kind == "MiningProgress":
        return f"{t} [yellow]mining[/] block {e['height']}: {e['hashes']:,} hashes, {e['hash_rate']:,.0f} H/s"
    if kind == "BlockMined":
        return (f"{t} [bold yellow]mined[/] block {e['height']} after {e['hashes']:,} hashes in "
                f"{e['seconds']} s")
    if kind == "MiningFailed":
        return f"{t} [bold red]miner failed[/] {e['reason']}: {e['message']} (retrying in {e['retry_in']} s)"
    if kind == "MiningStateChanged":
        return f"{t} [magenta]mining[/] mode {e['mode']}, {'searching' if e['active'] else 'idle'}"
    if kind == "ValidatorStaked":
        return (f"{t} [bold cyan]staked[/] validator #{e['index']} with {format_coins(e['amount'])} coins; "
                "it waits in the activation queue")
    if kind == "StakeWithdrawn":
        return (f"{t} [cyan]withdrawn[/] validator #{e['index']}'s lock-up is over: "
                f"{format_coins(e['amount'])} coins went back to the account that staked it")
    return f"{t} {kind} {json.dumps(e)}"


__all__ = ["register", "UsageError", "open_node"]
