"""Transfers: the payload (recipient, amount), its stateless rule and its state change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chain import crypto
from chain.codec import U64_MAX, Reader, Writer
from chain.errors import DecodeError, InvalidTx
from chain.params import Params, format_coins
from chain.state import Account, StateView

if TYPE_CHECKING:  # chain.tx imports the kinds table, which imports this module
    from chain.tx import Tx

TRANSFER_PAYLOAD_SIZE = crypto.ADDRESS_SIZE + 8


@dataclass(frozen=True, slots=True)
class Transfer:
    """Payload of a transfer: recipient address and amount in base units."""

    to: bytes
    amount: int

    def encode(self) -> bytes:
        return Writer().fixed(self.to, crypto.ADDRESS_SIZE).u64(self.amount).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Transfer:
        r = Reader(data)
        out = cls(r.fixed(crypto.ADDRESS_SIZE), r.u64())
        r.finish()
        return out


def get_transfer(tx: Tx) -> Transfer:
    """The decoded transfer payload, decoded once per transaction object (kept in the Tx's own slot)."""
    cached = tx._transfer
    if cached is not None:
        return cached
    try:
        transfer = Transfer.decode(tx.payload)
    except DecodeError as e:
        raise InvalidTx("bad-payload", f"transfer payload: {e.message}") from None
    object.__setattr__(tx, "_transfer", transfer)
    return transfer


def check_transfer(tx: Tx) -> None:
    transfer = get_transfer(tx)
    if transfer.amount == 0:
        raise InvalidTx("zero-amount", "a transfer must move at least one base unit")
    if transfer.amount + tx.fee > U64_MAX:
        raise InvalidTx("amount-overflow", "amount plus fee exceeds 2^64 - 1")


def get_transfer_amount(tx: Tx) -> int:
    return get_transfer(tx).amount


def apply_transfer(view: StateView, tx: Tx, acct: Account, params: Params | None = None) -> None:
    sender = tx.sender_address
    transfer = get_transfer(tx)
    cost = transfer.amount + tx.fee
    if cost > acct.balance:
        raise InvalidTx("insufficient-balance", f"needs {format_coins(cost)} coins (amount and fee), the "
                                                f"account holds {format_coins(acct.balance)} coins")
    if transfer.to == sender:
        view.set_account(sender, Account(acct.balance - tx.fee, acct.nonce + 1))
        return
    recipient = view.account(transfer.to)
    if recipient.balance + transfer.amount > U64_MAX:
        raise InvalidTx("balance-overflow", "the recipient's balance would exceed 2^64 - 1")
    view.set_account(sender, Account(acct.balance - cost, acct.nonce + 1))
    view.set_account(transfer.to, Account(recipient.balance + transfer.amount, recipient.nonce))
