"""ChainStore: the plyvel LevelDB implementation of chain.abc.ChainDB."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import plyvel

from chain.abc import BlockIndex, ChainBatch, TxLocation
from chain.errors import DatabaseCorrupt, DecodeError, StoreError
from storage import guard, marker, schema
from storage.files import make_private_dir
from storage.lock import DataDirLock

DB_DIR = "chain"


class ChainStore:
    """Owns one data dir: the lock file and the LevelDB under <datadir>/chain."""

    def __init__(self, datadir: Path, db: plyvel.DB, lock: DataDirLock) -> None:
        self.datadir = datadir
        self._db = db
        self._lock = lock
        # The first failed write (a full disk): later writes fail at once, never reaching LevelDB, whose log
        # may end in a torn record that more appends would turn into corruption; reopen() clears it.
        self.write_error: StoreError | None = None

    @property
    def dbpath(self) -> Path:
        return self.datadir / DB_DIR

    @classmethod
    def open(cls, datadir: str | Path, create: bool = False, accept_moved_head: bool = False) -> ChainStore:
        """Lock and open the data dir's LevelDB. Unless accept_moved_head (db repair), a store whose head
        block is gone since the last clean shutdown is refused (head-moved-back): it lost its last writes."""
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
            if create:
                marker.forget(dbpath)  # a new chain: an earlier one's shutdown record says nothing of it
            db = _open_db(dbpath, create)
            store = cls(datadir, db, lock)
            if not accept_moved_head:
                marker.check(store)
        except BaseException:
            if "db" in locals() and not db.closed:
                db.close()
            lock.release()
            raise
        return store

    @classmethod
    def open_salvaged(cls, datadir: str | Path) -> ChainStore:
        """db repair's way in: under the lock, LevelDB's own repair (RepairDB) first keeps every record it can
        read back intact and drops the damaged ones; then the store opens whatever its head."""
        datadir = Path(datadir).expanduser()
        dbpath = datadir / DB_DIR
        if not dbpath.exists():
            raise StoreError("no-chain", f"no chain in {datadir}; nothing to repair")
        lock = DataDirLock(datadir)
        lock.acquire()
        try:
            plyvel.repair_db(str(dbpath), paranoid_checks=False)
            store = cls(datadir, _open_db(dbpath, False), lock)
        except plyvel.Error as e:
            lock.release()
            raise guard.translate(e, dbpath, "salvaging it") from None
        except BaseException:
            lock.release()
            raise
        return store

    def replace_with(self, other: Path, keep_as: Path) -> None:
        """db repair's way out: close this store and, still holding the lock, move its LevelDB to `keep_as`
        and the rebuilt one at `other` into its place; then release the lock."""
        if not self._db.closed:
            self._db.close()
        try:
            self.dbpath.rename(keep_as)
            Path(other).rename(self.dbpath)
        finally:
            self._lock.release()

    def close(self) -> None:
        """Close, recording the head of this clean shutdown (the next open checks it is still there)."""
        if not self._db.closed:
            if self.write_error is None:
                marker.record(self)
            self._db.close()
        self._lock.release()

    def reopen(self) -> None:
        """Close and open the LevelDB again (the lock stays ours): after a full disk, LevelDB replays its log
        and drops a torn last record, and writes may go on. Raises (and stays failed) if there is no room."""
        if not self._db.closed:
            self._db.close()
        self._db = _open_db(self.dbpath, False)
        self.write_error = None

    def get_write_error(self) -> StoreError | None:
        """The error every write meets now; a full disk's says how much is free at this moment."""
        if self.write_error is not None and self.write_error.code == "disk-full":
            return guard.disk_full(self.dbpath)
        return self.write_error

    def get_free_bytes(self) -> int:
        return guard.get_free_bytes(self.dbpath)

    def get_needed_bytes(self) -> int:
        return guard.get_needed_bytes(self.dbpath)

    @property
    def closed(self) -> bool:
        return self._db.closed

    # -- reads -----------------------------------------------------------------------------
    # Every read verifies LevelDB's block checksums: a flipped byte is db-corrupt, never garbage decoded.
    def _get(self, key: bytes) -> bytes | None:
        try:
            return self._db.get(key, verify_checksums=True)
        except plyvel.Error as e:
            raise guard.translate(e, self.dbpath, f"reading {schema.describe_key(key)}") from None
        except RuntimeError:  # plyvel's "Database is closed": a reopen after a full disk failed
            raise self.write_error or StoreError("db-closed", "the database is closed") from None

    def _decode(self, key: bytes, raw: bytes | None, cls):
        if raw is None:
            return None
        try:
            return cls.decode(raw)
        except DecodeError as e:
            raise DatabaseCorrupt("db-corrupt", f"the database in {self.dbpath} is damaged: "
                                                f"{schema.describe_key(key)} does not decode ({e.code})"
                                  ) from None

    def get_block(self, block_hash: bytes) -> bytes | None:
        return self._get(schema.block_key(block_hash))

    def get_index(self, block_hash: bytes) -> BlockIndex | None:
        key = schema.index_key(block_hash)
        return self._decode(key, self._get(key), BlockIndex)

    def get_hash_at(self, height: int) -> bytes | None:
        return self._get(schema.height_key(height))

    def get_tx_location(self, txid: bytes) -> TxLocation | None:
        key = schema.txloc_key(txid)
        return self._decode(key, self._get(key), TxLocation)

    def get_state(self, key: bytes) -> bytes | None:
        return self._get(schema.state_key(key))

    def get_undo(self, block_hash: bytes) -> bytes | None:
        return self._get(schema.undo_key(block_hash))

    def get_meta(self, name: str) -> bytes | None:
        return self._get(schema.meta_key(name))

    def iter_records(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        """Every (full key, value) under `prefix` in key order, checksums verified. A damaged stretch raises
        db-corrupt naming the last key read intact before it (LevelDB cannot say which key it held)."""
        last = None
        try:
            with self._db.iterator(prefix=prefix, verify_checksums=True) as it:
                for key, value in it:
                    self._probe_after(last, prefix)
                    last = key
                    yield key, value
            self._probe_after(last, prefix)
        except plyvel.Error as e:
            where = f"after {schema.describe_key(last)}" if last is not None else "at the first record"
            raise guard.translate(e, self.dbpath, f"reading the records {where}") from None

    def _probe_after(self, key: bytes | None, prefix: bytes) -> None:
        """LevelDB's iterator skips a block that fails its checksum without a word (plyvel never asks for the
        iterator's status), so look up the key just after the last one: that reads the block holding what
        should come next, and a damaged one raises. The blocks read are cached: cheap."""
        self._db.get(prefix if key is None else key + b"\x00", verify_checksums=True)

    def get_supply(self, block_hash: bytes) -> bytes | None:
        return self._get(schema.supply_key(block_hash))

    def get_energy(self, block_hash: bytes) -> bytes | None:
        return self._get(schema.energy_key(block_hash))

    def _iter(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        for key, value in self.iter_records(prefix):
            yield key[len(prefix) :], value

    def iter_state(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        for key, value in self._iter(schema.STATE + prefix):
            yield prefix + key, value

    def iter_index(self) -> Iterator[BlockIndex]:
        for key, value in self._iter(schema.INDEX):
            yield self._decode(schema.index_key(key), value, BlockIndex)

    def iter_tx_locations(self) -> Iterator[tuple[bytes, TxLocation]]:
        for key, value in self._iter(schema.TXLOC):
            yield key, self._decode(schema.txloc_key(key), value, TxLocation)

    def iter_pool(self) -> Iterator[tuple[bytes, bytes]]:
        yield from self._iter(schema.POOL)

    def iter_address(self, address: bytes) -> Iterator[tuple[int, int, bytes]]:
        """(height, position, txid) of the account's transactions, newest first."""
        prefix = schema.ADDRESS + address
        try:
            with self._db.iterator(prefix=prefix, reverse=True, verify_checksums=True) as it:
                for key, txid in it:
                    rest = key[len(prefix):]
                    yield int.from_bytes(rest[:8], "big"), int.from_bytes(rest[8:12], "big"), txid
        except plyvel.Error as e:
            raise guard.translate(e, self.dbpath, "reading an address's history") from None

    def iter_blocks_raw(self) -> Iterator[tuple[bytes, bytes]]:
        yield from self._iter(schema.BLOCK)

    # -- the one write path ----------------------------------------------------------------
    def commit(self, batch: ChainBatch) -> None:
        """Write every change of `batch` in one LevelDB WriteBatch; with sync it is on disk on return."""
        with self._writing("writing a batch"), self._db.write_batch(sync=batch.sync, transaction=True) as wb:
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
            except OSError as e:
                if e.errno == errno.ENOSPC:  # what the kernel could not write back is lost: stop writing
                    self.write_error = guard.disk_full(self.dbpath)
                    raise self.write_error from None
                raise
            finally:
                os.close(fd)

    def put_pool(self, txid: bytes, raw: bytes | None) -> None:
        """One pending transaction in or out: not consensus data, so no sync (the chain's batches sync)."""
        with self._writing("writing a pending transaction"):
            _put_or_delete(self._db, schema.pool_key(txid), raw)

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """Around every write: refuse at once after a failed one; a failure is typed, and a full disk (or
        any I/O error: LevelDB stops writing after one) makes the store refuse writes until reopen()."""
        if self.write_error is not None:
            raise self.get_write_error()
        try:
            guard.raise_if_injected()
            yield
        except plyvel.Error as e:
            err = guard.translate(e, self.dbpath, what)
            if err.code in ("disk-full", "db-io-error"):
                self.write_error = err
            raise err from None

    # -- raw access for benchmarks and db verify ------------------------------------------
    def raw_get(self, key: bytes) -> bytes | None:
        return self._get(key)


def _open_db(dbpath: Path, create: bool) -> plyvel.DB:
    try:
        return plyvel.DB(str(dbpath), create_if_missing=create, paranoid_checks=True)
    except plyvel.Error as e:
        err = guard.translate(e, dbpath, "opening it")
        if err.code in ("db-io-error", "db-error"):  # not found, permissions, a file in its place...
            raise StoreError("db-open-failed",
                             f"cannot open the database in {dbpath}: {err.detail}") from None
        raise err from None


def _put_or_delete(wb, key: bytes, value: bytes | None) -> None:
    if value is None:
        wb.delete(key)
    else:
        wb.put(key, value)
