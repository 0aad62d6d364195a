"""Time control for a local chain, as bitcoind's setmocktime and anvil's evm_increaseTime: move the node's
clock on (node/clock.py keeps the shift in clock.json, so it survives a restart).

Rules: the clock never goes back before the head's timestamp (a PoW block must be later than the median
of the last ones, and the chain would wait for the wall clock to catch up); on a chain whose next block
follows the slot clock it never goes back at all (a validator would sign a second block or vote for a slot
it already did); and there a jump is at most JUMP_EPOCHS epochs, since the slots jumped over are empty
slots every validator missed, and a longer gap stalls finality until the inactivity leak drains them.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from chain.consensus import schedule
from chain.errors import UsageError
from node import events as ev
from node.clock import PausingClock

if TYPE_CHECKING:
    from node.node import Node

JUMP_EPOCHS = 2  # the longest jump on a slot clock, in epochs: finality waits two, and leaks from four
MAX_INCREASE = 100 * 365 * 86400  # seconds; a sanity bound (the header's timestamp is a u64)
MAX_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z


def _clock(node: Node) -> PausingClock:
    if node.network is not None:
        raise UsageError("networked-clock", "this node is on a network, where every node keeps the wall "
                                            "clock (peers must agree on slots and block times): chaintop "
                                            "cannot move it")
    if not isinstance(node.clock, PausingClock):
        raise UsageError("clock-injected", "this node runs on a clock its owner passed in (a test's or an "
                                           "embedding program's): chaintop cannot move it")
    return node.clock


def _utc(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


def _on_slot_clock(node: Node) -> bool:
    return schedule.is_pos_height(node.params, node.chain.head.height + 1)


def time_view(node: Node) -> dict:
    """The chain's now and how it relates to the wall clock; with validators, the current slot."""
    now = node.clock()
    head_time = node.chain.head.header.timestamp
    out = {"time": round(now, 3), "utc": _utc(now), "head_time": head_time,
           "head_age": round(now - head_time, 3), "slot_clock": _on_slot_clock(node)}
    view = getattr(node.clock, "view", None)
    out |= view() if view is not None else {"clock": "wall (networked)" if node.network else "injected"}
    if node.validator is not None:
        out["slot"] = node.chain.current_slot()
    return out


def increase_time(node: Node, seconds: float) -> dict:
    """Move the clock `seconds` on (evm_increaseTime)."""
    if not (isinstance(seconds, int | float) and math.isfinite(seconds) and 0 <= seconds <= MAX_INCREASE):
        raise UsageError("bad-seconds", f"time increase takes 0 to {MAX_INCREASE} seconds, not {seconds!r} "
                                        "(the clock never goes back)")
    return _move(node, node.clock() + seconds)


def set_time(node: Node, timestamp: float) -> dict:
    """Set the clock to unix time `timestamp` (setmocktime), never before the head's timestamp."""
    if not (isinstance(timestamp, int | float) and math.isfinite(timestamp) and 0 <= timestamp <= MAX_TIME):
        raise UsageError("bad-time", f"time set takes a unix time in seconds, not {timestamp!r}")
    head_time = node.chain.head.header.timestamp
    if timestamp < head_time:
        raise UsageError("time-before-head", (
            f"{_utc(timestamp)} is before the head block's timestamp, {_utc(head_time)}: the next block "
            "could not be stamped; set a later time"))
    now = node.clock()
    if _on_slot_clock(node) and timestamp < now:
        raise UsageError("time-backwards", (
            f"{_utc(timestamp)} is before the chain's now, {_utc(now)}: a slot clock never runs back (its "
            "validators would sign for slots they already signed); use a later time"))
    return _move(node, timestamp)


def _move(node: Node, target: float) -> dict:
    clock = _clock(node)
    by = target - node.clock()
    if _on_slot_clock(node):
        p = node.params
        limit = JUMP_EPOCHS * p.slots_per_epoch * p.slot_time
        if by > limit:
            raise UsageError("time-jump-too-far", (
                f"a jump of {by:.0f} s skips {by / p.slot_time:.0f} slots; every validator would miss them, "
                f"finality would stall and the inactivity leak drain the stake. Jump at most {limit:g} s "
                f"({JUMP_EPOCHS} epochs) at a time, and let the chain finalize in between"))
    now = clock.move_to(target)
    node.events.emit(ev.ClockMoved(round(now, 3), round(clock.shift, 3), round(by, 3)))
    return time_view(node) | {"moved_by": round(by, 3)}
