"""Explorer reads as JSON-ready views: status, blocks, transactions, accounts, mempool, inclusion proofs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chain import merkle
from chain.abc import STATUS_INVALID, STATUS_INVALIDATED
from chain.block import Block
from chain.consensus import pos, schedule
from chain.errors import NotFound, UsageError
from chain.tx import Tx
from node import keys, ledgers, pos_api, views

if TYPE_CHECKING:
    from node.node import Node


def status(node: Node) -> dict:
    return _head_status(node) | {"mempool_size": len(node.mempool), "datadir": str(node.store.datadir)} \
        | _clock_status(node) | _pos_status(node)


def _head_status(node: Node) -> dict:
    """The part of status that only the head decides, worked out once per head (the most-called read)."""
    chain, params = node.chain, node.params
    head = chain.head
    cached = getattr(node, "_status_of_head", None)  # (head, params, that part of status)
    if cached is not None and cached[0] is head and cached[1] is params:
        return cached[2]
    part = {
        "network": params.network,
        "consensus": params.consensus,
        "chain_id": params.chain_id,
        "height": head.height,
        "head": head.hash.hex(),
        "head_time": head.header.timestamp,
        "bits": f"{head.header.bits:08x}",
        "difficulty": views.difficulty(head.header.bits, params),
        "next_bits": f"{chain.get_next_bits(head):08x}",
        "chain_work": f"{head.chain_work:x}",
    }
    node._status_of_head = (head, params, part)
    return part


def _clock_status(node: Node) -> dict:
    """A pausing clock's offset: the chain's now is the wall clock minus it (node/clock.py)."""
    view = getattr(node.clock, "view", None)
    return view() if view is not None else {}


def _pos_status(node: Node) -> dict:
    if node.validator is None:
        return {}
    f = pos_api.finality(node)
    producer = "pos" if schedule.is_pos_height(node.params, node.chain.head.height + 1) else "pow"
    return {"epoch": f["current_epoch"], "slot": pos_api.current_slot(node),
            "justified_epoch": f["justified_epoch"], "finalized_epoch": f["finalized_epoch"],
            "producer": producer}


def resolve_block(node: Node, ident: str | int) -> Block:
    """A height (decimal) or a block hash (64 hex digits) -> the stored block."""
    chain = node.chain
    text = str(ident).strip()
    if text.isdigit() and len(text) < 20:
        h = chain.get_hash_at(int(text))
        if h is None:
            raise NotFound("block-not-found",
                           f"no block at height {text}; the head is at {chain.head.height}")
    elif text[:1] == "-" and text[1:].isdigit():
        raise UsageError("bad-height", f"a block height is 0 (genesis) or more; the head is at "
                                       f"{chain.head.height}")
    else:
        h = parse_hash(text, "block hash")
    block = chain.get_block(h)
    if block is None:
        raise NotFound("block-not-found", f"no block {text}")
    return block


def block(node: Node, ident: str | int, verbose: bool = False) -> dict:
    """A block's header fields, txids, votes and evidence; verbose adds every transaction's view."""
    chain = node.chain
    found = resolve_block(node, ident)
    idx = chain.get_index(found.hash)
    view = views.block_view(found, idx, node.params, chain.get_confirmations(found.hash))
    view["main_chain"] = chain.is_on_main_chain(idx)
    view["status"] = {STATUS_INVALID: "invalid", STATUS_INVALIDATED: "invalidated"}.get(idx.status, "valid")
    view["issuance"] = ledgers.block_supply(node, idx)  # what the block minted, burned and moved
    view["energy"] = ledgers.block_energy(node, idx)  # what this node spent on it (None: not measured here)
    if verbose:
        view["tx_views"] = with_validator_indices(node, [views.tx_view(tx, node.params) for tx in found.txs])
    return view


def blocks(node: Node, last: int = 10, start: int | None = None) -> list[dict]:
    """Header views of `last` main-chain blocks, newest first, from the head or from height `start`."""
    if last < 1:
        raise UsageError("bad-count", "--last must be at least 1")
    chain = node.chain
    out = []
    head = chain.head.height
    top = head if start is None else min(start, head)
    if top < 0:
        raise UsageError("bad-height", "start must be a height, 0 or more")
    for height in range(top, max(-1, top - last), -1):
        view = views.header_fields(chain.get_index(chain.get_hash_at(height)), node.params)
        view["confirmations"] = head - height + 1
        out.append(view)
    return out


def account_history(node: Node, address: str, limit: int = 100) -> list[dict]:
    """The account's confirmed transactions, newest first (from the address index)."""
    raw = keys.resolve_address(node, address)
    out = []
    for height, position, txid in node.store.iter_address(raw):
        if len(out) >= limit:
            break
        loc = node.store.get_tx_location(txid)
        if loc is None:
            continue
        found = node.chain.get_block(loc.block)
        view = views.tx_view(found.txs[loc.index], node.params)
        view.update(status="confirmed", block=loc.block.hex(), height=height, index=position,
                    confirmations=node.chain.get_confirmations(loc.block))
        out.append(view)
    return with_validator_indices(node, out)


def with_validator_indices(node: Node, tx_views: list[dict]) -> list[dict]:
    """A stake's view gains `validator_index`: the validator its key is at the head (None: not yet created,
    a new validator). One pass over the validators, and only when some view is a stake."""
    stakes = [v for v in tx_views if "validator_pubkey" in v]
    if not stakes or node.validator is None:
        return tx_views
    state = node.chain.new_view()
    cs = pos.get_consensus(state)
    index = {pos.get_validator(state, i).pubkey.hex(): i for i in range(cs.validator_count)}
    for v in stakes:
        v["validator_index"] = index.get(v["validator_pubkey"])
    return tx_views


def lane_status(node: Node, tx: Tx, next_nonce: dict[bytes, int] | None = None) -> dict:
    """A pending transaction is ready (its sender's nonces up to it are all pending or confirmed) or queued
    behind a nonce gap: `waiting_for_nonce` is the first missing one."""
    sender = tx.sender_address
    gap = next_nonce.get(sender) if next_nonce is not None else None
    if gap is None:
        gap = node.mempool.get_next_nonce(sender)
        if next_nonce is not None:
            next_nonce[sender] = gap
    ready = tx.nonce < gap
    return {"ready": ready, "waiting_for_nonce": None if ready else gap}


def find_tx(node: Node, txid_text: str) -> tuple[Tx, dict]:
    """A transaction from the mempool or the chain, and where it is (status, block, confirmations)."""
    chain = node.chain
    txid = parse_hash(txid_text, "txid")
    pending = node.mempool.get(txid)
    if pending is not None:
        return pending, {"status": "pending", "block": None, "height": None, "confirmations": 0,
                         **lane_status(node, pending)}
    loc = node.store.get_tx_location(txid)
    if loc is None:
        gone = node.removed_txs.get(txid)
        if gone is not None:  # it left the mempool without a block: say why (and what replaced it)
            return gone.tx, {"status": "removed", "block": None, "height": None, "confirmations": 0,
                             "removed_reason": gone.reason, "replaced_by": gone.replaced_by}
        raise NotFound("tx-not-found", f"no transaction {txid_text} in the chain or the mempool")
    found = chain.get_block(loc.block)
    where = {
        "status": "confirmed",
        "block": loc.block.hex(),
        "height": found.height,
        "index": loc.index,
        "confirmations": chain.get_confirmations(loc.block),
    }
    if node.validator is not None:
        finalized = chain.checkpoint_block(chain.consensus_state().finalized.root)
        where["finalized"] = where["confirmations"] > 0 and found.height <= finalized.height
    return found.txs[loc.index], where


def tx(node: Node, txid: str) -> dict:
    found, where = find_tx(node, txid)
    view = views.tx_view(found, node.params)
    view.update(where)
    return with_validator_indices(node, [view])[0]


def account(node: Node, address: str) -> dict:
    raw = keys.resolve_address(node, address)
    label = keys.dev_label(node, raw)
    view = views.account_view(raw, node.chain.get_account(raw), node.params, label, label is not None)
    view["next_nonce"] = node.mempool.get_next_nonce(raw)
    view["pending"] = len(node.mempool.lanes.get(raw, {}))
    return view


def mempool_view(node: Node) -> list[dict]:
    """Pending transactions, highest fee rate first; each ready or queued behind its sender's nonce gap."""
    next_nonce: dict[bytes, int] = {}
    return with_validator_indices(node, [
        dict(views.tx_view(e.tx, node.params), added=e.added, **lane_status(node, e.tx, next_nonce))
        for e in node.mempool.sorted_entries()])


def proof(node: Node, txid: str) -> dict:
    found, where = find_tx(node, txid)
    if where["status"] != "confirmed":
        raise NotFound("tx-not-confirmed",
                       "the transaction is still pending; a proof exists once it is in a block")
    holder = node.chain.get_block(bytes.fromhex(where["block"]))
    leaves = [t.txid for t in holder.txs]
    path = merkle.inclusion_proof(leaves, where["index"])
    root = holder.header.tx_root
    return {
        "txid": found.txid.hex(),
        "block": holder.hash.hex(),
        "height": holder.height,
        "index": where["index"],
        "tree_size": len(leaves),
        "proof": [p.hex() for p in path],
        "tx_root": root.hex(),
        "verified": merkle.verify_inclusion(found.txid, where["index"], len(leaves), path, root),
    }


def parse_hash(text: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise UsageError("bad-hash", f"{what} {text!r} is not hex") from None
    if len(raw) != 32:
        raise UsageError("bad-hash", f"{what} must be 32 bytes (64 hex characters), got {len(raw)}")
    return raw
