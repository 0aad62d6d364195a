"""Account state: records, a copy-on-write view, applying and undoing blocks, the MuHash state root."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from chain import crypto
from chain.codec import U64_MAX, Reader, Writer
from chain.errors import DecodeError, InvalidTx
from chain.muhash import MuHash3072
from chain.tx import TRANSFER, Tx, get_transfer

RECORD_ACCOUNT = 0x61  # 'a': the tag that starts an account's state record


@dataclass(frozen=True, slots=True)
class Account:
    balance: int = 0
    nonce: int = 0

    def encode(self) -> bytes:
        return Writer().u64(self.balance).u64(self.nonce).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Account:
        r = Reader(data)
        out = cls(r.u64(), r.u64())
        r.finish()
        return out


EMPTY = Account()


def account_record(address: bytes, account: Account) -> bytes:
    """The bytes the state root commits to for one account: tag || address || value."""
    return bytes((RECORD_ACCOUNT,)) + address + account.encode()


@dataclass(frozen=True, slots=True)
class Undo:
    """What connecting a block changed: each touched account's prior value and the prior root accumulator."""

    priors: tuple[tuple[bytes, Account | None], ...]
    muhash: bytes

    def encode(self) -> bytes:
        w = Writer().u32(len(self.priors))
        for address, prior in self.priors:
            w.fixed(address, crypto.ADDRESS_SIZE)
            if prior is None:
                w.u8(0)
            else:
                w.u8(1).raw(prior.encode())
        return w.var(self.muhash, 1024).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Undo:
        r = Reader(data)
        n = r.u32()
        if n > r.remaining():
            raise DecodeError("length-out-of-bounds", f"{n} undo entries cannot fit")
        priors = []
        for _ in range(n):
            address = r.fixed(crypto.ADDRESS_SIZE)
            flag = r.u8()
            if flag > 1:
                raise DecodeError("bad-flag", f"undo presence flag {flag}")
            priors.append((address, Account(r.u64(), r.u64()) if flag else None))
        muhash = r.var(1024)
        r.finish()
        return cls(tuple(priors), muhash)


class StateView:
    """A copy-on-write overlay over committed state; the live state changes only when a batch commits."""

    __slots__ = ("_load", "changes", "muhash")

    def __init__(self, load: Callable[[bytes], Account | None], muhash: MuHash3072) -> None:
        self._load = load
        self.changes: dict[bytes, Account | None] = {}
        self.muhash = muhash

    def get(self, address: bytes) -> Account | None:
        if address in self.changes:
            return self.changes[address]
        return self._load(address)

    def get_or_empty(self, address: bytes) -> Account:
        return self.get(address) or EMPTY

    def fork(self) -> StateView:
        """A child overlay: a failed block is dropped without touching this one."""
        child = StateView(self.get, self.muhash.copy())
        return child

    def merge(self, child: StateView) -> None:
        self.changes.update(child.changes)
        self.muhash = child.muhash


class BlockApplier:
    """Applies one block's transactions to a child view, tracking priors for undo and the root."""

    def __init__(self, view: StateView) -> None:
        self.view = view
        self._priors: dict[bytes, Account | None] = {}
        self._prior_muhash = view.muhash.to_bytes()

    def _touch(self, address: bytes) -> Account:
        current = self.view.get(address)
        if address not in self._priors:
            self._priors[address] = current
        return current or EMPTY

    def _set(self, address: bytes, account: Account) -> None:
        self.view.changes[address] = account

    def expected_nonce(self, address: bytes) -> int:
        return self.view.get_or_empty(address).nonce

    def apply_tx(self, tx: Tx) -> int:
        """Apply a statelessly valid tx; returns its fee. Raises InvalidTx and leaves the view untouched."""
        sender = tx.sender_address
        acct = self.view.get_or_empty(sender)
        if tx.nonce < acct.nonce:
            raise InvalidTx("nonce-too-low", f"nonce {tx.nonce} was already used; the account's next nonce is {acct.nonce}")
        if tx.nonce > acct.nonce:
            raise InvalidTx("nonce-too-high", f"nonce {tx.nonce} skips ahead; the account's next nonce is {acct.nonce}")
        if tx.kind != TRANSFER:
            raise InvalidTx("unknown-kind", f"kind {tx.kind}")
        transfer = get_transfer(tx)
        cost = transfer.amount + tx.fee
        if cost > acct.balance:
            raise InvalidTx("insufficient-balance", f"needs {cost} base units, the account holds {acct.balance}")
        if transfer.to == sender:
            self._touch(sender)
            self._set(sender, Account(acct.balance - tx.fee, acct.nonce + 1))
            return tx.fee
        recipient = self.view.get_or_empty(transfer.to)
        if recipient.balance + transfer.amount > U64_MAX:
            raise InvalidTx("balance-overflow", "the recipient's balance would exceed 2^64 - 1")
        self._touch(sender)
        self._touch(transfer.to)
        self._set(sender, Account(acct.balance - cost, acct.nonce + 1))
        self._set(transfer.to, Account(recipient.balance + transfer.amount, recipient.nonce))
        return tx.fee

    def credit(self, address: bytes, amount: int) -> None:
        acct = self._touch(address)
        if acct.balance + amount > U64_MAX:
            raise InvalidTx("balance-overflow", "the beneficiary's balance would exceed 2^64 - 1")
        self._set(address, Account(acct.balance + amount, acct.nonce))

    def finish(self) -> Undo:
        """Fold every touched account into the root accumulator; return the undo record."""
        removed, inserted = [], []
        for address, prior in self._priors.items():
            new = self.view.changes.get(address)
            if prior == new:
                continue
            if prior is not None:
                removed.append(account_record(address, prior))
            if new is not None:
                inserted.append(account_record(address, new))
        self.view.muhash.remove_many(removed)
        self.view.muhash.insert_many(inserted)
        return Undo(tuple(self._priors.items()), self._prior_muhash)


def undo_block(view: StateView, undo: Undo) -> None:
    """Restore the accounts a block touched and the accumulator from before it."""
    for address, prior in undo.priors:
        view.changes[address] = prior
    view.muhash = MuHash3072.from_bytes(undo.muhash)


def compute_state_muhash(accounts: Iterable[tuple[bytes, Account]]) -> MuHash3072:
    acc = MuHash3072()
    acc.insert_many(account_record(a, v) for a, v in accounts)
    return acc
