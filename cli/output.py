"""The one way commands print: rich tables for people, JSON for scripts, one-line errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chain.errors import ChaintopError
from chain.params import format_duration

console = Console()
err_console = Console(stderr=True)


def emit(data: Any, as_json: bool, render: Callable[[Any], Any] | None = None) -> None:
    """Print `data` as JSON (stable, snake_case keys) or through `render` for a terminal."""
    if as_json or render is None:
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
        sys.stdout.flush()
        return
    out = render(data)
    if out is not None:
        console.print(out)


def error(e: ChaintopError | str, code: str | None = None, as_json: bool = False) -> None:
    """One line on stderr: `error: message (reason)`, or with --json `{"error": {"reason", "message"}}`."""
    if isinstance(e, ChaintopError):
        code, message = e.code, e.message
    else:
        message = e
    if as_json:
        sys.stderr.write(json.dumps({"error": {"reason": code, "message": message}}) + "\n")
        sys.stderr.flush()
        return
    # markup=False: a message may quote the user's input, brackets and all
    line = Text.assemble(("error", "bold red"), f": {message}", (f" ({code})" if code else "", "dim"))
    err_console.print(line, highlight=False, soft_wrap=True)


def note(message: str, code: str, as_json: bool = False) -> None:
    """A one-line note on stderr (the command goes on): `note: message (reason)`, or JSON with --json."""
    if as_json:
        sys.stderr.write(json.dumps({"note": {"reason": code, "message": message}}) + "\n")
        sys.stderr.flush()
        return
    err_console.print(Text.assemble(("note", "bold yellow"), f": {message}", (f" ({code})", "dim")),
                      highlight=False, soft_wrap=True)


def kv_table(rows: Iterable[tuple[str, Any]], title: str | None = None) -> Table:
    table = Table(show_header=False, title=title, title_justify="left", box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for k, v in rows:
        table.add_row(k, "" if v is None else str(v))
    return table


def list_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None,
               keep: Iterable[str] = ()) -> Table:
    """Compact enough for 80 columns: no outer edge, one space between columns. A header never breaks
    inside a word; the `keep` columns (heights, hashes, addresses: what a reader copies) never wrap, so the
    others fold instead."""
    rows = [["" if v is None else str(v) for v in r] for r in rows]
    keep = set(keep)
    table = Table(title=title, title_justify="left", header_style="bold cyan", box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True)
    for i, c in enumerate(columns):
        widest = max((len(r[i]) for r in rows), default=0) if c in keep else 0
        table.add_column(c, overflow="fold", no_wrap=c in keep,
                         min_width=max(widest, *(len(word) for word in c.split())))
    for r in rows:
        table.add_row(*r)
    return table


def short(h: str, n: int = 16) -> str:
    return h if len(h) <= n else h[:n] + "…"


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def age(seconds: float) -> str:
    return format_duration(seconds)


def difficulty(value: float) -> str:
    """262144.0 -> '262,144'; 1.05 -> '1.05' (no exponent: a PoW difficulty reads as a count)."""
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def chain_work(hex_work: str) -> str:
    """The cumulative expected hashes of the chain (hex in JSON), as 0x… and in decimal."""
    return f"0x{hex_work} ({int(hex_work, 16):,} hashes expected)"


def coins(units: int | None) -> str:
    from chain.params import format_coins

    return "" if units is None else f"{format_coins(units)} coins"


def tx_what(t: dict, with_amount: bool = True, width: int = 16) -> str:
    """What a transaction does, in words: its recipient, or the validator a stake or unstake names (keys
    and addresses cut to `width` characters)."""
    amount = f" {coins(t['amount'])}" if with_amount and t.get("amount") is not None else ""
    if t["kind"] == "stake":
        index = t.get("validator_index")
        key = short(t["validator_pubkey"], width)
        who = f"new validator 0x{key}" if index is None else f"validator #{index} (0x{key})"
        return f"stake{amount} → {who}"
    if t["kind"] == "unstake":
        return f"unstake validator #{t['validator_index']}"
    return short(t.get("to") or "", width + 4)


def tx_state(t: dict) -> str:
    """A pending transaction's lane: ready, or queued behind its sender's first missing nonce."""
    if t.get("ready", True):
        return "ready"
    return f"queued (nonce gap: waiting for nonce {t['waiting_for_nonce']})"
