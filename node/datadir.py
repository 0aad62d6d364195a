"""What a front end learns about a data dir without opening LevelDB: who holds it, its address prefix."""

from __future__ import annotations

import json
from pathlib import Path

from chain.params import get_preset
from node.rpc import read_node_info
from storage.lock import read_holder
from storage.store import ChainStore

__all__ = ["is_held_by_a_node", "read_holder", "read_hrp"]


def is_held_by_a_node(datadir: Path) -> bool:
    """Whether the data dir's lock names a node process (`chaintop node` or the TUI), not a one-off."""
    holder = read_holder(datadir) or {}
    words = str(holder.get("command", "")).split()
    return "node" in words or "tui" in words


def read_hrp(datadir: Path) -> str | None:
    """The address prefix of the chain in `datadir`: the running node's network, else the stored parameters.

    None when neither can be read (no chain yet, or a process holds the lock without publishing its info).
    """
    info = read_node_info(datadir)
    if info is not None:
        return get_preset(info["network"]).hrp
    try:
        store = ChainStore.open(datadir)
    except Exception:  # noqa: BLE001 — no chain or locked: the caller falls back to the selected network
        return None
    try:
        raw = store.get_meta("params")
        return json.loads(raw)["hrp"] if raw is not None else None
    finally:
        store.close()
