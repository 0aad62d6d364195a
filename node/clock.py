"""The chain's clock on a devnet whose blocks follow a slot clock: wall time that stands still while no
process has the data dir open.

Proof of stake counts slots from genesis by the wall clock. Left alone, a devnet stopped for a minute
wakes up to hundreds of empty slots: every validator missed them, the inactivity leak drains them all in
the first block after the restart, and with no active stake the chain can never propose again. A local
chain is a tool, not a network that kept running without you, so chaintop does what anvil and Ganache do
with time: it passes only while the chain is open. The data dir keeps `clock.json`: the offset (seconds
the chain has been closed in all) and a heartbeat of the last moment it was open. On opening, the time
since the heartbeat joins the offset; while open, the clock is the wall clock minus the offset and the
heartbeat is refreshed every second. A crash loses at most that second.

Only networks whose blocks follow slots pause (pos; merge, whose PoS half counts slots from the last PoW
block). PoW and hybrid blocks are numbered by height, so downtime costs them nothing: their clock is the
wall clock.

Every network's clock can also be moved on, as bitcoind's setmocktime and anvil's evm_increaseTime move
theirs (`chaintop time increase SECONDS`, `chaintop time set UNIX`, node/timectl.py): a shift, added to the
time above and kept in `clock.json` beside the offset, so it survives a restart. A shift never takes the
clock back before the head's timestamp (timectl checks that).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from chain.params import Params

CLOCK_FILE = "clock.json"
HEARTBEAT_EVERY = 1.0  # seconds between heartbeat writes while the chain is open


def uses_paused_clock(params: Params) -> bool:
    """Slot-clocked chains: their production would otherwise count slots that passed while closed."""
    return params.consensus in ("pos", "merge")


class PausingClock:
    """Callable like time.time: wall time, minus the time the data dir spent closed (when it pauses), plus
    the shift asked for. Every node opened without an injected clock has one (Node.__init__)."""

    def __init__(self, datadir: str | Path, wall: Callable[[], float] = time.time,
                 pause_while_closed: bool = True) -> None:
        self.path = Path(datadir) / CLOCK_FILE
        self.wall = wall
        self.pause_while_closed = pause_while_closed
        self._lock = threading.Lock()
        now = wall()
        offset, shift, last_seen = self._read()
        # this closing's length: time the chain did not see pass
        self.paused = max(0.0, now - last_seen) if last_seen is not None and pause_while_closed else 0.0
        self.offset = offset + self.paused
        self.shift = shift  # seconds `time increase` / `time set` moved the clock on, in all
        self._written = 0.0
        self._write(now)

    def _read(self) -> tuple[float, float, float | None]:
        try:
            data = json.loads(self.path.read_text())
            return float(data["offset"]), float(data.get("shift", 0.0)), float(data["last_seen"])
        except FileNotFoundError:
            return 0.0, 0.0, None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return 0.0, 0.0, None  # unreadable: start the pause count afresh rather than refuse to open

    def _write(self, now: float) -> None:
        tmp = self.path.with_name(CLOCK_FILE + ".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump({"offset": round(self.offset, 3), "shift": round(self.shift, 3),
                           "last_seen": round(now, 3)}, f)
            os.replace(tmp, self.path)
            self._written = now
        except OSError:
            pass  # a read-only or full disk: time keeps running; the node reports the disk elsewhere

    def __call__(self) -> float:
        now = self.wall()
        if (self.pause_while_closed and now - self._written >= HEARTBEAT_EVERY
                and self._lock.acquire(blocking=False)):
            try:
                self._write(now)
            finally:
                self._lock.release()
        return now - self.offset + self.shift

    def move_to(self, t: float) -> float:
        """Shift the clock so that it reads `t` now (callers check the direction); saved at once."""
        with self._lock:
            now = self.wall()
            self.shift = t - (now - self.offset)
            self._write(now)
            return now - self.offset + self.shift

    def close(self) -> None:
        with self._lock:
            self._write(self.wall())

    def view(self) -> dict:
        """clock_offset: the chain's now is the wall clock minus it (pauses less the shift; may be < 0)."""
        return {"clock": "paused-while-closed" if self.pause_while_closed else "wall",
                "clock_offset": round(self.offset - self.shift, 3), "last_pause": round(self.paused, 3),
                "time_shift": round(self.shift, 3)}
