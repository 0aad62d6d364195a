"""db repair: rebuild the chain (indexes, state, undo, pool) from the blocks that survive in a damaged data
dir, by connecting them again with full validation, and say exactly what was lost."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from chain.abc import ChainBatch
from chain.block import Block
from chain.errors import ChaintopError, InvalidBlock, StoreError
from chain.genesis import initialize, load_params, make_genesis
from chain.mempool import decode_pool_record
from chain.params import PRESETS, Params
from storage import marker, schema
from storage.store import DB_DIR, ChainStore

REBUILD_DIR = ".repair"  # a data dir of its own inside ours, while the chain is rebuilt


def repair_datadir(datadir: str | Path) -> dict:
    """Salvage what LevelDB can read, replay every surviving block into a fresh store, put the fresh store in
    place and keep the old one beside it (chain.damaged-<time>). Refused while another process holds it."""
    from node.node import Node

    datadir = Path(datadir).expanduser()
    old = ChainStore.open_salvaged(datadir)
    try:
        before = _head_before(old)
        blocks, unreadable = _surviving_blocks(old)
        params = _recover_params(old, blocks)
        pending = _surviving_pool(old)
        rebuild = datadir / REBUILD_DIR
        shutil.rmtree(rebuild, ignore_errors=True)
        latest = max((b.header.timestamp for b in blocks), default=0)
        store = ChainStore.open(rebuild, create=True)
        try:
            initialize(store, params)
            # the chain's own clock may run ahead of the wall (time increase): never call its blocks future
            node = Node(store, clock=lambda: max(time.time(), latest + 1.0))
        except BaseException:
            store.close()
            raise
        with node:
            counts = _replay(node, blocks)
            kept = _readmit(node, pending)
            _carry_energy(old, node)
            after = {"height": node.chain.head.height, "head": node.chain.head.hash.hex()}
        keep_as = datadir / f"chain.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
    except BaseException:
        old.close()
        raise
    old.replace_with(rebuild / DB_DIR, keep_as)
    shutil.rmtree(rebuild, ignore_errors=True)
    lost_heights = max(0, before["height"] - after["height"]) if before["height"] is not None else None
    return {"ok": True, "height_before": before["height"], "height_before_from": before["from"],
            "height": after["height"], "head": after["head"], "heights_lost": lost_heights,
            "blocks_found": len(blocks) + 1, "blocks_unreadable": unreadable, **counts,
            "pending_kept": kept, "pending_lost": len(pending) - kept, "damaged_copy": str(keep_as)}


def _recover_params(store: ChainStore, blocks: list[Block]) -> Params:
    """The chain's rules: the params record, else the copy the last clean shutdown kept, else the preset
    whose genesis the surviving block 1 grows from (genesis commits to every parameter)."""
    try:
        return load_params(store)
    except (ChaintopError, ValueError, KeyError, TypeError):
        pass
    last = marker.read(store.dbpath)
    if last is not None and last["params"]:
        return Params.from_dict(json.loads(last["params"]))
    parents = {b.header.parent for b in blocks if b.height == 1}
    for preset in PRESETS.values():
        if make_genesis(preset)[0].hash in parents:
            return preset
    raise StoreError("db-unrepairable", f"the chain's parameters in {store.dbpath} are lost and no surviving "
                                        "block names a preset's genesis: nothing can be replayed; `chaintop "
                                        "init` a new chain")


def _head_before(store: ChainStore) -> dict:
    """The highest head we know the chain had: the last clean shutdown's, or the head record's."""
    best = {"height": None, "from": None}
    last = marker.read(store.dbpath)
    if last is not None:
        best = {"height": last["height"], "from": "last clean shutdown"}
    try:
        head = store.get_meta("head")
        idx = store.get_index(head) if head is not None else None
    except StoreError:
        idx = None
    if idx is not None and (best["height"] is None or idx.height > best["height"]):
        best = {"height": idx.height, "from": "head record"}
    return best


def _surviving_blocks(store: ChainStore) -> tuple[list[Block], int]:
    """Every block record that reads back and decodes to its key, lowest height first (parents first)."""
    blocks, unreadable = [], 0
    try:
        for key, raw in store.iter_records(schema.BLOCK):
            try:
                block = Block.decode(raw)
            except ChaintopError:
                unreadable += 1
                continue
            if block.hash != key[1:]:
                unreadable += 1
            elif block.height > 0:
                blocks.append(block)
    except StoreError:
        unreadable += 1  # a stretch even the salvage could not read: its blocks are lost
    blocks.sort(key=lambda b: b.height)
    return blocks, unreadable


def _surviving_pool(store: ChainStore) -> list:
    pending = []
    try:
        for _, raw in store.iter_records(schema.POOL):
            try:
                pending.append(decode_pool_record(raw)[0])
            except ChaintopError:
                pass
    except StoreError:
        pass
    return pending


def _replay(node, blocks: list[Block]) -> dict:
    counts = {"blocks_connected": 0, "blocks_side": 0, "blocks_orphaned": 0, "blocks_invalid": 0}
    for block in blocks:
        try:
            result = node.accept_block(block)
        except InvalidBlock as e:
            counts["blocks_orphaned" if e.code == "unknown-parent" else "blocks_invalid"] += 1
            continue
        if result.status in ("connected", "reorg"):
            counts["blocks_connected"] += 1
        elif result.status == "side":
            counts["blocks_side"] += 1
    return counts


def _carry_energy(old: ChainStore, node) -> None:
    """The energy ledger is this node's measurement, not derived from blocks: keep what survives."""
    energy = {}
    try:
        for key, raw in old.iter_records(schema.ENERGY):
            if node.store.get_index(key[1:]) is not None:
                energy[key[1:]] = raw
    except StoreError:
        pass  # a damaged stretch: those measurements are lost
    if energy:
        node.store.commit(ChainBatch(energy=energy, sync=True))


def _readmit(node, pending: list) -> int:
    kept = 0
    for tx in sorted(pending, key=lambda t: (t.sender_address, t.nonce)):
        try:
            node.submit_tx(tx)
            kept += 1
        except ChaintopError:
            pass  # confirmed meanwhile, or spent on what survived
    return kept
