"""Node commands: node (run headless), rpc METHOD [PARAMS...], watch."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Annotated

import typer

from chain.errors import StoreError, UsageError
from chain.params import format_coins
from cli import output
from cli.common import datadir_for, handle_errors, open_node
from cli.options import (
    BlockTimeOpt,
    JsonOpt,
    ListenOpt,
    MiningModeOpt,
    NdjsonOpt,
    PeerOpt,
    RpcPortOpt,
    TrafficOpt,
    ValidatorsOpt,
    WorkersOpt,
)


def _parse_param(text: str):
    """bitcoin-cli style: JSON if it parses (numbers, true, objects), else the plain string."""
    try:
        return json.loads(text)
    except ValueError:
        return text
    except RecursionError:
        raise UsageError("bad-params", "a parameter is JSON nested deeper than chaintop reads") from None


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def node(
        mining: MiningModeOpt = "manual",
        traffic: TrafficOpt = 0.0,
        rpc_port: RpcPortOpt = 0,
        workers: WorkersOpt = None,
        block_time: BlockTimeOpt = None,
        listen: ListenOpt = None,
        peer: PeerOpt = None,
        validators: ValidatorsOpt = None,
        to: Annotated[str | None, typer.Option(
            "--to", metavar="ADDRESS", help="Where this node's mined rewards go (default dev0).")] = None,
    ) -> None:
        """Run the node headless until Ctrl-C or SIGTERM; CLI commands reach it over RPC meanwhile.

        With --listen or --peer it joins a network (ZeroMQ on loopback unless you name another address):
        it gossips blocks, transactions and votes with its peers and syncs from them.
        """
        from cli.signals import arm_shutdown_watchdog, say, stop_on_signals
        from node.daemon import RunningNode

        datadir = datadir_for()
        running = RunningNode(datadir, mining, traffic, rpc_port, workers, block_time=block_time,
                              listen=listen, peers=peer, validators=validators, beneficiary=to)
        # One signal stops it cleanly, a second at once; a hung shutdown ends after a bound (cli/signals.py).
        stop_on_signals(running.request_stop)
        try:
            running.start()
            s = running.node.status()
            say(lambda: output.err_console.print(
                f"chaintop node: {s['network']} height {s['height']} in {datadir}\n"
                f"  rpc {running.url} (cookie in {datadir}/.cookie), mining {mining}, "
                f"traffic {traffic} tx/s\n"
                + (f"  p2p {running.network.address} (node id {running.network.key.pubkey.hex()[:16]}…), "
                   f"peers {', '.join(peer or []) or 'none given'}\n" if running.network else "")
                + "  Ctrl-C stops it cleanly (twice: at once)", highlight=False))
            running.wait()
        finally:
            arm_shutdown_watchdog()  # also when `stop` came over RPC
            pending = len(running.node.mempool)
            running.close()
            say(lambda: output.err_console.print(f"chaintop node: stopped cleanly; {pending} pending "
                                                 "transaction(s) saved", highlight=False))

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
            [(k, f"{d[k]} units/byte -> {d['transfer_fee'][k]} units = {format_coins(d['transfer_fee'][k])} "
                 "coins for a transfer") for k in ("low", "medium", "high")],
            title="fee estimate (--fee takes coins)"))


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


_REMOVED = {"included": "included in a block", "replaced": "replaced (same nonce, higher fee)",
            "evicted": "evicted (the pool is full)", "expired": "expired (waited too long)",
            "dropped": "dropped (mempool drop)"}


def _removed(reason: str) -> str:
    if reason.startswith("invalid:"):
        return f"no longer valid ({reason[8:]})"
    return _REMOVED.get(reason, reason)


def _coins(units: int) -> str:
    return f"{format_coins(units)} coins"


def _epoch(e: dict) -> str:
    return f"epoch {e['epoch']}"


# One line of words per event type in node/events.py (tests/cli/test_cli_display.py checks each is here).
_DESCRIBE: dict[str, Callable[[dict], str]] = {
    "BlockConnected": lambda e: f"[bold green]block[/] {e['height']} {e['hash'][:16]}… {len(e['txs'])} txs",
    "Reorg": lambda e: (f"[bold red]reorg[/] depth {e['depth']}: {e['old_head'][:12]}… -> "
                        f"{e['new_head'][:12]}…, {len(e['returned_txs'])} tx(s) back to the mempool"),
    "TxAdded": lambda e: (f"[cyan]tx+[/] {e['txid'][:16]}… nonce {e['nonce']}, fee rate {e['fee_rate']}"
                          + (f", replacing {e['replaced'][:16]}…" if e.get("replaced") else "")),
    "TxRemoved": lambda e: f"[dim]tx-[/] {e['txid'][:16]}… {_removed(e['reason'])}",
    "MiningProgress": lambda e: (f"[yellow]mining[/] block {e['height']}: {e['hashes']:,} hashes, "
                                 f"{e['hash_rate']:,.0f} H/s"),
    "BlockMined": lambda e: (f"[bold yellow]mined[/] block {e['height']} after {e['hashes']:,} hashes in "
                             f"{e['seconds']} s"),
    "MiningFailed": lambda e: (f"[bold red]miner failed[/] {e['reason']}: {e['message']} "
                               f"(retrying in {e['retry_in']} s)"),
    "StorageFailed": lambda e: f"[bold red]stopped writing[/] {e['reason']}: {e['message']}",
    "StorageRecovered": lambda e: "[green]writing again[/]: there is room on the disk",
    "WorkerFailed": lambda e: (f"[bold red]{e['worker']} thread failed[/] {e['reason']}: {e['message']} "
                               f"(going on in {e['retry_in']} s)"),
    "MiningStateChanged": lambda e: (f"[magenta]mining[/] mode {e['mode']}, {e['workers']} worker(s), "
                                     f"{'searching' if e['active'] else 'idle'}"),
    "SlotStarted": lambda e: (f"[blue]slot[/] {e['slot']} ({_epoch(e)}), proposer "
                              + ("none (PoW block)" if e["proposer"] is None else f"#{e['proposer']}")),
    "AttestationSeen": lambda e: (f"[blue]vote[/] validator #{e['validator_index']} at slot {e['slot']} for "
                                  f"head {e['head'][:12]}…, epoch {e['source_epoch']} -> "
                                  f"{e['target_epoch']}"),
    "CheckpointJustified": lambda e: f"[bold blue]justified[/] {_epoch(e)} at {e['root'][:16]}…",
    "CheckpointFinalized": lambda e: (f"[bold green]finalized[/] {_epoch(e)} at {e['root'][:16]}… "
                                      "(it can never be reverted)"),
    "ValidatorStaked": lambda e: (f"[bold cyan]staked[/] validator #{e['index']} with {_coins(e['amount'])}; "
                                  "it waits in the activation queue"),
    "ValidatorActivated": lambda e: f"[cyan]activated[/] validator #{e['index']} at {_epoch(e)}",
    "ValidatorExited": lambda e: (f"[cyan]exiting[/] validator #{e['index']} stops its duties at "
                                  f"{_epoch(e)}"),
    "StakeWithdrawn": lambda e: (f"[cyan]withdrawn[/] validator #{e['index']}'s lock-up is over: "
                                 f"{_coins(e['amount'])} went back to the account that staked it"),
    "ValidatorSlashed": lambda e: (f"[bold red]slashed[/] validator #{e['index']} for {e['reason']}: "
                                   f"penalty {_coins(e['penalty'])}"
                                   + (f", reported by #{e['whistleblower']}"
                                      if e.get("whistleblower") is not None else "")),
    "InactivityLeak": lambda e: (f"[bold red]inactivity leak[/] at {_epoch(e)}: no finality for "
                                 f"{e['finality_delay']} epochs, absent validators lose stake"),
    "ClockMoved": lambda e: (f"[magenta]clock[/] moved {e['by']:+.0f} s to "
                             f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(e['time']))} "
                             f"({e['shift']:+.0f} s from the wall clock in all)"),
    # the network (node/p2p)
    "PeerJoined": lambda e: (f"[bold cyan]peer joined[/] {e['address']} ({e['direction']}, node "
                             f"{e['node_id'][:12]}…, at height {e['head_height']})"),
    "PeerLeft": lambda e: f"[cyan]peer left[/] {e['address']} (node {e['node_id'][:12]}…): {e['reason']}",
    "PeerBanned": lambda e: (f"[bold red]peer banned[/] {e['address']} (node {e['node_id'][:12]}…) for "
                             f"{e['seconds']:.0f} s: {e['reason']}"),
    "BlockReceived": lambda e: (f"[green]block received[/] {e['height']} {e['hash'][:16]}… from {e['peer']} "
                                f"{e['delay_ms']:.1f} ms after it was published: {e['status']}"),
}


def _describe(e: dict) -> str:
    kind = e["event"]
    t = time.strftime("%H:%M:%S")
    words = _DESCRIBE.get(kind)
    if words is not None:
        return f"{t} {words(e)}"
    fields = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in e.items() if k != "event")
    return f"{t} {kind}: {fields}"  # an event this CLI does not know yet: still words, never raw JSON


__all__ = ["register", "UsageError", "open_node"]
