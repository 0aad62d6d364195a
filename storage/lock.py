"""The data-dir lock: one process owns a data dir; a second one is told who holds it."""

from __future__ import annotations

import fcntl
import json
import os
import sys
from pathlib import Path

from chain.errors import StoreError

LOCK_NAME = "chaintop.lock"


class DataDirLock:
    """An flock on <datadir>/chaintop.lock whose content names the holder (pid and command)."""

    def __init__(self, datadir: Path) -> None:
        self.path = Path(datadir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # it names the holder's command line: ours to read, whatever the umask
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(fd)
            os.close(fd)
            raise StoreError("datadir-locked", f"data dir {self.path.parent} is in use by {holder}") from None
        info = {"pid": os.getpid(),
                "command": " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))}
        try:
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(info).encode())
            os.fsync(fd)
        except OSError:
            pass  # a full disk: the lock holds all the same, only the holder's name is not told
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def read_holder(datadir: Path) -> dict | None:
    try:
        return json.loads((Path(datadir) / LOCK_NAME).read_text() or "null")
    except (OSError, ValueError):
        return None


def _describe(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"null")
        return f"process {info['pid']} ({info.get('command', '?')})"
    except (ValueError, KeyError, TypeError, OSError):
        return "another process"
