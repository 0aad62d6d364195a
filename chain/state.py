"""State records (accounts, validators, consensus state), a copy-on-write view with undo, and the MuHash
root."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from chain import crypto
from chain.codec import U64_MAX, Reader, Writer
from chain.errors import DecodeError, InvalidTx
from chain.muhash import MuHash3072
from chain.notes import Note

# Record keys: a one-byte tag, then the record's own key. The state root commits to key || value of each.
TAG_ACCOUNT = b"a"  # a + address (20)        -> Account
TAG_VALIDATOR = b"v"  # v + index (u32, BE)   -> Validator
TAG_CONSENSUS = b"c"  # c                     -> ConsensusState (slots, epochs, checkpoints, participation)
MAX_RECORD = 1 << 24


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

    def copy(self) -> Account:
        return self  # immutable


EMPTY = Account()


def account_key(address: bytes) -> bytes:
    return TAG_ACCOUNT + address


def validator_key(index: int) -> bytes:
    return TAG_VALIDATOR + index.to_bytes(4, "big")


def account_record(address: bytes, account: Account) -> bytes:
    """The bytes the state root commits to for one account: tag || address || value."""
    return account_key(address) + account.encode()


def decode_record(key: bytes, raw: bytes) -> Any:
    """Bytes stored under a record key -> the record object; unknown tags are corruption."""
    tag = key[:1]
    if tag == TAG_ACCOUNT and len(key) == 1 + crypto.ADDRESS_SIZE:
        return Account.decode(raw)
    if tag == TAG_VALIDATOR and len(key) == 5:
        from chain.consensus.beacon import Validator

        return Validator.decode(raw)
    if key == TAG_CONSENSUS:
        from chain.consensus.beacon import ConsensusState

        return ConsensusState.decode(raw)
    raise DecodeError("unknown-record", f"state key {key.hex()} has no known record type")


@dataclass(frozen=True, slots=True)
class Undo:
    """What connecting a block changed: each touched record's prior bytes (None: absent) and the prior
    accumulator."""

    priors: tuple[tuple[bytes, bytes | None], ...]
    muhash: bytes

    def encode(self) -> bytes:
        w = Writer().u32(len(self.priors))
        for key, prior in self.priors:
            w.var(key, 64)
            if prior is None:
                w.u8(0)
            else:
                w.u8(1).var(prior, MAX_RECORD)
        return w.var(self.muhash, 1024).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Undo:
        r = Reader(data)
        n = r.u32()
        if n > r.remaining():
            raise DecodeError("length-out-of-bounds", f"{n} undo entries cannot fit")
        priors = []
        for _ in range(n):
            key = r.var(64)
            flag = r.u8()
            if flag > 1:
                raise DecodeError("bad-flag", f"undo presence flag {flag}")
            priors.append((key, r.var(MAX_RECORD) if flag else None))
        muhash = r.var(1024)
        r.finish()
        return cls(tuple(priors), muhash)


Loader = Callable[[bytes], Any]


class StateView:
    """A copy-on-write overlay of records over a parent (committed state or another view).

    Reads fall through to the parent; `get_mut` copies a record into this view before it may be changed.
    The first write of each key remembers the prior bytes, so `finish()` can fold the changes into the
    root accumulator and return the block's undo record.
    """

    __slots__ = ("_load", "changes", "muhash", "_priors", "_prior_muhash", "notes")

    def __init__(self, load: Loader, muhash: MuHash3072) -> None:
        self._load = load
        self.changes: dict[bytes, Any] = {}
        self.muhash = muhash
        self._priors: dict[bytes, bytes | None] = {}
        self._prior_muhash = muhash.to_bytes()
        self.notes: list[Note] = []  # what a transition did worth telling (chain/notes.py): not state

    def get(self, key: bytes) -> Any:
        if key in self.changes:
            return self.changes[key]
        return self._load(key)

    def _remember(self, key: bytes) -> Any:
        current = self.get(key)
        if key not in self._priors:
            self._priors[key] = current.encode() if current is not None else None
        return current

    def get_mut(self, key: bytes) -> Any:
        """The record, copied into this view so it may be changed in place (None if absent)."""
        current = self._remember(key)
        if key in self.changes:
            return current
        copy = current.copy() if current is not None else None
        self.changes[key] = copy
        return copy

    def put(self, key: bytes, value: Any) -> None:
        self._remember(key)
        self.changes[key] = value

    def touched(self) -> Iterator[tuple[bytes, bytes | None, Any]]:
        """(key, prior bytes or None, current record or None) of every record this view wrote."""
        for key, prior in self._priors.items():
            yield key, prior, self.changes.get(key)

    # -- accounts --------------------------------------------------------------------------
    def account(self, address: bytes) -> Account:
        return self.get(account_key(address)) or EMPTY

    def set_account(self, address: bytes, account: Account) -> None:
        self.put(account_key(address), account)

    def credit(self, address: bytes, amount: int) -> None:
        acct = self.account(address)
        if acct.balance + amount > U64_MAX:
            raise InvalidTx("balance-overflow", "the balance would exceed 2^64 - 1")
        self.set_account(address, Account(acct.balance + amount, acct.nonce))

    # -- nesting ---------------------------------------------------------------------------
    def fork(self) -> StateView:
        """A child overlay: a failed block is dropped without touching this one."""
        return StateView(self.get, self.muhash.copy())

    def merge(self, child: StateView) -> None:
        """Take a finished child's changes and accumulator (the child folded its own changes into the
        root)."""
        self.changes.update(child.changes)
        self.muhash = child.muhash
        self.notes.extend(child.notes)

    def absorb(self, child: StateView) -> None:
        """Take an unfinished child's changes as this view's own (this view's finish() will fold them)."""
        for key, value in child.changes.items():
            self._remember(key)
            self.changes[key] = value
        self.notes.extend(child.notes)

    def finish(self) -> Undo:
        """Fold every changed record into the accumulator; return the undo record of this view's changes."""
        removed, inserted = [], []
        for key, prior in self._priors.items():
            new = self.changes.get(key)
            new_raw = new.encode() if new is not None else None
            if prior == new_raw:
                continue
            if prior is not None:
                removed.append(key + prior)
            if new_raw is not None:
                inserted.append(key + new_raw)
        self.muhash.remove_many(removed)
        self.muhash.insert_many(inserted)
        return Undo(tuple(self._priors.items()), self._prior_muhash)


def undo_block(view: StateView, undo: Undo) -> None:
    """Restore the records a block touched and the accumulator from before it."""
    for key, prior in undo.priors:
        view.changes[key] = decode_record(key, prior) if prior is not None else None
    view.muhash = MuHash3072.from_bytes(undo.muhash)


def compute_state_muhash(records: Iterable[tuple[bytes, bytes]]) -> MuHash3072:
    """The accumulator over (key, encoded value) pairs."""
    acc = MuHash3072()
    acc.insert_many(key + raw for key, raw in records)
    return acc
