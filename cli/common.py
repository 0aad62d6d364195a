"""Shared CLI plumbing: the data dir, opening the node, and turning user mistakes into exit code 1."""

from __future__ import annotations

import errno
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from chain.errors import ChaintopError
from cli import output

if TYPE_CHECKING:
    from node.api import NodeAPI

class Settings:
    """Global options, set by the app callback before any command runs."""

    datadir: str | None = None
    network: str = "devnet"
    network_given: bool = False  # --network (or CHAINTOP_NETWORK) was set, not left at its default
    as_json: bool = False  # the running command's --json (handle_errors sets it): notes and errors follow it


settings = Settings()


def default_datadir(network: str) -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("chaintop", appauthor=False)) / network


def datadir_for(network: str | None = None) -> Path:
    if settings.datadir:
        return Path(settings.datadir).expanduser()
    return default_datadir(network or settings.network)


def _devnet_hint() -> str:
    """When no --datadir was given and the default devnet runs: how to reach one of its nodes (a new user's
    `chaintop net partition` after `chaintop devnet up` looked in the plain data dir)."""
    if settings.datadir:
        return ""
    from node import devnet

    root = default_datadir(settings.network).parent / "devnets" / settings.network
    data = devnet.load(root) or {}
    running = [n for n in data.get("nodes", []) if devnet.node_pid(Path(n["datadir"])) is not None]
    if not running:
        return ""
    return f"; a devnet runs: name one of its nodes, e.g. `chaintop --datadir {running[0]['datadir']} ...`"


@contextmanager
def open_node(embedded_ok: bool = True) -> Iterator[NodeAPI]:
    """The NodeAPI for the data dir: the running node over RPC if one holds it, else the data dir opened
    here."""
    from chain.errors import StoreError
    from node.client import RpcClient
    from node.daemon import wait_for_node_info
    from node.datadir import is_held_by_a_node
    from node.node import Node
    from node.rpc import read_node_info

    datadir = datadir_for()
    client = RpcClient.for_datadir(datadir)
    if client is not None:
        note_network(datadir, (read_node_info(datadir) or {}).get("network"))
        try:
            yield client  # one keep-alive connection for every call of the command
        finally:
            client.close()
        return
    if not embedded_ok:
        raise StoreError("no-node", f"no node is running on {datadir}; start one with `chaintop node`"
                                    + _devnet_hint())
    try:
        node = Node.open(datadir)
    except StoreError as e:
        if e.code == "no-chain":
            raise StoreError("no-chain", no_chain_hint(datadir)) from None
        if e.code != "datadir-locked" or not is_held_by_a_node(datadir):
            raise
        # A node is starting up: give it a moment to publish its RPC address.
        if wait_for_node_info(datadir, 5.0) is None or (client := RpcClient.for_datadir(datadir)) is None:
            raise
        note_network(datadir, (read_node_info(datadir) or {}).get("network"))
        yield client
        return
    try:
        note_network(datadir, node.params.network)
        yield node
    finally:
        node.close()


def note_network(datadir: Path, network: str | None) -> None:
    """--network picks a default data dir; a --datadir's chain has the network chosen at its init. Say so
    when the two differ, rather than show one network's chain while the user thinks it is another's."""
    if settings.datadir and settings.network_given and network and network != settings.network:
        output.note(f"--network {settings.network} does not apply: {datadir} holds a {network} chain "
                    "(a data dir's network is chosen at init)", "network-mismatch", settings.as_json)


def is_embedded(api: NodeAPI) -> bool:
    from node.node import Node

    return isinstance(api, Node)


def handle_errors(fn):
    """A ChaintopError becomes one line on stderr and exit code 1 — never a traceback.

    With the command's --json the line is JSON: {"error": {"reason": ..., "message": ...}}. An OSError that
    escapes a command (a data dir on a read-only disk, a file where a directory should be) is the user's
    environment, not a bug: one line too, reason io-error.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        as_json = settings.as_json = kwargs.get("as_json") is True
        try:
            return fn(*args, **kwargs)
        except ChaintopError as e:
            output.error(e, as_json=as_json)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            output.error("interrupted", "interrupted", as_json)
            raise typer.Exit(130) from None
        except BrokenPipeError:
            raise  # stdout went away (`| head`): Typer exits quietly
        except OSError as e:
            where = f" ({e.filename})" if e.filename else ""
            # a full disk outside LevelDB (node.json, the cookie, an export): the disk-full the store says
            reason = "disk-full" if e.errno in (errno.ENOSPC, errno.EDQUOT) else "io-error"
            output.error(f"{e.strerror or e}{where}", reason, as_json)
            raise typer.Exit(1) from None

    return wrapper


def no_chain_hint(datadir: Path) -> str:
    """Say where we looked, and which networks do have a chain in the default place."""
    msg = f"no chain in {datadir}; run `chaintop init`"
    if settings.datadir:
        return msg + " with this --datadir"
    root = default_datadir(settings.network).parent
    others = sorted(p.name for p in root.glob("*") if (p / "chain").exists()) if root.exists() else []
    if others:
        msg += f", or pick an initialised network with --network ({', '.join(others)})"
    return msg
