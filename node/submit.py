"""Submission: transactions into the mempool (persisted, with events), dev-key sends and the fee estimate."""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chain import crypto
from chain.abc import ChainBatch
from chain.consensus.staking import get_stake
from chain.errors import ChaintopError, InvalidTx, NotFound, StoreError, UsageError
from chain.mempool import AddResult, decode_pool_record, encode_pool_record
from chain.tx import STAKE, Tx, make_transfer
from node import events as ev
from node import keys, pos_api, sigcheck
from storage.files import write_private

if TYPE_CHECKING:
    from node.node import Node

REMOVED_MEMORY = 256  # transactions that left the pool without a block, remembered for `tx TXID`
REMOVED_FILE = "removed.json"  # where a closing node leaves them for the next process on the data dir
FEE_ESTIMATE_BLOCKS = 20  # blocks of history behind the fee estimate
FEE_ESTIMATE_MIN_TXS = 10  # fewer included transactions than this: fall back to the relay minimum
TRANSFER_SIZE = 149  # bytes: what the estimate prices a transfer at


@dataclass(frozen=True, slots=True)
class Removed:
    tx: Tx
    reason: str  # replaced, evicted, dropped, expired, invalid:<code>
    replaced_by: str | None = None  # the txid that took its place (same sender and nonce, higher fee)


class RemovedTxs:
    """The last transactions that left the mempool without a block, and why: a small FIFO, so `tx OLD` says
    "replaced by NEW" instead of tx-not-found. Saved beside the chain when the node closes (each embedded CLI
    command is its own process); a crash loses it, which costs nothing but that explanation."""

    def __init__(self, limit: int = REMOVED_MEMORY) -> None:
        self.limit = limit
        self._items: OrderedDict[bytes, Removed] = OrderedDict()

    @classmethod
    def load(cls, datadir: Path) -> RemovedTxs:
        out = cls()
        try:
            rows = json.loads((datadir / REMOVED_FILE).read_text())
            for row in rows[-out.limit:]:
                tx = Tx.decode(bytes.fromhex(row["tx"]))
                by = row.get("replaced_by")
                out.record(tx, str(row["reason"]), bytes.fromhex(by) if by else None)
        except (OSError, ValueError, TypeError, KeyError, RecursionError, ChaintopError):
            pass  # none yet, or unreadable: only explanations are lost
        return out

    def save(self, datadir: Path) -> None:
        rows = [{"tx": r.tx.encode().hex(), "reason": r.reason, "replaced_by": r.replaced_by}
                for r in self._items.values()]
        path = datadir / REMOVED_FILE
        try:
            if not rows:
                path.unlink(missing_ok=True)
                return
            write_private(path, json.dumps(rows))
        except OSError:
            pass

    def record(self, tx: Tx, reason: str, replaced_by: bytes | None = None) -> None:
        self._items[tx.txid] = Removed(tx, reason, replaced_by.hex() if replaced_by is not None else None)
        self._items.move_to_end(tx.txid)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def get(self, txid: bytes) -> Removed | None:
        return self._items.get(txid)


MAX_SUBMIT_BATCH = 10_000  # transactions in one submit_txs call


def decode_tx(tx: Tx | bytes | str) -> Tx:
    """A transaction object from itself, raw bytes or hex (bad-hex, or the decoder's typed error)."""
    if isinstance(tx, str):
        try:
            tx = bytes.fromhex(tx)
        except ValueError:
            raise UsageError("bad-hex", "the transaction is not hex") from None
    if isinstance(tx, bytes | bytearray):
        tx = Tx.decode(bytes(tx))
    return tx


def submit_txs(node: Node, txs: list) -> list[dict]:
    """Admit many transactions: decoded and their signatures verified on every core (node/sigcheck.py) before
    the node lock is taken once for all of them; each gets its own answer, in order: what submit_tx returns,
    or {"txid", "error": {"reason", "message"}} for one that was refused (the others still go in)."""
    if not isinstance(txs, list) or len(txs) > MAX_SUBMIT_BATCH:
        raise UsageError("bad-batch", f"submit_txs takes a list of at most {MAX_SUBMIT_BATCH} transactions")
    decoded: list[Tx | ChaintopError] = []
    for raw in txs:
        try:
            if not isinstance(raw, str | bytes | bytearray):
                raise UsageError("bad-hex", "the transaction is not hex")
            decoded.append(decode_tx(raw))
        except ChaintopError as e:
            decoded.append(e)
    good = [tx for tx in decoded if isinstance(tx, Tx)]
    verified = iter(sigcheck.verify_many_parallel([(tx.sender, tx.signature, tx.txid) for tx in good]))
    out = []
    with node.lock:
        for tx in decoded:
            if isinstance(tx, ChaintopError):
                out.append({"txid": None, "error": {"reason": tx.code, "message": tx.message}})
                continue
            ok = next(verified)
            try:
                out.append(submit_tx(node, tx, signature_ok=ok))
            except ChaintopError as e:
                out.append({"txid": tx.txid.hex(), "error": {"reason": e.code, "message": e.message}})
    return out


def submit_tx(node: Node, tx: Tx | bytes | str, replace: bool = True,
              signature_ok: bool | None = None) -> dict:
    """Admit a transaction (object, raw bytes or hex) to the mempool; tells what it replaced or evicted.

    replace=False is for a signer that picked the nonce itself (the CLI's send): a pending transaction of the
    same sender and nonce means another process won the race for it, not that this one should replace it.
    signature_ok: its signature was verified already (outside the node lock); None: verify it here.
    """
    tx = decode_tx(tx)
    node.health.check_writable()  # a full disk: refuse before pooling anything
    if not replace and tx.nonce in node.mempool.lanes.get(tx.sender_address, {}):
        raise InvalidTx("nonce-taken", f"a pending transaction of this sender already has nonce {tx.nonce}")
    result = node.mempool.add(tx, node.clock(), signature_ok)
    try:
        persist_added(node, result)
    except StoreError:  # not saved, so not pooled: what the node reports is what it keeps
        _undo_add(node, result)
        node.health.report_write_error()
        raise
    out = {"txid": tx.txid.hex(), "ready": result.ready}
    if result.replaced is not None:
        out["replaced"] = result.replaced.txid.hex()
    if result.evicted:
        out["evicted"] = [t.txid.hex() for t in result.evicted]
    return out


def _undo_add(node: Node, result: AddResult) -> None:
    node.mempool.remove([result.tx.txid])
    for gone in ([result.replaced] if result.replaced else []) + result.evicted:
        try:
            node.mempool.add(gone, node.clock())  # still on disk: back in memory too
        except ChaintopError:
            pass


def persist_added(node: Node, result: AddResult) -> None:
    """Store an admitted transaction (dropping what it pushed out), to survive a restart; tell listeners."""
    tx = result.tx
    entry = node.mempool.entries[tx.txid]
    if result.replaced is None and not result.evicted:
        node.store.put_pool(tx.txid, encode_pool_record(tx, entry.added))  # the common case: one put
    else:
        pool: dict[bytes, bytes | None] = {tx.txid: encode_pool_record(tx, entry.added)}
        for gone in ([result.replaced] if result.replaced else []) + result.evicted:
            pool[gone.txid] = None
        node.store.commit(ChainBatch(pool=pool, sync=False))
        if result.replaced is not None:
            node.removed_txs.record(result.replaced, "replaced", tx.txid)
        for gone in result.evicted:
            node.removed_txs.record(gone, "evicted")
    if not node.events.has_listeners:
        return
    sender = crypto.encode_address(node.params.hrp, tx.sender_address)
    replaced = result.replaced.txid.hex() if result.replaced else None
    node.events.emit(ev.TxAdded(tx.txid.hex(), sender, tx.nonce, tx.fee, round(tx.fee_rate, 3), replaced))
    if result.replaced:
        node.events.emit(ev.TxRemoved(result.replaced.txid.hex(), "replaced"))
    for gone in result.evicted:
        node.events.emit(ev.TxRemoved(gone.txid.hex(), "evicted"))


def drop_tx(node: Node, txid_text: str) -> dict:
    """Take a pending transaction out of the mempool (memory and disk), as anvil's dropTransaction does; the
    sender's later nonces stay, queued behind the gap until that nonce is sent again."""
    from node.explorer import parse_hash

    txid = parse_hash(txid_text, "txid")
    tx = node.mempool.get(txid)
    if tx is None:
        where = node.store.get_tx_location(txid)
        if where is not None:
            raise NotFound("tx-not-pending", f"transaction {txid_text} is already in a block; only pending "
                                             "transactions can be dropped")
        raise NotFound("tx-not-pending", f"no pending transaction {txid_text}; `chaintop mempool` lists them")
    node.mempool.remove([txid])
    node.store.commit(ChainBatch(pool={txid: None}, sync=True))
    node.removed_txs.record(tx, "dropped")
    node.events.emit(ev.TxRemoved(txid.hex(), "dropped"))
    lane = node.mempool.lanes.get(tx.sender_address, {})
    queued = [lane[n].hex() for n in sorted(lane) if n > tx.nonce]
    return {"txid": txid.hex(), "sender": crypto.encode_address(node.params.hrp, tx.sender_address),
            "nonce": tx.nonce, "queued": queued}


def send(node: Node, sender: str, to: str, amount: int, fee: int | None = None,
         nonce: int | None = None) -> dict:
    """Sign with a dev key (their seed is public, so the node holds them) and submit."""
    key = keys.resolve_key(node, sender)
    recipient = keys.resolve_address(node, to)
    if amount <= 0:
        raise UsageError("bad-amount", "the amount must be more than zero")
    params = node.params
    fee = params.min_fee if fee is None else fee
    nonce = node.mempool.get_next_nonce(key.address) if nonce is None else nonce
    tx = make_transfer(params.chain_id, nonce, fee, key.pubkey, recipient, amount).signed(key)
    return node.submit_tx(tx)


def fee_estimate(node: Node) -> dict:
    """Percentiles of fee rates included in recent blocks; the relay minimum when history is thin."""
    params = node.params
    rates: list[float] = []
    top = node.chain.head.height
    for height in range(top, max(0, top - FEE_ESTIMATE_BLOCKS), -1):
        rates.extend(tx.fee_rate for tx in node.chain.get_block_at(height).txs)
    floor = params.min_fee_rate
    if len(rates) < FEE_ESTIMATE_MIN_TXS:
        low = max(floor, params.min_fee / TRANSFER_SIZE)
        est = {"source": "fallback", "low": low, "medium": low * 1.5, "high": low * 3}
    else:
        rates.sort()

        def pct(q: float) -> float:
            return max(floor, rates[min(len(rates) - 1, int(q * len(rates)))])

        est = {"source": "blocks", "low": pct(0.10), "medium": pct(0.50), "high": pct(0.90)}
    est = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in est.items()}
    transfer_fee = {k: max(params.min_fee, int(est[k] * TRANSFER_SIZE + 0.999))
                    for k in ("low", "medium", "high")}
    est.update(samples=len(rates), blocks=min(FEE_ESTIMATE_BLOCKS, top), transfer_fee=transfer_fee)
    return est


def check_staking_tx(node: Node, tx: Tx) -> None:
    """A stake or unstake must pass its state rules at the head now (the pool checks balance and nonces)."""
    from chain.codec import U64_MAX
    from chain.kinds import KINDS
    from chain.state import Account

    view = node.chain.head_view_at_slot(pos_api.current_slot(node)).fork()
    KINDS[tx.kind].apply(view, tx, Account(U64_MAX, tx.nonce), node.params)
    if tx.kind == STAKE:
        check_validator_key_unclaimed(node, tx)


def check_validator_key_unclaimed(node: Node, tx: Tx) -> None:
    """A validator key belongs to the account whose stake creates it: a pending stake from another account
    that names the same key would fail in the block (validator-owned-by-another) and vanish, so refuse it
    here. The same account's second stake is a top-up, and a replacement (same sender and nonce) is fine."""
    key = get_stake(tx).validator_pubkey
    for entry in node.mempool.entries.values():
        other = entry.tx
        if (other.kind != STAKE or other.sender_address == tx.sender_address
                or other.payload[:32] != key):
            continue
        raise InvalidTx("duplicate-validator-key",
                        f"validator key {key.hex()[:16]}… is already claimed by pending stake "
                        f"{other.txid.hex()[:16]}… from another account; use another --validator-key")


def load_pool(node: Node) -> None:
    """Refill the mempool from the store at startup; records that no longer decode or admit are deleted."""
    stale, txs = [], []
    for txid, raw in node.store.iter_pool():
        try:
            txs.append(decode_pool_record(raw))
        except ChaintopError:
            stale.append(txid)
    # lanes fill in nonce order
    for tx, added in sorted(txs, key=lambda t: (t[0].sender_address, t[0].nonce)):
        try:
            node.mempool.add(tx, added)
        except ChaintopError:
            stale.append(tx.txid)
    if stale:
        try:
            node.store.commit(ChainBatch(pool=dict.fromkeys(stale), sync=False))
        except StoreError:
            pass  # a full disk: the stale records stay and are skipped again next time
