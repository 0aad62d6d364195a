"""Applying transactions to a state view: transfers today; stake and unstake join with proof of stake."""

from __future__ import annotations

from collections.abc import Callable

from chain.codec import U64_MAX
from chain.errors import InvalidTx
from chain.params import Params
from chain.state import Account, StateView
from chain.tx import TRANSFER, Tx, get_transfer

# Handlers for the other kinds register here (chain.consensus.staking), so this module stays kind-agnostic.
KIND_HANDLERS: dict[int, Callable[[StateView, Tx, Account, Params], None]] = {}


def apply_tx(view: StateView, tx: Tx, params: Params | None = None) -> int:
    """Apply a statelessly valid tx; returns its fee. Raises InvalidTx before changing anything."""
    sender = tx.sender_address
    acct = view.account(sender)
    if tx.nonce < acct.nonce:
        raise InvalidTx("nonce-too-low", f"nonce {tx.nonce} was already used; the account's next nonce is {acct.nonce}")
    if tx.nonce > acct.nonce:
        raise InvalidTx("nonce-too-high", f"nonce {tx.nonce} skips ahead; the account's next nonce is {acct.nonce}")
    if tx.kind == TRANSFER:
        _apply_transfer(view, tx, acct)
    elif tx.kind in KIND_HANDLERS and params is not None and params.consensus != "pow":
        KIND_HANDLERS[tx.kind](view, tx, acct, params)
    else:
        raise InvalidTx("unknown-kind", f"kind {tx.kind}")
    return tx.fee


def _apply_transfer(view: StateView, tx: Tx, acct: Account) -> None:
    sender = tx.sender_address
    transfer = get_transfer(tx)
    cost = transfer.amount + tx.fee
    if cost > acct.balance:
        raise InvalidTx("insufficient-balance", f"needs {cost} base units, the account holds {acct.balance}")
    if transfer.to == sender:
        view.set_account(sender, Account(acct.balance - tx.fee, acct.nonce + 1))
        return
    recipient = view.account(transfer.to)
    if recipient.balance + transfer.amount > U64_MAX:
        raise InvalidTx("balance-overflow", "the recipient's balance would exceed 2^64 - 1")
    view.set_account(sender, Account(acct.balance - cost, acct.nonce + 1))
    view.set_account(transfer.to, Account(recipient.balance + transfer.amount, recipient.nonce))
