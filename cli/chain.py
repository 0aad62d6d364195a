"""Chain-wide commands: init, status."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from chain.errors import UsageError
from chain.params import get_preset
from cli import output
from cli.common import datadir_for, handle_errors, open_node, settings
from cli.options import JsonOpt


def render_status(s: dict):
    # A PoS devnet's clock stood still while it was closed: its now is the wall clock minus the offset.
    age = max(0, int(time.time() - s.get("clock_offset", 0)) - s["head_time"])
    rows = [
        ("network", f"{s['network']} (chain id {s['chain_id']:#x})"),
        ("consensus", s["consensus"] + (f" — next block by {s['producer']}" if "producer" in s else "")),
        ("height", s["height"]),
        ("head", s["head"]),
        ("head age", output.age(age)),
    ]
    if s.get("time_shift"):
        rows.append(("clock", f"moved {output.age(abs(s['time_shift']))} "
                              f"{'on' if s['time_shift'] > 0 else 'back'} by `chaintop time`"))
    if s.get("producer", "pow") == "pow":
        rows += [("bits", f"{s['bits']}  (difficulty {output.difficulty(s['difficulty'])}; "
                          f"next block {s['next_bits']})"),
                 ("chain work", output.chain_work(s["chain_work"]))]
    if "epoch" in s:
        rows += [("epoch / slot", f"{s['epoch']} / {s['slot']}"),
                 ("finality", f"justified epoch {s['justified_epoch']}, "
                              f"finalized epoch {s['finalized_epoch']}")]
    rows += [("mempool", f"{s['mempool_size']} pending"), ("data dir", s["datadir"])]
    health = s.get("health") or {}
    if health.get("writable") is False:
        rows.append(("[red]writes[/]", f"stopped ({health['reason']}): {health['message']}"))
    for name, failure in health.get("workers", {}).items():
        rows.append((f"[red]{name} thread[/]", f"failed ({failure['reason']}): {failure['message']}"))
    return output.kv_table(rows, title="chaintop status")


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def init(
        network: Annotated[str | None, typer.Option(
            metavar="NAME",
            help="Network preset: devnet (hybrid), pos-devnet, hybrid-devnet, merge-devnet, pow-devnet, "
                 "regtest.")] = None,
        slot_time: Annotated[float | None, typer.Option(
            "--slot-time", metavar="SECONDS",
            help="pos-devnet, merge-devnet: seconds per PoS slot (e.g. 0.5 for demos); default 2.")] = None,
        merge_height: Annotated[int | None, typer.Option(
            "--merge-height", metavar="HEIGHT",
            help="merge-devnet: the first proof-of-stake height.")] = None,
        block_time: Annotated[int | None, typer.Option(
            "--block-time", metavar="SECONDS",
            help="Proof-of-work networks: the target spacing, seconds per block the retarget aims at and "
                 "interval mining keeps (default 10).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Create a new chain (genesis, prefunded dev accounts, genesis validators) in the data dir.

        Slot clock: on pos-devnet and merge-devnet, time stands still while no process has the data dir open.
        A devnet stopped for days resumes at the next slot; missed slots are not held against the validators.
        """
        from node.node import Node

        net = network or settings.network
        path = datadir_for(net)
        consensus = get_preset(net).consensus
        # an option the network has no use for is refused, not silently dropped
        if slot_time is not None and consensus not in ("pos", "merge"):
            raise UsageError("not-for-network", f"--slot-time sets proof-of-stake slots: pos-devnet and "
                                                f"merge-devnet have them, {net} ({consensus}) does not")
        if merge_height is not None and consensus != "merge":
            raise UsageError("not-for-network", f"--merge-height is where merge-devnet switches to proof of "
                                                f"stake; {net} ({consensus}) has no merge")
        if block_time is not None and consensus == "pos":
            raise UsageError("not-for-network", f"--block-time is proof of work's spacing; {net} makes a "
                                                "block per slot: choose --slot-time")
        overrides: dict = {}
        if block_time is not None:
            if not 1 <= block_time <= 86_400:
                raise UsageError("bad-block-time", "--block-time must be between 1 and 86400 seconds")
            overrides["target_spacing"] = block_time
        if slot_time is not None:
            if not 0.1 <= slot_time <= 3600:
                raise UsageError("bad-slot-time", "--slot-time must be between 0.1 and 3600 seconds")
            overrides["slot_time"] = slot_time
        if merge_height is not None:
            if merge_height < 2:
                raise UsageError("bad-merge-height", "--merge-height must be at least 2")
            overrides["merge_height"] = merge_height
        with Node.create(path, net, **overrides) as node:
            data = node.status()
            data["dev_accounts"] = node.keys()
        output.emit(data, as_json, lambda d: output.kv_table([
            ("initialised", d["datadir"]),
            ("network", d["network"]),
            ("genesis", d["head"]),
            ("dev accounts", f"{len(d['dev_accounts'])} prefunded from a PUBLIC seed — dev only, "
                             "never real value"),
        ] + ([("next", f"commands find this chain with `chaintop --network {net} …` or "
                       f"`export CHAINTOP_NETWORK={net}`")]
             if net != settings.network and not settings.datadir else [])))

    @app.command()
    @handle_errors
    def status(as_json: JsonOpt = False) -> None:
        """The head of the chain, difficulty and mempool size."""
        with open_node() as node:
            data = node.status()
        output.emit(data, as_json, render_status)

    @app.command()
    @handle_errors
    def height(as_json: JsonOpt = False) -> None:
        """The head's height (and hash with --json): the cheapest read, for scripts that poll (bitcoind's
        getblockcount, eth_blockNumber)."""
        with open_node() as node:
            data = node.height()
        output.emit(data, as_json, lambda d: str(d["height"]))
