"""The LevelDB boundary's errors: every plyvel error becomes a typed StoreError with a reason code here, and
the disk's free space is measured (with a test hook that makes every write fail as a full disk does)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import plyvel

from chain.errors import DatabaseCorrupt, DiskFull, StoreError

MIB = 2**20
# Room a write needs beyond itself: LevelDB's 4 MiB write buffer becomes a table when the log is replayed
# (every reopen) or compacted, and the compaction of that table writes as much again.
HEADROOM = 8 * MIB
# A test hook for CI machines that may not mount a small tmpfs: while the file this names exists, every
# write to the store fails as ENOSPC does and the disk reports no free space.
FAULT_ENV = "CHAINTOP_FAULT_DISK_FULL"
ENOSPC_TEXT = os.strerror(errno.ENOSPC)  # "No space left on device", as LevelDB words it


def is_fault_injected() -> bool:
    path = os.environ.get(FAULT_ENV)
    return bool(path) and os.path.exists(path)


def raise_if_injected() -> None:
    if is_fault_injected():
        raise plyvel.IOError(f"IO error: injected ({FAULT_ENV}): {ENOSPC_TEXT}")


def get_free_bytes(path: Path) -> int:
    if is_fault_injected():
        return 0
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def get_needed_bytes(dbpath: Path) -> int:
    """Free space a write, then a reopen, can count on: twice the write-ahead logs (replayed into a table on
    reopen, then compacted) plus the headroom."""
    logs = sum(p.stat().st_size for p in dbpath.glob("*.log") if p.is_file())
    return HEADROOM + 2 * logs


def format_bytes(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB / 10 else f"{n} bytes"


def disk_full(dbpath: Path) -> DiskFull:
    """The one disk-full error: where, how much is free, how much the store needs."""
    try:
        free, need = get_free_bytes(dbpath), get_needed_bytes(dbpath)
    except OSError:
        free, need = 0, HEADROOM
    return DiskFull("disk-full", (
        f"the disk holding {dbpath.parent} is full ({format_bytes(free)} free): chaintop stopped writing "
        f"(no blocks are produced or transactions accepted; reads go on); free at least {format_bytes(need)} "
        "and it resumes on its own, or restart it"))


def _reason(e: plyvel.Error) -> str:
    text = e.args[0] if e.args else str(e)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())


def is_disk_full(e: plyvel.Error) -> bool:
    return isinstance(e, plyvel.IOError) and ENOSPC_TEXT in _reason(e)


def translate(e: plyvel.Error, dbpath: Path, what: str) -> StoreError:
    """The house error for a plyvel error met while doing `what` (e.g. "reading block 5f3a…"); LevelDB's own
    words are kept in `detail`."""
    reason = _reason(e)
    if is_disk_full(e):
        err: StoreError = disk_full(dbpath)
    elif isinstance(e, plyvel.CorruptionError) or "Corruption" in reason:
        err = DatabaseCorrupt("db-corrupt", (
            f"the database in {dbpath} is damaged ({what}: {reason}); `chaintop db verify` names the "
            "first damaged record, `chaintop db repair` rebuilds what the surviving blocks hold"))
    elif isinstance(e, plyvel.IOError):
        err = StoreError("db-io-error", f"the database in {dbpath} cannot be read or written ({what}: "
                                        f"{reason})")
    else:
        err = StoreError("db-error", f"the database in {dbpath} failed ({what}: {reason})")
    err.detail = reason
    return err
