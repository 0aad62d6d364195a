"""invalidate_block / reconsider_block on the running node (bitcoind's invalidateblock / reconsiderblock):
the chain's marks and rewind (chain/invalidate.py), then the mempool, the events and fork choice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chain import invalidate
from chain.abc import STATUS_VALID
from chain.errors import ChaintopError
from node import accept, explorer

if TYPE_CHECKING:
    from node.node import Node


def invalidate_block(node: Node, ident: str | int, below_finality: bool = False) -> dict:
    """Set a block (height or hash) and its descendants aside; if it is on the main chain the head rewinds
    to its parent and the reverted blocks' transactions go back to the mempool."""
    node.health.check_writable()
    block = explorer.resolve_block(node, ident)
    done = invalidate.invalidate_block(node.chain, block.hash, below_finality)
    reverted, returned = [], []
    if done.result is not None:
        accept.accept_block(node, None, done.result)  # the pool takes the txs back; Reorg, TxAdded events
        for b in reversed(done.result.disconnected):
            reverted.append({"height": b.height, "hash": b.hash.hex(), "txs": [t.txid.hex() for t in b.txs]})
            returned += [t.txid.hex() for t in b.txs if t.txid in node.mempool]
    head = node.chain.head
    return {"invalidated": block.hash.hex(), "height": block.height,
            "marked": [i.hash.hex() for i in done.marked], "reverted": reverted,
            "returned_to_mempool": returned,
            "below_finality": done.finalized_epoch is not None, "finalized_epoch": done.finalized_epoch,
            "head": head.hash.hex(), "head_height": head.height}


def reconsider_block(node: Node, ident: str | int) -> dict:
    """Clear invalidate_block's marks on a block (and its lineage); the head moves to a cleared branch if
    fork choice prefers it (most work; with validators, the highest justified checkpoint first)."""
    node.health.check_writable()
    block = explorer.resolve_block(node, ident)
    cleared = invalidate.reconsider_block(node.chain, block.hash)
    chain, moved = node.chain, None
    tips = [i for i in cleared if not any(c.parent == i.hash for c in cleared)]
    for tip in sorted(tips, key=lambda i: i.chain_work, reverse=True):
        if tip.status != STATUS_VALID or chain.is_on_main_chain(tip):
            continue
        try:
            if chain.decide_better_tip_and_record(tip):
                moved = accept.reorg_to(node, tip)
                break
        except ChaintopError:
            continue  # the branch broke a rule when validated: it is marked invalid now
    head = chain.head
    return {"reconsidered": block.hash.hex(), "cleared": [i.hash.hex() for i in cleared],
            "head_moved": moved is not None and moved.status in ("connected", "reorg"),
            "head": head.hash.hex(), "head_height": head.height}
