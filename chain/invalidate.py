"""Setting a block aside by hand and taking it back: bitcoind's invalidateblock and reconsiderblock.

`invalidate_block` marks a block and every stored descendant INVALIDATED (valid by the rules, refused by this
node) and, when the block is on the main chain, rewinds the head to its parent: the marks, the disconnects
and the transactions going back to the pool are one batch. A block at or below the finalized checkpoint is
refused (reason `finalized-block`) unless the caller passes `below_finality=True`: the attack playground's
override (node/attack.py), never a fork-choice rule. `reconsider_block` clears the marks again; the node then
follows the branch if fork choice prefers it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chain.abc import STATUS_INVALIDATED, STATUS_VALID, BlockIndex, ChainBatch
from chain.chainstate import AcceptResult, ChainState
from chain.errors import NotFound, UsageError

META_KEY = "invalidated"  # the hashes this node's operator set aside, 32 bytes each (reconsider finds them)


@dataclass
class Invalidated:
    """What invalidate_block did: the blocks marked and, if the head moved, the rewind's result."""

    marked: list[BlockIndex] = field(default_factory=list)
    result: AcceptResult | None = None  # a reorg to the parent (None: the block was not on the main chain)
    finalized_epoch: int | None = None  # set when the rewind went below the finalized checkpoint


def get_invalidated(chain: ChainState) -> list[bytes]:
    raw = chain.db.get_meta(META_KEY) or b""
    return [raw[i:i + 32] for i in range(0, len(raw), 32)]


def _descendants(chain: ChainState, idx: BlockIndex) -> list[BlockIndex]:
    """`idx` and every stored block known to descend from it (the main chain above it, blocks seen this
    session), parents before children."""
    out, todo, seen = [], [idx], {idx.hash}
    while todo:
        cur = todo.pop(0)
        out.append(cur)
        for h in sorted(chain.children_of(cur.hash)):
            kid = chain.get_index(h)
            if kid is not None and h not in seen:
                seen.add(h)
                todo.append(kid)
    return out


def _finalized_block(chain: ChainState) -> tuple[int, BlockIndex] | None:
    cs = chain.consensus_state()
    if cs is None or cs.finalized.epoch == 0 and cs.finalized.root == bytes(32):
        return None
    return cs.finalized.epoch, chain.checkpoint_block(cs.finalized.root)


def invalidate_block(chain: ChainState, block_hash: bytes, below_finality: bool = False) -> Invalidated:
    idx = chain.get_index(block_hash)
    if idx is None:
        raise NotFound("block-not-found", f"no block {block_hash.hex()} is stored here")
    if idx.height == 0:
        raise UsageError("genesis-block", "the genesis block cannot be set aside")
    on_main = chain.is_on_main_chain(idx)
    out = Invalidated()
    finalized = _finalized_block(chain)
    if on_main and finalized is not None and idx.height <= finalized[1].height:
        epoch, block = finalized
        if not below_finality:
            raise UsageError("finalized-block", f"block {idx.height} is at or below the finalized checkpoint "
                                                f"of epoch {epoch} (block {block.height}): a finalized block "
                                                "is never reverted")
        out.finalized_epoch = epoch
    marks = {d.hash: BlockIndex(d.header, d.chain_work, STATUS_INVALIDATED, d.n_tx)
             for d in _descendants(chain, idx) if d.status == STATUS_VALID}
    out.marked = list(marks.values())
    # every marked hash is listed (not only the root): after a restart the side branch's children are not
    # in memory, and reconsider must still find them
    known = get_invalidated(chain)
    listed = b"".join(known + [h for h in marks if h not in known])
    if on_main:
        # the marks and the list go in the rewind's own batch: marks, disconnects and the pool in one write
        out.result = chain.reorg_to(chain.get_index(idx.parent), marks, meta={META_KEY: listed})
    else:
        chain.db.commit(ChainBatch(index=marks, meta={META_KEY: listed}))
        for marked in marks.values():
            chain.remember_index(marked)
    return out


def reconsider_block(chain: ChainState, block_hash: bytes) -> list[BlockIndex]:
    """Clear the marks of `block_hash`, of its set-aside descendants and of set-aside blocks below it (what
    bitcoind's reconsiderblock clears); returns the blocks cleared, parents first. The head does not move
    here: the node asks fork choice afterwards (node/rewind.py)."""
    idx = chain.get_index(block_hash)
    if idx is None:
        raise NotFound("block-not-found", f"no block {block_hash.hex()} is stored here")
    listed = get_invalidated(chain)
    lineage = [h for h in listed if h == block_hash or _is_ancestor(chain, block_hash, chain.get_index(h))
               or _is_ancestor(chain, h, idx)]
    if not lineage:
        raise UsageError("not-invalidated", f"block {idx.height} ({block_hash.hex()[:16]}…) was not set "
                                            "aside with invalidate_block, nor anything above or below it")
    cleared = {}
    for h in lineage:
        d = chain.get_index(h)
        if d is not None and d.status == STATUS_INVALIDATED:
            cleared[h] = BlockIndex(d.header, d.chain_work, STATUS_VALID, d.n_tx)
    rest = b"".join(h for h in listed if h not in lineage)
    chain.db.commit(ChainBatch(index=cleared, meta={META_KEY: rest or None}))
    for marked in cleared.values():
        chain.remember_index(marked)
    return sorted(cleared.values(), key=lambda i: i.height)


def _is_ancestor(chain: ChainState, ancestor_hash: bytes, idx: BlockIndex | None) -> bool:
    anc = chain.get_index(ancestor_hash)
    if anc is None or idx is None or idx.height < anc.height:
        return False
    cur = idx
    while cur is not None and cur.height > anc.height:
        cur = chain.get_index(cur.parent)
    return cur is not None and cur.hash == anc.hash
