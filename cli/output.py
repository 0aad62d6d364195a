"""The one way commands print: rich tables for people, JSON for scripts, one-line errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from chain.errors import ChaintopError

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


def list_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold cyan")
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*("" if v is None else str(v) for v in r))
    return table


def short(h: str, n: int = 16) -> str:
    return h if len(h) <= n else h[:n] + "…"
