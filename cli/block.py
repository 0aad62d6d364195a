"""Block commands: blocks, block, invalidate, reconsider."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from chain.params import format_coins
from cli import output
from cli.common import handle_errors, open_node
from cli.options import JsonOpt


def _time(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _seal(b: dict) -> str:
    """A PoW block's bits; a PoS block has none (zero): its slot and proposer instead."""
    if b.get("engine") == "pos":
        return f"slot {b['slot']}, proposer #{b['proposer_index']}"
    return f"bits {b['bits']}"


def render_blocks(rows: list[dict]):
    span = f"blocks {rows[-1]['height']}–{rows[0]['height']}" if rows else "no blocks"
    return output.list_table(
        ["height", "hash", "time (UTC)", "txs", "seal", "confs"],
        [(b["height"], output.short(b["hash"]), _time(b["timestamp"]), b["n_tx"], _seal(b),
          b["confirmations"]) for b in rows],
        title=f"{span} of the main chain, newest first (confs: confirmations)",
        keep=("height", "hash", "time (UTC)"),
    )


def ledger_rows(b: dict) -> list[tuple[str, str]]:
    """The two ledgers' figures for one block: what it added to the supply, what it cost this node."""
    rows = []
    issued = b.get("issuance")
    if issued:
        rows.append(("issued", f"{format_coins(issued['minted'])} minted - {format_coins(issued['burned'])} "
                               "burned coins (`chaintop supply` has the parts)"))
    energy = b.get("energy")
    if energy:
        rows.append(("energy", (f"{energy['pow_cpu_seconds']:.4g} CPU s search + "
                                f"{energy['pos_cpu_seconds']:.4g} CPU s validator duties = "
                                f"{energy['joules']:.4g} J at "
                                f"{energy['watts_per_core']:g} W per busy core") if energy["measured"]
                     else "not measured here (connected in a reorg)"))
    return rows


def render_block(b: dict):
    rows = [
        ("height", b["height"]),
        ("hash", b["hash"]),
        ("parent", b["parent"]),
        ("time", f"{_time(b['timestamp'])} UTC ({b['timestamp']})"),
        ("beneficiary", b["beneficiary"]),
    ]
    if b.get("engine") == "pos":
        rows += [("seal", f"proof of stake: slot {b['slot']}, proposer #{b['proposer_index']}")]
    else:
        rows += [("bits", f"{b['bits']} (difficulty {output.difficulty(b['difficulty'])})"),
                 ("nonce", b["nonce"])]
    rows += [
        ("tx root", b["tx_root"]),
        ("state root", b["state_root"]),
        ("reward + fees", f"{b['reward_coins']} + {b['fees_coins']} coins"),
    ]
    rows += ledger_rows(b)
    rows += [
        ("size", f"{b['size']} bytes"),
        ("confirmations", b["confirmations"]),
        ("main chain", output.yes_no(b["main_chain"])),
        ("transactions", len(b["txs"])),
    ]
    rows += [("", t) for t in b["txs"][:50]]
    if len(b["txs"]) > 50:
        rows.append(("", f"… {len(b['txs']) - 50} more (use --json)"))
    return output.kv_table(rows, title=f"block {b['height']}")


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def blocks(
        last: Annotated[int, typer.Option("--last", "-n", metavar="N",
                                          help="How many blocks, newest first.")] = 10,
        start: Annotated[int | None, typer.Option(
            "--from", metavar="HEIGHT",
            help="Page back: start at this height instead of the head (then --last N going down).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """The newest blocks of the main chain, or a page of older ones with --from."""
        with open_node() as node:
            data = node.blocks(last, start)
        output.emit(data, as_json, render_blocks)

    @app.command()
    @handle_errors
    def block(
        ident: Annotated[str, typer.Argument(metavar="ID", help="A height or a block hash.")],
        as_json: JsonOpt = False,
    ) -> None:
        """One block: header fields, reward and transactions."""
        with open_node() as node:
            data = node.block(ident)
        output.emit(data, as_json, render_block)

    @app.command()
    @handle_errors
    def invalidate(
        ident: Annotated[str, typer.Argument(metavar="ID", help="A height or a block hash.")],
        as_json: JsonOpt = False,
    ) -> None:
        """Set a block and its descendants aside (bitcoind's invalidateblock): the head rewinds to its parent,
        their transactions go back to the mempool, and this node will not follow them until `reconsider`. A
        finalized block is refused (finalized-block)."""
        with open_node() as node:
            data = node.invalidate_block(ident)
        output.emit(data, as_json, lambda d: (
            f"set aside block {d['height']} ({d['invalidated'][:16]}…) and {len(d['marked']) - 1} after it; "
            f"reverted {len(d['reverted'])} block(s), {len(d['returned_to_mempool'])} tx(s) back in the "
            f"mempool; head {d['head_height']} {d['head'][:16]}…"))

    @app.command()
    @handle_errors
    def reconsider(
        ident: Annotated[str, typer.Argument(metavar="ID", help="A block hash (or a height).")],
        as_json: JsonOpt = False,
    ) -> None:
        """Undo `invalidate` (bitcoind's reconsiderblock): clear the marks; fork choice may move the head
        back."""
        with open_node() as node:
            data = node.reconsider_block(ident)
        output.emit(data, as_json, lambda d: (
            f"cleared {len(d['cleared'])} block(s); head {'moved to' if d['head_moved'] else 'stays at'} "
            f"{d['head_height']} {d['head'][:16]}…"))
