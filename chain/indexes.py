"""What moving the head writes besides state: main-chain heights, undo data, transaction locations, the
address index, and the mempool records a reorg returns or a block includes."""

from __future__ import annotations

from collections.abc import Iterable

from chain.abc import BlockIndex, ChainBatch, TxLocation
from chain.block import Block
from chain.mempool import encode_pool_record
from chain.state import Undo
from chain.transfer import get_transfer
from chain.tx import TRANSFER, Tx


def tx_addresses(tx: Tx) -> set[bytes]:
    """The accounts a transaction touches: its sender, and a transfer's recipient."""
    out = {tx.sender_address}
    if tx.kind == TRANSFER:
        out.add(get_transfer(tx).to)
    return out


def record_disconnected(batch: ChainBatch, idx: BlockIndex, block: Block) -> None:
    for i, tx in enumerate(block.txs):
        batch.tx_locations[tx.txid] = None
        for address in tx_addresses(tx):
            batch.address_index[(address, idx.height, i)] = None
    batch.heights[idx.height] = None
    batch.undo[idx.hash] = None


def record_connected(batch: ChainBatch, idx: BlockIndex, block: Block, undo: Undo) -> None:
    batch.heights[idx.height] = idx.hash
    batch.undo[idx.hash] = undo.encode()
    for i, tx in enumerate(block.txs):
        batch.tx_locations[tx.txid] = TxLocation(idx.hash, i)
        for address in tx_addresses(tx):
            batch.address_index[(address, idx.height, i)] = tx.txid


def record_pool_changes(batch: ChainBatch, connected: Iterable[Block], disconnected: Iterable[Block],
                        now: float) -> None:
    """Included transactions leave the stored pool; those only the old branch held return to it."""
    included = {tx.txid for b in connected for tx in b.txs}
    for txid in included:
        batch.pool[txid] = None
    for b in disconnected:
        for tx in b.txs:
            if tx.txid not in included:
                batch.pool[tx.txid] = encode_pool_record(tx, now)
