"""ChainStore: the plyvel LevelDB implementation of chain.abc.ChainDB."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import plyvel

from chain.abc import BlockIndex, ChainBatch, TxLocation
from chain.errors import StoreError
from storage import schema
from storage.files import make_private_dir
from storage.lock import DataDirLock

DB_DIR = "chain"


class ChainStore:
    """Owns one data dir: the lock file and the LevelDB under <datadir>/chain."""

    def __init__(self, datadir: Path, db: plyvel.DB, lock: DataDirLock) -> None:
        self.datadir = datadir
        self._db = db
        self._lock = lock

    @classmethod
    def open(cls, datadir: str | Path, create: bool = False) -> ChainStore:
        datadir = Path(datadir).expanduser()
        dbpath = datadir / DB_DIR
        if not create and not dbpath.exists():
            raise StoreError("no-chain", f"no chain in {datadir}; run `chaintop init` first")
        try:
            make_private_dir(datadir)
        except (FileExistsError, NotADirectoryError):
            raise StoreError("datadir-not-a-directory",
                             f"cannot use {datadir} as a data dir: it or a folder above it is a file; "
                             "pick another --datadir") from None
        except OSError as e:
            raise StoreError("datadir-unusable",
                             f"cannot create the data dir {datadir}: {e.strerror}") from None
        lock = DataDirLock(datadir)
        lock.acquire()
        try:
            db = plyvel.DB(str(dbpath), create_if_missing=create, paranoid_checks=True)
        except plyvel.Error as e:
            lock.release()
            raise StoreError("db-open-failed", f"cannot open the database in {dbpath}: {e}") from None
        except BaseException:
            lock.release()
            raise
        return cls(datadir, db, lock)

    def close(self) -> None:
        if not self._db.closed:
            self._db.close()
        self._lock.release()

    @property
    def closed(self) -> bool:
        return self._db.closed

    # -- reads -----------------------------------------------------------------------------
    def get_block(self, block_hash: bytes) -> bytes | None:
        return self._db.get(schema.block_key(block_hash))

    def get_index(self, block_hash: bytes) -> BlockIndex | None:
        raw = self._db.get(schema.index_key(block_hash))
        return BlockIndex.decode(raw) if raw is not None else None

    def get_hash_at(self, height: int) -> bytes | None:
        return self._db.get(schema.height_key(height))

    def get_tx_location(self, txid: bytes) -> TxLocation | None:
        raw = self._db.get(schema.txloc_key(txid))
        return TxLocation.decode(raw) if raw is not None else None

    def get_state(self, key: bytes) -> bytes | None:
        return self._db.get(schema.state_key(key))

    def get_undo(self, block_hash: bytes) -> bytes | None:
        return self._db.get(schema.undo_key(block_hash))

    def get_meta(self, name: str) -> bytes | None:
        return self._db.get(schema.meta_key(name))

    def get_supply(self, block_hash: bytes) -> bytes | None:
        return self._db.get(schema.supply_key(block_hash))

    def get_energy(self, block_hash: bytes) -> bytes | None:
        return self._db.get(schema.energy_key(block_hash))

    def _iter(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        with self._db.iterator(prefix=prefix) as it:
            for key, value in it:
                yield key[len(prefix) :], value

    def iter_state(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        for key, value in self._iter(schema.STATE + prefix):
            yield prefix + key, value

    def iter_index(self) -> Iterator[BlockIndex]:
        for _, value in self._iter(schema.INDEX):
            yield BlockIndex.decode(value)

    def iter_tx_locations(self) -> Iterator[tuple[bytes, TxLocation]]:
        for key, value in self._iter(schema.TXLOC):
            yield key, TxLocation.decode(value)

    def iter_pool(self) -> Iterator[tuple[bytes, bytes]]:
        yield from self._iter(schema.POOL)

    def iter_address(self, address: bytes) -> Iterator[tuple[int, int, bytes]]:
        """(height, position, txid) of the account's transactions, newest first."""
        prefix = schema.ADDRESS + address
        with self._db.iterator(prefix=prefix, reverse=True) as it:
            for key, txid in it:
                rest = key[len(prefix):]
                yield int.from_bytes(rest[:8], "big"), int.from_bytes(rest[8:12], "big"), txid

    def iter_blocks_raw(self) -> Iterator[tuple[bytes, bytes]]:
        yield from self._iter(schema.BLOCK)

    # -- the one write path ----------------------------------------------------------------
    def commit(self, batch: ChainBatch) -> None:
        """Write every change of `batch` in one LevelDB WriteBatch; with sync it is on disk on return."""
        with self._db.write_batch(sync=batch.sync, transaction=True) as wb:
            for h, raw in batch.blocks.items():
                wb.put(schema.block_key(h), raw)
            for h, entry in batch.index.items():
                wb.put(schema.index_key(h), entry.encode())
            for height, h in batch.heights.items():
                _put_or_delete(wb, schema.height_key(height), h)
            for txid, loc in batch.tx_locations.items():
                _put_or_delete(wb, schema.txloc_key(txid), loc.encode() if loc is not None else None)
            for key, record in batch.state.items():
                _put_or_delete(wb, schema.state_key(key), record.encode() if record is not None else None)
            for h, raw in batch.undo.items():
                _put_or_delete(wb, schema.undo_key(h), raw)
            for txid, raw in batch.pool.items():
                _put_or_delete(wb, schema.pool_key(txid), raw)
            for name, raw in batch.meta.items():
                _put_or_delete(wb, schema.meta_key(name), raw)
            for (address, height, position), txid in batch.address_index.items():
                _put_or_delete(wb, schema.address_key(address, height, position), txid)
            for h, raw in batch.supply.items():
                _put_or_delete(wb, schema.supply_key(h), raw)
            for h, raw in batch.energy.items():
                _put_or_delete(wb, schema.energy_key(h), raw)

    def sync(self) -> None:
        """Make every write so far durable, as a sync commit would have: LevelDB has handed each write to
        the OS already; fsync its logs (a log it switched away from may wait for compaction unsynced)."""
        for log in sorted((self.datadir / DB_DIR).glob("*.log")):
            try:
                fd = os.open(log, os.O_RDONLY)
            except FileNotFoundError:
                continue  # compacted into a table (synced) and deleted meanwhile
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def put_pool(self, txid: bytes, raw: bytes | None) -> None:
        """One pending transaction in or out: not consensus data, so no sync (the chain's batches sync)."""
        _put_or_delete(self._db, schema.pool_key(txid), raw)

    # -- raw access for benchmarks and db verify ------------------------------------------
    def raw_get(self, key: bytes) -> bytes | None:
        return self._db.get(key)


def _put_or_delete(wb, key: bytes, value: bytes | None) -> None:
    if value is None:
        wb.delete(key)
    else:
        wb.put(key, value)
