"""Every LevelDB key format chaintop writes, in one place. One-byte prefixes keep tables apart."""

from __future__ import annotations

import struct

BLOCK = b"b"  # b + block hash            -> block bytes
INDEX = b"i"  # i + block hash            -> BlockIndex (header, cumulative work, status)
HEIGHT = b"n"  # n + height (u64 BE)      -> main-chain block hash at that height
TXLOC = b"t"  # t + txid                  -> TxLocation (block hash, position)
STATE = b"s"  # s + state record key       -> record bytes (accounts, validators, consensus state)
UNDO = b"u"  # u + block hash             -> Undo
POOL = b"p"  # p + txid                   -> pending transaction bytes
META = b"m"  # m + name                   -> head hash, root accumulator, params, schema version
ADDRESS = b"x"  # x + address + height (u64 BE) + position (u32 BE) -> txid: an account's history
SUPPLY = b"l"  # l + block hash           -> SupplyRecord (chain/supply.py): the supply ledger at that block
ENERGY = b"e"  # e + block hash           -> EnergyRecord (node/energy.py): CPU this node spent on it

SCHEMA_VERSION = 1

_HEIGHT = struct.Struct(">Q")


def block_key(h: bytes) -> bytes:
    return BLOCK + h


def index_key(h: bytes) -> bytes:
    return INDEX + h


def height_key(height: int) -> bytes:
    return HEIGHT + _HEIGHT.pack(height)


def height_from_key(key: bytes) -> int:
    return _HEIGHT.unpack(key[1:])[0]


def txloc_key(txid: bytes) -> bytes:
    return TXLOC + txid


def state_key(record_key: bytes) -> bytes:
    return STATE + record_key


def undo_key(h: bytes) -> bytes:
    return UNDO + h


def pool_key(txid: bytes) -> bytes:
    return POOL + txid


def address_key(address: bytes, height: int, position: int) -> bytes:
    return ADDRESS + address + _HEIGHT.pack(height) + position.to_bytes(4, "big")


def supply_key(h: bytes) -> bytes:
    return SUPPLY + h


def energy_key(h: bytes) -> bytes:
    return ENERGY + h


def meta_key(name: str) -> bytes:
    return META + name.encode()


TABLES = {BLOCK: "block", INDEX: "block index", HEIGHT: "height index", TXLOC: "tx index", STATE: "state",
          UNDO: "undo", POOL: "pending tx", META: "meta", ADDRESS: "address index", SUPPLY: "supply ledger",
          ENERGY: "energy ledger"}


def describe_key(key: bytes) -> str:
    """A key in words for error messages: its table and what it names (never a bytes repr)."""
    table, rest = key[:1], key[1:]
    name = TABLES.get(table, f"unknown table {table.hex()}")
    if table == HEIGHT and len(rest) == 8:
        return f"{name} {height_from_key(key)}"
    if table == META:
        return f"{name} {rest.decode('ascii', 'replace')}"
    return f"{name} {rest.hex()[:16]}…" if rest else name
