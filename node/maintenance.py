"""Whole-chain operations: export and import of blocks, and `db verify` (like bitcoind's -checkblocks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from chain import crypto
from chain.abc import STATUS_INVALID
from chain.block import Block
from chain.codec import Reader, Writer
from chain.consensus import pos
from chain.consensus import pow as pow_rules
from chain.consensus.beacon import EMPTY_OPS_ROOT
from chain.errors import ChaintopError, DecodeError, InvalidBlock, StoreError, UsageError
from chain.genesis import make_genesis
from chain.params import PRESETS
from chain.state import TAG_ACCOUNT, Undo, compute_state_muhash, validator_key
from node.ledgers import verify_supply

EXPORT_MAGIC = b"CHAINTOP-BLOCKS\x01"
MAX_EXPORT_BLOCK = 8_000_000


def export_blocks(node, path: str | Path, start: int = 1, end: int | None = None) -> dict:
    """Write main-chain blocks start..end to a file: magic, chain id, then length-prefixed blocks."""
    head = node.chain.head.height
    end = head if end is None else min(end, head)
    if start < 0 or start > max(end, 0):
        raise UsageError("bad-range", f"--from {start} is past the end ({end})")
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    try:
        with open(tmp, "wb") as f:
            f.write(EXPORT_MAGIC + Writer().u32(node.params.chain_id).getvalue())
            for height in range(start, end + 1):
                raw = node.store.get_block(node.chain.get_hash_at(height))
                f.write(Writer().var(raw, MAX_EXPORT_BLOCK).getvalue())
                count += 1
        tmp.replace(path)  # a half-written export never takes the real name
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise UsageError("cannot-write", f"cannot write {path}: {e.strerror}") from None
    return {"file": str(path), "blocks": count, "from": start, "to": end}


def read_export(path: str | Path, chain_id: int) -> list[Block]:
    return list(iter_export(path, chain_id))


def iter_export(path: str | Path, chain_id: int) -> Iterator[Block]:
    """The blocks of an export file, read one at a time: the magic and the chain id are checked before any
    block, so `import /dev/zero` (or a 4 GB file of something else) is refused after 20 bytes, never read
    whole into memory."""
    try:
        f = open(path, "rb")  # closed in the finally below, after the last block
    except OSError as e:
        raise UsageError("cannot-read", f"cannot read {path}: {e.strerror}") from None
    try:
        if _read_exactly(f, path, len(EXPORT_MAGIC)) != EXPORT_MAGIC:
            raise UsageError("bad-export-file", f"{path} is not a chaintop block export")
        file_chain = Reader(_read_exactly(f, path, 4, "the chain id")).u32()
        if file_chain != chain_id:
            raise UsageError("wrong-network", f"{path} holds blocks of {_chain_name(file_chain)}, this node "
                                              f"runs {_chain_name(chain_id)}: blocks of another network "
                                              "cannot be imported")
        while head := f.read(4):
            length = Reader(head + _read_exactly(f, path, 4 - len(head), "a block length")).u32()
            if length > MAX_EXPORT_BLOCK:
                raise UsageError("bad-export-file", f"{path} is damaged: a block length of {length} bytes is "
                                                    f"over the bound of {MAX_EXPORT_BLOCK}")
            try:
                yield Block.decode(_read_exactly(f, path, length, "a block"))
            except DecodeError as e:
                raise UsageError("bad-export-file", f"{path} is damaged: {e.message}") from None
    finally:
        f.close()


def _read_exactly(f, path, size: int, what: str = "the header") -> bytes:
    try:
        data = f.read(size)
    except OSError as e:
        raise UsageError("cannot-read", f"cannot read {path}: {e.strerror}") from None
    if len(data) != size:
        raise UsageError("bad-export-file", f"{path} ends inside {what}: it is truncated or not an export")
    return data


def import_blocks(node, path: str | Path, on_result: Callable[[dict], None] | None = None) -> dict:
    """Feed every block of an export through full validation; the most-work branch wins (reorgs happen
    here). Blocks are read and connected one at a time."""
    counts = {"connected": 0, "reorg": 0, "side": 0, "duplicate": 0}
    reorgs = []
    n = 0
    blocks = iter_export(path, node.params.chain_id)
    while True:
        try:
            block = next(blocks, None)
        except UsageError as e:
            if n == 0:
                raise
            raise UsageError(e.code, f"{e.message} ({n} earlier blocks were imported)") from None
        if block is None:
            break
        check_same_genesis(node, path, [block])
        n += 1
        try:
            result = node.accept_block(block)
        except InvalidBlock as e:
            raise InvalidBlock(e.code, f"block {block.hash.hex()} at height {block.height}: {e.message} "
                               f"({sum(counts.values())} earlier blocks were imported)") from None
        counts[result.status] += 1
        if result.status == "reorg":
            reorgs.append({"old_head": result.old_head.hex(), "new_head": result.new_head.hex(),
                           "depth": result.depth})
        if on_result is not None:
            on_result({"status": result.status, "hash": block.hash.hex(), "height": block.height})
    return {"blocks": n, **counts, "reorgs": reorgs, "height": node.chain.head.height,
            "head": node.chain.head.hash.hex()}


def _chain_name(chain_id: int) -> str:
    names = [p.network for p in PRESETS.values() if p.chain_id == chain_id]
    return f"chain {chain_id:#x}" + (f" ({names[0]})" if names else "")


def check_same_genesis(node, path: str | Path, blocks: list[Block]) -> None:
    """Networks sharing a chain id (merge-devnets with different merge heights, say) differ in genesis,
    which commits to every consensus parameter (chain/genesis.py): a file whose block 1 grows from another
    genesis is another network's, said as such rather than as an unknown parent."""
    genesis = node.chain.get_hash_at(0)
    for block in blocks:
        if block.height == 1 and block.header.parent != genesis:
            raise UsageError("wrong-network", (
                f"{path} holds blocks of another network: its block 1 grows from genesis "
                f"{block.header.parent.hex()[:16]}…, this {node.params.network} chain's genesis is "
                f"{genesis.hex()[:16]}… (same chain id {node.params.chain_id:#x}, different parameters: a "
                "merge height, slot time or block time chosen at init)"))


def verify_db(node, check_signatures: bool = True) -> dict:
    """Re-check the main chain end to end: links, PoW, bodies, undo, indexes and the state root."""
    chain, store, params = node.chain, node.store, node.params
    errors: list[str] = []
    pow_limit = pow_rules.bits_to_target(params.pow_limit_bits)
    prev = None
    txs_checked = 0
    expected_locations: dict[bytes, tuple[bytes, int]] = {}
    for height in range(chain.head.height + 1):
        h = store.get_hash_at(height)
        if h is None:
            errors.append(f"height {height}: no block recorded")
            prev = None
            continue
        raw, idx = store.get_block(h), store.get_index(h)
        if raw is None or idx is None:
            errors.append(f"height {height}: block {h.hex()} or its index entry is missing")
            prev = None
            continue
        try:
            block = Block.decode(raw)
        except DecodeError as e:
            errors.append(f"height {height}: stored block does not decode ({e.code})")
            prev = None
            continue
        if block.hash != h or idx.header.hash != h:
            errors.append(f"height {height}: stored block hash does not match its key")
        if block.height != height:
            errors.append(f"height {height}: block says height {block.height}")
        if idx.status == STATUS_INVALID:
            errors.append(f"height {height}: main-chain block is marked invalid")
        # A genesis written before it committed to the params has the empty ops root: nothing to compare.
        if height == 0 and block.header.ops_root != EMPTY_OPS_ROOT and h != make_genesis(params)[0].hash:
            errors.append("height 0: genesis does not derive from the data dir's recorded parameters")
        is_pos = block.header.is_pos
        if prev is not None:
            if block.header.parent != prev.hash:
                errors.append(f"height {height}: parent link broken")
            work = 1 if is_pos else pow_rules.work_from_bits(block.header.bits)
            if idx.chain_work != prev.chain_work + work:
                errors.append(f"height {height}: cumulative work is wrong")
            if not is_pos and block.header.bits != chain.get_next_bits(prev):
                errors.append(f"height {height}: bits differ from the retarget rule")
        if not is_pos and not pow_rules.check_proof_of_work(h, block.header.bits, pow_limit):
            errors.append(f"height {height}: proof of work not met")
        if is_pos and height > 0:
            v = chain.load_record(validator_key(block.header.seal.proposer_index))
            msg = pos.proposal_message(params.chain_id, h)
            if v is None or not crypto.verify(v.pubkey, block.header.seal.signature, msg):
                errors.append(f"height {height}: proposer signature does not verify")
        if height > 0:
            try:
                if check_signatures:
                    chain.check_block(block)
            except InvalidBlock as e:
                errors.append(f"height {height}: {e.code}: {e.message}")
            raw_undo = store.get_undo(h)
            if raw_undo is None:
                errors.append(f"height {height}: undo data missing")
            else:
                try:
                    Undo.decode(raw_undo)
                except DecodeError:
                    errors.append(f"height {height}: undo data does not decode")
        for i, tx in enumerate(block.txs):
            expected_locations[tx.txid] = (h, i)
        txs_checked += len(block.txs)
        prev = idx

    seen = 0
    for txid, loc in store.iter_tx_locations():
        seen += 1
        if expected_locations.get(txid) != (loc.block, loc.index):
            errors.append(f"tx index: {txid.hex()} points to a block off the main chain or a wrong position")
    if seen != len(expected_locations):
        errors.append(f"tx index holds {seen} entries, the main chain has {len(expected_locations)} "
                      "transactions")

    records = list(store.iter_state())
    accounts = sum(1 for key, _ in records if key[:1] == TAG_ACCOUNT)
    digest = compute_state_muhash(records).digest()
    if digest != chain.head.header.state_root:
        errors.append("state root: the stored accounts do not hash to the head's state root")
    if chain.muhash.digest() != chain.head.header.state_root:
        errors.append("state root: the stored accumulator does not match the head's state root")
    errors += verify_supply(node)  # genesis + minted - burned == the balances, at every height
    return {
        "ok": not errors,
        "height": chain.head.height,
        "head": chain.head.hash.hex(),
        "blocks_checked": chain.head.height + 1,
        "txs_checked": txs_checked,
        "accounts": accounts,
        "state_records": len(records),
        "state_root": digest.hex(),
        "errors": errors,
    }


__all__ = ["export_blocks", "import_blocks", "verify_db", "read_export", "iter_export", "ChaintopError",
           "StoreError"]
