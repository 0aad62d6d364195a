"""The storage contract the core codes against: `ChainDB`, its atomic `ChainBatch`, and `BlockIndex`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from chain import crypto
from chain.block import Header
from chain.codec import Reader, Writer

STATUS_VALID = 0  # stored; valid as far as checked (fully, if on the main chain)
STATUS_INVALID = 1  # failed a consensus rule when connected; never reconsidered
# Set aside by the operator (`invalidate_block`, bitcoind's invalidateblock): valid by the rules, but this
# node will not follow it or build on it until `reconsider_block` (chain/invalidate.py).
STATUS_INVALIDATED = 2


@dataclass(frozen=True, slots=True)
class BlockIndex:
    """What the node remembers about every block it stored: header, height, cumulative work, status."""

    header: Header
    chain_work: int
    status: int = STATUS_VALID
    n_tx: int = 0

    @property
    def hash(self) -> bytes:
        return self.header.hash

    @property
    def height(self) -> int:
        return self.header.height

    @property
    def parent(self) -> bytes:
        return self.header.parent

    def encode(self) -> bytes:
        hdr = self.header.encode()
        w = Writer().var(hdr, 4096).fixed(self.chain_work.to_bytes(40, "big"), 40)
        return w.u8(self.status).u32(self.n_tx).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> BlockIndex:
        r = Reader(data)
        header = Header.decode(r.var(4096))
        work = int.from_bytes(r.fixed(40), "big")
        out = cls(header, work, r.u8(), r.u32())
        r.finish()
        return out


@dataclass(frozen=True, slots=True)
class TxLocation:
    block: bytes
    index: int

    def encode(self) -> bytes:
        return Writer().fixed(self.block, crypto.HASH_SIZE).u32(self.index).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> TxLocation:
        r = Reader(data)
        out = cls(r.fixed(crypto.HASH_SIZE), r.u32())
        r.finish()
        return out


@dataclass
class ChainBatch:
    """Every change one block connect, disconnect or reorg makes; the store writes it atomically with sync.

    A value of None deletes the entry.
    """

    blocks: dict[bytes, bytes] = field(default_factory=dict)
    index: dict[bytes, BlockIndex] = field(default_factory=dict)
    heights: dict[int, bytes | None] = field(default_factory=dict)
    tx_locations: dict[bytes, TxLocation | None] = field(default_factory=dict)
    # record key -> record object (with .encode()) or None
    state: dict[bytes, Any] = field(default_factory=dict)
    undo: dict[bytes, bytes | None] = field(default_factory=dict)
    pool: dict[bytes, bytes | None] = field(default_factory=dict)
    # (address, height, position) -> txid: each account's transactions, for its history
    address_index: dict[tuple[bytes, int, int], bytes | None] = field(default_factory=dict)
    meta: dict[str, bytes | None] = field(default_factory=dict)
    supply: dict[bytes, bytes | None] = field(default_factory=dict)  # block hash -> SupplyRecord bytes
    energy: dict[bytes, bytes | None] = field(default_factory=dict)  # block hash -> this node's measurement
    sync: bool = True


class ChainDB(Protocol):
    """Implemented by storage.ChainStore; the core never imports storage."""

    def get_block(self, block_hash: bytes) -> bytes | None: ...
    def get_index(self, block_hash: bytes) -> BlockIndex | None: ...
    def get_hash_at(self, height: int) -> bytes | None: ...
    def get_tx_location(self, txid: bytes) -> TxLocation | None: ...
    def get_state(self, key: bytes) -> bytes | None: ...
    def get_undo(self, block_hash: bytes) -> bytes | None: ...
    def get_meta(self, name: str) -> bytes | None: ...
    def get_supply(self, block_hash: bytes) -> bytes | None: ...
    def get_energy(self, block_hash: bytes) -> bytes | None: ...
    def iter_state(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]: ...
    def iter_index(self) -> Iterator[BlockIndex]: ...
    def iter_tx_locations(self) -> Iterator[tuple[bytes, TxLocation]]: ...
    def iter_pool(self) -> Iterator[tuple[bytes, bytes]]: ...
    def iter_address(self, address: bytes) -> Iterator[tuple[int, int, bytes]]: ...
    def commit(self, batch: ChainBatch) -> None: ...
