"""The head of the last clean shutdown, kept beside the LevelDB: a store whose head block has gone since then
lost its last writes (a damaged or truncated write-ahead log), and opening it says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from chain.abc import BlockIndex
from chain.errors import ChaintopError, StoreError
from storage import schema
from storage.files import write_private

if TYPE_CHECKING:
    from storage.store import ChainStore

MARKER = "chaintop-clean-shutdown.json"  # inside the LevelDB folder, which LevelDB leaves alone


def record(store: ChainStore) -> None:
    """At a clean close: the head's hash and height, synced (a crash after it must not leave a stale one)."""
    try:
        head = store.get_meta("head")
        raw = store.raw_get(schema.index_key(head)) if head is not None else None
        if raw is None:
            return
        params = store.get_meta("params")  # a second copy of the chain's rules, for db repair
        data = {"head": head.hex(), "height": BlockIndex.decode(raw).height,
                "params": params.decode() if params is not None else None}
        write_private(store.dbpath / MARKER, json.dumps(data), sync=True)
    except (OSError, ChaintopError):
        pass  # a full or damaged disk: the previous record, still true of an older head, stays


def read(dbpath: Path) -> dict | None:
    try:
        data = json.loads((dbpath / MARKER).read_text())
        return {"head": bytes.fromhex(data["head"]), "height": int(data["height"]),
                "params": data.get("params")}
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def forget(dbpath: Path) -> None:
    (dbpath / MARKER).unlink(missing_ok=True)


def get_moved_back(store: ChainStore) -> dict | None:
    """What was lost since the last clean shutdown: {"head", "height", "now_height"}, or None. Blocks are
    never deleted, so the recorded head block must still be stored, whatever reorgs came after it."""
    last = read(store.dbpath)
    if last is None or store.raw_get(schema.block_key(last["head"])) is not None:
        return None
    head = store.get_meta("head")
    idx = store.get_index(head) if head is not None else None
    return {**last, "now_height": idx.height if idx is not None else None}


def check(store: ChainStore) -> None:
    lost = get_moved_back(store)
    if lost is None:
        return
    now = f"now ends at height {lost['now_height']}" if lost["now_height"] is not None else "has no head"
    raise StoreError("head-moved-back", (
        f"the chain in {store.dbpath} moved back since its last clean shutdown: its head was block "
        f"{lost['height']} ({lost['head'].hex()[:16]}…), which is gone, and it {now}; the database lost its "
        "last writes (a damaged or truncated write-ahead log). `chaintop db repair` rebuilds from the blocks "
        "that survive and says what was lost"))
