"""Shared CLI plumbing: the data dir, opening the node, and turning user mistakes into exit code 1."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from chain.errors import ChaintopError
from cli import output

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (snake_case keys, hex bytes, integer amounts).")]


class Settings:
    """Global options, set by the app callback before any command runs."""

    datadir: str | None = None
    network: str = "devnet"


settings = Settings()


def default_datadir(network: str) -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("chaintop", appauthor=False)) / network


def datadir_for(network: str | None = None) -> Path:
    if settings.datadir:
        return Path(settings.datadir).expanduser()
    return default_datadir(network or settings.network)


@contextmanager
def open_node() -> Iterator:
    from chain.node.node import Node

    node = Node.open(datadir_for())
    try:
        yield node
    finally:
        node.close()


def handle_errors(fn):
    """A ChaintopError becomes one line on stderr and exit code 1 — never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ChaintopError as e:
            output.error(e)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            output.error("interrupted")
            raise typer.Exit(130) from None

    return wrapper


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
