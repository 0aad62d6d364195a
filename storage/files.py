"""Private files beside the chain: the data dir is 0700 and runtime files 0600 whatever the umask."""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE, FILE_MODE = 0o700, 0o600


def make_private_dir(path: Path) -> None:
    """Create `path` and any missing parents 0700 (a parent another user could write to would let them swap
    our data dir for theirs); an existing directory keeps its mode."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} is not a directory")
    missing = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for p in reversed(missing):
        try:
            p.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not p.is_dir():
                raise
            continue
        os.chmod(p, DIR_MODE)  # exact, whatever the umask took away


def write_private(path: Path, text: str, sync: bool = False) -> None:
    """Replace `path` atomically (temp file + rename) with a 0600 file holding `text`."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # an older tmp file may exist with a wider mode
        with os.fdopen(fd, "w") as f:
            fd = -1
            f.write(text)
            if sync:
                f.flush()
                os.fsync(f.fileno())
    except BaseException:
        if fd != -1:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
