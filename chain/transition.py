"""Applying a transaction to a state view: the nonce rules every kind shares, then the kind's own change."""

from __future__ import annotations

from chain.consensus.schedule import uses_validators
from chain.errors import InvalidTx
from chain.kinds import KINDS
from chain.params import Params
from chain.state import StateView
from chain.tx import Tx


def apply_tx(view: StateView, tx: Tx, params: Params | None = None) -> int:
    """Apply a statelessly valid tx; returns its fee. Raises InvalidTx before changing anything."""
    sender = tx.sender_address
    acct = view.account(sender)
    if tx.nonce < acct.nonce:
        raise InvalidTx("nonce-too-low", f"nonce {tx.nonce} was already used; the account's next nonce is {acct.nonce}")
    if tx.nonce > acct.nonce:
        raise InvalidTx("nonce-too-high", f"nonce {tx.nonce} skips ahead; the account's next nonce is {acct.nonce}")
    kind = KINDS.get(tx.kind)
    if kind is None or kind.needs_validators and (params is None or not uses_validators(params)):
        raise InvalidTx("unknown-kind", f"kind {tx.kind}")
    kind.apply(view, tx, acct, params)
    return tx.fee
