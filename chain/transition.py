"""State transitions on a view: a transaction (the nonce rules every kind shares, then the kind's own change)
and a whole block."""

from __future__ import annotations

from chain import crypto
from chain.block import Block
from chain.consensus.process import pay_out, process_consensus_header, process_operations
from chain.consensus.schedule import uses_validators
from chain.errors import InvalidBlock, InvalidTx
from chain.kinds import KINDS
from chain.params import Params
from chain.state import StateView, Undo
from chain.tx import Tx


def apply_tx(view: StateView, tx: Tx, params: Params | None = None) -> int:
    """Apply a statelessly valid tx; returns its fee. Raises InvalidTx before changing anything."""
    sender = tx.sender_address
    acct = view.account(sender)
    if tx.nonce < acct.nonce:
        raise InvalidTx("nonce-too-low",
                        f"nonce {tx.nonce} was already used; the account's next nonce is {acct.nonce}")
    if tx.nonce > acct.nonce:
        raise InvalidTx("nonce-too-high",
                        f"nonce {tx.nonce} skips ahead; the account's next nonce is {acct.nonce}")
    kind = KINDS.get(tx.kind)
    if kind is None or kind.needs_validators and (params is None or not uses_validators(params)):
        raise InvalidTx("unknown-kind", f"kind {tx.kind}")
    kind.apply(view, tx, acct, params)
    return tx.fee


def apply_block(view: StateView, block: Block, params: Params,
                verify_batch: crypto.BatchVerifier = crypto.verify_many) -> Undo:
    """The state transition of a block: slots and epochs, the PoS header, evidence and votes, transactions,
    payouts; then the state root must match. Returns the undo record; raises InvalidBlock."""
    try:
        proposer = process_consensus_header(view, params, block.header)
        outcome = process_operations(view, params, block.ops, strict=True, proposer=proposer,
                                     verify_batch=verify_batch)
    except InvalidTx as e:
        raise InvalidBlock(e.code, e.message) from None
    fees = 0
    for tx in block.txs:
        try:
            fees += apply_tx(view, tx, params)
        except InvalidTx as e:
            raise InvalidBlock(e.code, f"tx {tx.txid.hex()}: {e.message}") from None
    try:
        pay_out(view, params, block, fees, outcome.producer_reward, proposer)
    except InvalidTx as e:
        raise InvalidBlock(e.code, e.message) from None
    undo = view.finish()
    if view.muhash.digest() != block.header.state_root:
        raise InvalidBlock("bad-state-root",
                           "the header's state root does not match the state after the block")
    return undo
