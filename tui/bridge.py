"""The node -> UI hop: a listener on the node's event bus that buffers events and wakes the app once."""

from __future__ import annotations

import threading
from collections.abc import Callable


class EventBridge:
    """Runs the listener side on node threads (miner, RPC, traffic), often under the node's lock, so it
    only appends to a buffer and, if the buffer was empty, posts one wake-up message. Coalescable events
    (MiningProgress) keep only their latest value per type. The UI side drains everything at once.
    """

    def __init__(self, bus, wake: Callable[[], object]) -> None:
        self._bus = bus
        self._wake = wake
        self._lock = threading.Lock()
        self._queue: list = []
        self._latest: dict[type, object] = {}
        self._signalled = False
        self._unsubscribe: Callable[[], None] | None = None
        self.received = 0
        self.coalesced = 0
        self.max_backlog = 0
        self.wakeups = 0

    def start(self) -> EventBridge:
        self._unsubscribe = self._bus.subscribe(self._on_event)
        return self

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event) -> None:
        with self._lock:
            self.received += 1
            if getattr(event, "coalesce", False):
                if type(event) in self._latest:
                    self.coalesced += 1
                self._latest[type(event)] = event
            else:
                self._queue.append(event)
            backlog = len(self._queue) + len(self._latest)
            if backlog > self.max_backlog:
                self.max_backlog = backlog
            if self._signalled:
                return
            self._signalled = True
            self.wakeups += 1
        self._wake()

    def drain(self) -> list:
        """Everything buffered, oldest first, latest coalesced values last; re-arms the wake-up."""
        with self._lock:
            out = self._queue
            out.extend(self._latest.values())
            self._queue = []
            self._latest = {}
            self._signalled = False
        return out

    @property
    def backlog(self) -> int:
        with self._lock:
            return len(self._queue) + len(self._latest)
