"""Block acceptance: store a block or a reorg, bring the mempool up to date, emit what changed as events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chain import crypto
from chain.abc import ChainBatch
from chain.block import Block
from chain.chainstate import AcceptResult
from chain.errors import ChaintopError
from chain.tx import Tx
from node import events as ev
from node import notes

if TYPE_CHECKING:
    from node.node import Node


def reorg_to(node: Node, tip) -> AcceptResult:
    """Fork choice moved the head to a stored block."""
    return node.accept_block(None, node.chain.reorg_to(tip))


def accept_block(node: Node, block: Block | None, result: AcceptResult | None = None,
                 sync: bool = True) -> AcceptResult:
    """Validate and store a block (possibly reorganising); then bring the mempool up to date. sync=False: the
    caller syncs the store (node.store.sync) before it reports the block."""
    result = result if result is not None else node.chain.accept_block(block, sync)
    if node.validator is not None and result.status != "duplicate":
        with node.energy_meter.duty():  # watching votes and evidence: a validator duty
            for b in result.connected or ([block] if block is not None else []):
                node.validator.on_block(b, result.status != "side")
    if result.status not in ("connected", "reorg"):
        return result
    mempool = node.mempool
    included = mempool.remove(tx.txid for b in result.connected for tx in b.txs)
    returned = []
    for b in reversed(result.disconnected):  # oldest first, so each sender's nonces arrive in order
        for tx in b.txs:
            try:
                mempool.add(tx, node.clock())
                returned.append(tx)
            except ChaintopError:
                pass  # spent differently on the new branch
    dropped = mempool.revalidate()
    expired = mempool.expire(node.clock())
    # The chain's own batch already wrote the returned transactions; drop what the pool refused.
    pool: dict[bytes, bytes | None] = {tx.txid: None for tx in [tx for tx, _ in dropped] + expired}
    for b in result.disconnected:
        for tx in b.txs:
            if tx.txid not in mempool and node.store.get_tx_location(tx.txid) is None:
                pool[tx.txid] = None
    if pool:
        node.store.commit(ChainBatch(pool=pool, sync=False))
    for tx, err in dropped:
        node.removed_txs.record(tx, f"invalid:{err.code}")
    for tx in expired:
        node.removed_txs.record(tx, "expired")
    _emit_events(node, result, included, returned, dropped, expired)
    if node.validator is not None:
        with node.energy_meter.duty():  # the committee's votes on the new block (hybrid)
            node.validator.on_block_connected(node.chain.head.height)
    return result


def _emit_events(node: Node, result: AcceptResult, included: list[Tx], returned: list[Tx],
                 dropped: list[tuple[Tx, ChaintopError]], expired: list[Tx]) -> None:
    events, hrp = node.events, node.params.hrp
    if result.status == "reorg":
        events.emit(ev.Reorg(result.old_head.hex(), result.new_head.hex(), result.depth,
                             [tx.txid.hex() for tx in returned]))
    for b in result.connected:
        h = b.header
        events.emit(ev.BlockConnected(h.height, h.hash.hex(), h.parent.hex(), h.timestamp,
                                      [tx.txid.hex() for tx in b.txs],
                                      crypto.encode_address(hrp, h.beneficiary), f"{h.bits:08x}",
                                      h.seal.proposer_index if h.is_pos else None))
    for tx in included:  # after BlockConnected, so a screen never shows a transaction vanish before its block
        events.emit(ev.TxRemoved(tx.txid.hex(), "included"))
    for tx in returned:
        events.emit(ev.TxAdded(tx.txid.hex(), crypto.encode_address(hrp, tx.sender_address), tx.nonce, tx.fee,
                               round(tx.fee_rate, 3), None))
    for tx, err in dropped:
        events.emit(ev.TxRemoved(tx.txid.hex(), f"invalid:{err.code}"))
    for tx in expired:
        events.emit(ev.TxRemoved(tx.txid.hex(), "expired"))
    notes.emit_notes(events, result.notes)
