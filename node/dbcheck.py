"""db verify's record scan: every LevelDB record read back with its checksums verified and decoded by its
table (blocks, indexes, undo, pool...), so damage anywhere is found and the first damaged key is named."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chain.abc import BlockIndex, TxLocation
from chain.block import Block
from chain.errors import ChaintopError, StoreError
from chain.mempool import decode_pool_record
from chain.state import Undo
from storage import schema

if TYPE_CHECKING:
    from node.node import Node

MAX_REPORTED = 20  # records that do not decode; a damaged stretch LevelDB cannot read ends the scan


def _check_value(key: bytes, value: bytes) -> None:
    """Raise ChaintopError when `value` is not what the key's table holds."""
    table, rest = key[:1], key[1:]
    if table == schema.BLOCK:
        if Block.decode(value).hash != rest:
            raise ChaintopError("hash-mismatch", "the block's hash is not its key")
    elif table == schema.INDEX:
        if BlockIndex.decode(value).hash != rest:
            raise ChaintopError("hash-mismatch", "the header's hash is not its key")
    elif table == schema.TXLOC:
        TxLocation.decode(value)
    elif table == schema.UNDO:
        Undo.decode(value)
    elif table == schema.POOL:
        decode_pool_record(value)
    elif table in (schema.HEIGHT, schema.ADDRESS) and len(value) != 32:
        raise ChaintopError("bad-length", f"{len(value)} bytes where a 32-byte hash belongs")


def scan_records(node: Node) -> dict:
    """{"records": n, "errors": [...], "first_damaged": words or None} over every record of the store."""
    errors: list[str] = []
    first = last = None
    n = 0
    try:
        for key, value in node.store.iter_records():
            n, last = n + 1, key
            try:
                _check_value(key, value)
            except ChaintopError as e:
                first = first or schema.describe_key(key)
                if len(errors) < MAX_REPORTED:
                    errors.append(f"{schema.describe_key(key)}: does not decode ({e.code})")
    except StoreError as e:  # db-corrupt: a stretch LevelDB cannot read back; the scan cannot go past it
        where = f"the record after {schema.describe_key(last)}" if last is not None else "the first record"
        first = first or where
        errors.append(f"{where} and the ones stored beside it cannot be read back ({e.code}: "
                      f"{getattr(e, 'detail', e.message)})")
    return {"records": n, "errors": errors, "first_damaged": first}


def verify(node: Node) -> dict:
    """db verify: the record scan first; the chain walk (maintenance.verify_db) only over an intact store,
    since it would stop at the same damage with less to say."""
    from node.maintenance import verify_db

    scan = scan_records(node)
    if scan["errors"]:
        return _damaged(node, scan, [f"first damaged record: {scan['first_damaged']}"] + scan["errors"])
    try:
        result = verify_db(node)
    except StoreError as e:  # damage the scan could not see (a record changed under it)
        return _damaged(node, scan, [e.message])
    return {**result, "records_checked": scan["records"], "first_damaged": None}


def _damaged(node: Node, scan: dict, errors: list[str]) -> dict:
    head = node.chain.head
    return {"ok": False, "height": head.height, "head": head.hash.hex(), "blocks_checked": 0,
            "txs_checked": 0, "accounts": 0, "state_records": 0, "state_root": "",
            "records_checked": scan["records"], "first_damaged": scan["first_damaged"], "errors": errors}
