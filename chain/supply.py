"""The supply ledger: where every coin came from, per block, from the state transition's notes, and the
invariant that the balances equal genesis + minted - burned.

A SupplyRecord is cumulative at its block: the parts minted and burned since genesis (from the notes, see
chain/notes.py) and the balances held then (accounts, bonded stake, stake waiting for its withdrawal), the
balances rolled forward from the records each block touched. compute_block_supply checks the invariant for
one block; by induction from genesis it then holds at every height. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from chain.codec import decode_u64_fields, encode_u64_fields
from chain.consensus.beacon import FAR_FUTURE_EPOCH, Validator
from chain.errors import InvalidBlock
from chain.notes import Burned, FeesPaid, Minted, Note, Slashed, Withdrawn
from chain.state import TAG_ACCOUNT, TAG_VALIDATOR, Account, StateView, decode_record

if TYPE_CHECKING:
    from chain.abc import BlockIndex, ChainDB

MINTED_PARTS = ("subsidy", "attestation_rewards", "proposer_rewards", "whistleblower")
BURNED_PARTS = ("penalties", "leak", "slashing")
RECORD_VERSION = 1


@dataclass(frozen=True, slots=True)
class SupplyRecord:
    """The ledger at one block. Amounts in base units; minted and burned parts are totals since genesis (or
    since `since`, for a data dir older than the ledger: its balances then stand in for genesis)."""

    height: int
    since: int  # the height the ledger starts at: 0, or where an older data dir began recording
    genesis: int  # every balance at `since` (the genesis allocation when since is 0)
    subsidy: int = 0  # PoW block rewards
    attestation_rewards: int = 0  # epoch rewards for timely votes
    proposer_rewards: int = 0  # rewards for including votes in blocks
    whistleblower: int = 0  # rewards for including slashing evidence
    penalties: int = 0  # burned: missed source and target votes
    leak: int = 0  # burned: the inactivity leak
    slashing: int = 0  # burned: slashing penalties
    fees: int = 0  # moved from senders to fee recipients (not minted)
    withdrawn: int = 0  # moved from validators back to accounts at the end of the lock-up
    accounts: int = 0  # held in accounts at this block
    bonded: int = 0  # validator balances not exiting
    exiting: int = 0  # validator balances whose exit began: the pending withdrawals

    @property
    def minted(self) -> int:
        return sum(getattr(self, p) for p in MINTED_PARTS)

    @property
    def burned(self) -> int:
        return sum(getattr(self, p) for p in BURNED_PARTS)

    @property
    def expected_total(self) -> int:
        """genesis + minted - burned: what the balances must add up to."""
        return self.genesis + self.minted - self.burned

    @property
    def total(self) -> int:
        """Every balance: accounts plus validators."""
        return self.accounts + self.bonded + self.exiting

    def encode(self) -> bytes:
        return encode_u64_fields(RECORD_VERSION, (getattr(self, f.name) for f in fields(self)))

    @classmethod
    def decode(cls, data: bytes) -> SupplyRecord:
        return cls(*decode_u64_fields(data, RECORD_VERSION, len(fields(cls)), "supply"))

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Holdings:
    """Balances by where they sit."""

    accounts: int = 0
    bonded: int = 0
    exiting: int = 0

    def __add__(self, other: Holdings) -> Holdings:
        return Holdings(self.accounts + other.accounts, self.bonded + other.bonded,
                        self.exiting + other.exiting)

    def __sub__(self, other: Holdings) -> Holdings:
        return Holdings(self.accounts - other.accounts, self.bonded - other.bonded,
                        self.exiting - other.exiting)

    @property
    def total(self) -> int:
        return self.accounts + self.bonded + self.exiting


def get_holdings(key: bytes, record: Any) -> Holdings:
    """What one state record holds (nothing for the consensus record or an absent one)."""
    if record is None:
        return Holdings()
    tag = key[:1]
    if tag == TAG_ACCOUNT and isinstance(record, Account):
        return Holdings(accounts=record.balance)
    if tag == TAG_VALIDATOR and isinstance(record, Validator):
        if record.exit_epoch == FAR_FUTURE_EPOCH:
            return Holdings(bonded=record.balance)
        return Holdings(exiting=record.balance)
    return Holdings()


def compute_holdings(records: Iterable[tuple[bytes, Any]]) -> Holdings:
    """Sum over (key, record object) pairs: the whole state, e.g. genesis' records."""
    out = Holdings()
    for key, record in records:
        out = out + get_holdings(key, record)
    return out


def compute_genesis_supply(records: dict[bytes, Any]) -> SupplyRecord:
    held = compute_holdings(records.items())
    return SupplyRecord(0, 0, held.total, accounts=held.accounts, bonded=held.bonded, exiting=held.exiting)


def compute_baseline_supply(height: int, records: Iterable[tuple[bytes, Any]]) -> SupplyRecord:
    """For a chain that has no record at `height` (a data dir from before the ledger): start it there."""
    held = compute_holdings(records)
    return SupplyRecord(height, height, held.total, accounts=held.accounts, bonded=held.bonded,
                        exiting=held.exiting)


def compute_block_changes(view: StateView) -> Holdings:
    """How a block's view changed the balances: new minus prior of every record it touched."""
    delta = Holdings()
    for key, prior, new in view.touched():
        if key[:1] not in (TAG_ACCOUNT, TAG_VALIDATOR):
            continue
        before = get_holdings(key, decode_record(key, prior)) if prior is not None else Holdings()
        delta = delta + get_holdings(key, new) - before
    return delta


def compute_note_parts(notes: Iterable[Note]) -> dict[str, int]:
    """The ledger's parts one block's notes add."""
    parts: dict[str, int] = {}

    def add(part: str, amount: int) -> None:
        parts[part] = parts.get(part, 0) + amount

    for note in notes:
        if isinstance(note, Minted | Burned):
            add(note.part, note.amount)
        elif isinstance(note, Slashed):
            add("slashing", note.penalty)
        elif isinstance(note, FeesPaid):
            add("fees", note.amount)
        elif isinstance(note, Withdrawn):
            add("withdrawn", note.amount)
    return parts


def compute_block_supply(parent: SupplyRecord, height: int, view: StateView) -> SupplyRecord:
    """The record after a block whose transition ran on `view` (its notes and touched records), checking the
    invariant: the balances moved by exactly minted - burned. Raises InvalidBlock("supply-imbalance")."""
    parts = compute_note_parts(view.notes)
    unknown = set(parts) - set(MINTED_PARTS) - set(BURNED_PARTS) - {"fees", "withdrawn"}
    if unknown:
        raise InvalidBlock("supply-imbalance", f"the block reports unknown supply parts: {sorted(unknown)}")
    delta = compute_block_changes(view)
    minted = sum(parts.get(p, 0) for p in MINTED_PARTS)
    burned = sum(parts.get(p, 0) for p in BURNED_PARTS)
    if delta.total != minted - burned:
        raise InvalidBlock("supply-imbalance", (
            f"block {height} changes the balances by {delta.total} base units, but its transition reports "
            f"{minted} minted and {burned} burned ({minted - burned:+}): coins appeared or vanished "
            "unrecorded"))
    changes = {name: getattr(parent, name) + amount for name, amount in parts.items()}
    return replace(parent, height=height, accounts=parent.accounts + delta.accounts,
                   bonded=parent.bonded + delta.bonded, exiting=parent.exiting + delta.exiting, **changes)


def compute_imbalance(record: SupplyRecord, held: Holdings) -> str | None:
    """What is wrong when the balances `held` at the record's block do not match it (None: they do)."""
    problems = []
    if held.total != record.expected_total:
        problems.append(f"the balances add up to {held.total} base units, genesis + minted - burned is "
                        f"{record.expected_total} ({held.total - record.expected_total:+})")
    for name in ("accounts", "bonded", "exiting"):
        if getattr(held, name) != getattr(record, name):
            problems.append(f"{name} hold {getattr(held, name)}, the ledger says {getattr(record, name)}")
    return "; ".join(problems) or None


def compute_block_issuance(record: SupplyRecord, parent: SupplyRecord | None) -> dict[str, int]:
    """What one block added to each part (the difference from its parent's record)."""
    if parent is None:
        return {}
    names = MINTED_PARTS + BURNED_PARTS + ("fees", "withdrawn")
    out = {name: getattr(record, name) - getattr(parent, name) for name in names}
    out["minted"] = record.minted - parent.minted
    out["burned"] = record.burned - parent.burned
    out["net"] = out["minted"] - out["burned"]
    return out


def get_supply_at(db: ChainDB, idx: BlockIndex, view: StateView | None = None) -> SupplyRecord:
    """The ledger at a block. A data dir older than the ledger has no record before its first block since:
    the ledger then starts at `idx` from its balances (its state: `view` over the committed state)."""
    raw = db.get_supply(idx.hash)
    if raw is not None:
        return SupplyRecord.decode(raw)
    records = {k: decode_record(k, v) for k, v in db.iter_state()}
    if view is not None:
        records.update(view.changes)
    return compute_baseline_supply(idx.height, records.items())
