"""Headers and blocks: wire encoding, block ids and the stateless block checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chain import crypto, merkle
from chain.codec import Reader, Writer
from chain.consensus.beacon import EMPTY_OPS, BlockOps
from chain.errors import DecodeError, InvalidBlock
from chain.tx import Tx

HEADER_VERSION = 1
ENGINE_POW = 0
ENGINE_POS = 1
ENGINE_NAMES = {ENGINE_POW: "pow", ENGINE_POS: "pos"}

# Absolute decode bound, above any network's max_block_bytes, so decode never allocates unboundedly.
MAX_BLOCK_DECODE_BYTES = 8_000_000
MAX_TXS_DECODE = 100_000


@dataclass(frozen=True, slots=True)
class PowSeal:
    """Proof-of-work fields: compact target and the nonce the miner searched."""

    bits: int
    nonce: int

    def write(self, w: Writer) -> None:
        w.u32(self.bits).u64(self.nonce)

    @classmethod
    def read(cls, r: Reader) -> PowSeal:
        return cls(r.u32(), r.u64())


@dataclass(frozen=True, slots=True)
class PosSeal:
    """Proof-of-stake fields: the slot, its proposer, the proposer's RANDAO reveal and signature (last)."""

    slot: int
    proposer_index: int
    randao_reveal: bytes
    signature: bytes

    def write(self, w: Writer) -> None:
        w.u64(self.slot).u32(self.proposer_index).fixed(self.randao_reveal, 64).fixed(self.signature, 64)

    @classmethod
    def read(cls, r: Reader) -> PosSeal:
        return cls(r.u64(), r.u32(), r.fixed(64), r.fixed(64))


@dataclass(frozen=True, slots=True)
class Header:
    """Field order is wire order; the PoW nonce is last so miners hash a fixed prefix (midstate)."""

    version: int
    height: int
    parent: bytes
    timestamp: int
    tx_root: bytes
    ops_root: bytes
    state_root: bytes
    beneficiary: bytes
    engine: int
    seal: PowSeal | PosSeal
    hash: bytes = field(init=False, repr=False, compare=False)
    _encoded: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.engine == ENGINE_POS) != isinstance(self.seal, PosSeal):
            raise ValueError("a PoS header carries a PosSeal, any other engine a PowSeal")
        w = (
            Writer()
            .u32(self.version)
            .u64(self.height)
            .fixed(self.parent, crypto.HASH_SIZE)
            .u64(self.timestamp)
            .fixed(self.tx_root, crypto.HASH_SIZE)
            .fixed(self.ops_root, crypto.HASH_SIZE)
            .fixed(self.state_root, crypto.HASH_SIZE)
            .fixed(self.beneficiary, crypto.ADDRESS_SIZE)
            .u8(self.engine)
        )
        self.seal.write(w)
        encoded = w.getvalue()
        object.__setattr__(self, "_encoded", encoded)
        object.__setattr__(self, "hash", _block_hash(encoded, self.engine))

    def encode(self) -> bytes:
        return self._encoded

    def pow_prefix(self) -> bytes:
        """Everything but the trailing 8-byte nonce: what a miner's midstate absorbs once."""
        return self._encoded[:-8]

    @property
    def bits(self) -> int:
        return self.seal.bits if isinstance(self.seal, PowSeal) else 0

    @property
    def nonce(self) -> int:
        return self.seal.nonce if isinstance(self.seal, PowSeal) else 0

    @property
    def is_pos(self) -> bool:
        return self.engine == ENGINE_POS

    def with_nonce(self, nonce: int) -> Header:
        """This header sealed with `nonce`: the encoding is the same prefix and the new 8 nonce bytes."""
        if not 0 <= nonce < 1 << 64:
            raise ValueError(f"nonce {nonce} is not a u64")
        header = object.__new__(Header)
        for name in _HEADER_FIELDS[:-1]:
            object.__setattr__(header, name, getattr(self, name))
        object.__setattr__(header, "seal", PowSeal(self.seal.bits, nonce))
        encoded = self.pow_prefix() + nonce.to_bytes(8, "big")
        object.__setattr__(header, "_encoded", encoded)
        object.__setattr__(header, "hash", _block_hash(encoded, self.engine))
        return header

    def replace(self, **changes) -> Header:
        values = {name: getattr(self, name) for name in _HEADER_FIELDS}
        values.update(changes)
        return Header(**values)

    @classmethod
    def read(cls, r: Reader) -> Header:
        start = r.pos
        version = r.u32()
        height = r.u64()
        parent = r.fixed(crypto.HASH_SIZE)
        timestamp = r.u64()
        tx_root = r.fixed(crypto.HASH_SIZE)
        ops_root = r.fixed(crypto.HASH_SIZE)
        state_root = r.fixed(crypto.HASH_SIZE)
        beneficiary = r.fixed(crypto.ADDRESS_SIZE)
        engine = r.u8()
        if engine == ENGINE_POW:
            seal = PowSeal.read(r)
        elif engine == ENGINE_POS:
            seal = PosSeal.read(r)
        else:
            raise DecodeError("unknown-engine", f"engine {engine}")
        encoded = r.slice_from(start)
        # Decoded fields are in range by construction; reuse the wire bytes instead of re-encoding.
        header = object.__new__(cls)
        values = (version, height, parent, timestamp, tx_root, ops_root, state_root, beneficiary, engine,
                  seal)
        for name, value in zip(_HEADER_FIELDS, values, strict=True):
            object.__setattr__(header, name, value)
        object.__setattr__(header, "_encoded", encoded)
        object.__setattr__(header, "hash", _block_hash(encoded, engine))
        return header

    @classmethod
    def decode(cls, data: bytes) -> Header:
        r = Reader(data)
        h = cls.read(r)
        r.finish()
        return h


_HEADER_FIELDS = ("version", "height", "parent", "timestamp", "tx_root", "ops_root", "state_root",
                  "beneficiary", "engine", "seal")


def _block_hash(encoded: bytes, engine: int) -> bytes:
    """PoW: double SHA-256 of the header. PoS: the same over everything but the trailing proposer signature,
    which signs that hash (so the id never depends on the signature's bytes)."""
    return crypto.sha256d(encoded[:-64] if engine == ENGINE_POS else encoded)


@dataclass(frozen=True, slots=True)
class Block:
    header: Header
    txs: tuple[Tx, ...]
    ops: BlockOps = EMPTY_OPS
    _size: int = field(default=0, repr=False, compare=False)

    @property
    def hash(self) -> bytes:
        return self.header.hash

    @property
    def height(self) -> int:
        return self.header.height

    def encode(self) -> bytes:
        w = Writer().raw(self.header.encode()).u32(len(self.txs))
        for tx in self.txs:
            w.raw(tx.encode())
        self.ops.write(w)
        return w.getvalue()

    @property
    def size(self) -> int:
        return self._size or len(self.encode())

    @classmethod
    def decode(cls, data: bytes) -> Block:
        if len(data) > MAX_BLOCK_DECODE_BYTES:
            raise DecodeError("oversized", f"{len(data)} bytes exceeds the decode bound")
        r = Reader(data)
        header = Header.read(r)
        count = r.u32()
        if count > MAX_TXS_DECODE or count > r.remaining():
            raise DecodeError("length-out-of-bounds", f"{count} transactions cannot fit")
        txs = tuple(Tx.read(r) for _ in range(count))
        ops = BlockOps.read(r)
        r.finish()
        return cls(header, txs, ops, len(data))


def compute_tx_root(txs: Sequence[Tx]) -> bytes:
    """RFC 6962 root over the txids (leaves are the 32-byte txids)."""
    return merkle.merkle_root([tx.txid for tx in txs])


def check_block_body(block: Block, max_bytes: int, max_txs: int) -> None:
    """Stateless body rules: size, count, tx root, no duplicate transactions."""
    if block.size > max_bytes:
        raise InvalidBlock("oversized-block", f"{block.size} bytes exceeds the limit of {max_bytes}")
    if len(block.txs) > max_txs:
        raise InvalidBlock("too-many-txs", f"{len(block.txs)} transactions exceeds {max_txs}")
    if compute_tx_root(block.txs) != block.header.tx_root:
        raise InvalidBlock("bad-tx-root", "the header's tx root does not match the transactions")
    if block.ops.root() != block.header.ops_root:
        raise InvalidBlock("bad-ops-root",
                           "the header's ops root does not match the attestations and evidence")
    if len({tx.txid for tx in block.txs}) != len(block.txs):
        raise InvalidBlock("duplicate-tx", "the block contains the same transaction twice")
