"""Mining commands: mine (with a rich progress bar on a terminal), mining MODE (switch a running node)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from cli import output
from cli.common import handle_errors, open_node
from cli.options import BlockTimeOpt, JsonOpt, TrafficOpt, WorkersOpt

if TYPE_CHECKING:
    from node.api import NodeAPI


def _fmt_rate(rate: float) -> str:
    for unit in ("", "k", "M", "G"):
        if rate < 1000:
            return f"{rate:.1f} {unit}H/s"
        rate /= 1000
    return f"{rate:.1f} TH/s"


def mine_with_progress(api: NodeAPI, blocks: int, to: str | None, as_json: bool) -> dict:
    """Mine `blocks` blocks; a progress bar on a terminal, one line per block otherwise (unless --json).

    The same over RPC: the running node streams progress and each block as it is mined, and Ctrl-C here
    hangs up, which ends the node's search too."""
    if as_json:
        return api.mine(blocks, to)
    if not sys.stdout.isatty():
        def on_block(b: dict) -> None:
            print(f"mined block {b['height']} {b['hash']} txs={b['txs']}", flush=True)

        return api.mine(blocks, to, on_block=on_block)

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]block {task.fields[height]}"),
        BarColumn(),
        TextColumn("{task.fields[hashes]} of ~{task.fields[expected]} hashes"),
        TextColumn("{task.fields[rate]}"),
        TextColumn("best {task.fields[best]}"),
        TimeElapsedColumn(),
        console=output.console,
    ) as bar:
        overall = bar.add_task("mining", total=blocks, height=api.status()["height"] + 1, hashes=0,
                               expected="?", rate="", best="")

        def on_progress(p) -> None:
            bar.update(overall, height=p.height, hashes=f"{p.hashes:,}", expected=f"{p.expected_hashes:,.0f}",
                       rate=_fmt_rate(p.hash_rate), best=p.best_hash.hex()[:12])

        def on_block(b: dict) -> None:
            bar.advance(overall)
            bar.console.print(f"mined block {b['height']} {b['hash']} ({b['txs']} txs)", highlight=False)
            bar.update(overall, height=b["height"] + 1)

        return api.mine(blocks, to, progress=on_progress, on_block=on_block)


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def mine(
        blocks: Annotated[int, typer.Option("--blocks", "-n", metavar="N",
                                            help="How many blocks to mine.")] = 1,
        to: Annotated[str | None, typer.Option(
            "--to", metavar="ADDRESS", help="Beneficiary address or label (default dev0).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Mine blocks on the head with worker processes; the reward and fees go to --to.

        Mining stops early at a merge (from there validators propose): the exit code is still 0, a note on
        stderr says why, and --json has "stopped": {"reason", "message"} (null when every block was mined).
        """
        with open_node() as api:
            data = mine_with_progress(api, blocks, to, as_json)
        if as_json:
            output.emit(data, True)
        elif data.get("stopped"):
            output.note(data["stopped"]["message"], data["stopped"]["reason"])

    @app.command()
    @handle_errors
    def mining(
        mode: Annotated[str | None, typer.Argument(
            help="auto, interval, manual or off (omit to show).")] = None,
        traffic: TrafficOpt = None,
        workers: WorkersOpt = None,
        block_time: BlockTimeOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Show or switch the running node's mining mode, traffic rate, worker count and interval."""
        from node.service import check_block_time, check_mining_mode, check_traffic_rate, check_workers

        # all or nothing: every value is checked before the first one is set
        if mode is not None:
            check_mining_mode(mode)
        if traffic is not None:
            check_traffic_rate(traffic)
        if workers is not None:
            check_workers(workers)
        if block_time is not None:
            check_block_time(block_time)
        with open_node(embedded_ok=False) as api:
            data = api.mining_state()
            if block_time is not None:  # first: `mining interval --block-time 2` starts on the new interval
                data = api.set_block_time(block_time)
            if mode is not None:
                data = api.set_mining(mode)
            if traffic is not None:
                data = api.set_traffic(traffic)
            if workers is not None:
                data = api.set_workers(workers)
        output.emit(data, as_json, lambda d: output.kv_table(
            [("mode", d["mode"]), ("workers", d["workers"]), ("searching now", output.yes_no(d["active"])),
             ("traffic", f"{d['traffic']} tx/s"),
             ("block time", f"{d.get('block_time', '?')} s (interval mode)")],
            title="mining"))
