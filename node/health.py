"""A running node's health: a background thread's failure becomes an event and a visible state, and a store
that stopped writing (a full disk) is watched until there is room, then reopened in place."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from chain.errors import ChaintopError, StoreError
from node import events as ev

if TYPE_CHECKING:
    from node.node import Node

WATCH_EVERY = 0.5  # seconds between looks at a failed store's free space
MAX_BACKOFF = 30.0


class Health:
    """Owned by the Node: what failed, said once as an event and kept as state for status and mining_get."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.workers: dict[str, dict] = {}  # thread name -> its last unexpected failure
        self._failures: dict[str, int] = {}
        self._reported: StoreError | None = None  # the write error a StorageFailed has told already

    # -- writes ----------------------------------------------------------------------------
    def check_writable(self) -> None:
        """Raise the store's write error (disk-full) before anything is pooled, searched or signed."""
        err = self.node.store.write_error
        if err is not None:
            self.report_write_error()
            raise self.node.store.get_write_error()

    def report_write_error(self) -> None:
        """The first time a write error is seen: a StorageFailed event (once per failure)."""
        store = self.node.store
        err = store.write_error
        if err is None or err is self._reported:
            return
        self._reported = err
        free, needed = self._space()
        self.node.events.emit(ev.StorageFailed(err.code, store.get_write_error().message, free, needed))

    def _space(self) -> tuple[int, int]:
        try:
            return self.node.store.get_free_bytes(), self.node.store.get_needed_bytes()
        except OSError:
            return 0, 0

    def try_resume(self) -> bool:
        """With room again, reopen the store (the node lock held: no reader meets it closed) and accept
        writes again; True when the node resumed."""
        store = self.node.store
        if store.write_error is None or store.write_error.code != "disk-full":
            return False  # db-io-error or restart-needed: only a restart can tell
        free, needed = self._space()
        if free < needed:
            return False
        with self.node.lock:
            try:
                store.reopen()
            except StoreError as e:
                store.write_error = e
                return False
            head = store.get_meta("head")
            if head != self.node.chain.head.hash:  # the failed batch was half-written after all: memory and
                store.write_error = StoreError("restart-needed", (  # disk disagree, a fresh start decides
                    "the database holds another head than this node after the disk filled up; restart the "
                    "node (it opens with what is on disk)"))
                self.report_write_error()
                return False
            self._reported = None
        self.node.events.emit(ev.StorageRecovered(free))
        return True

    def watch(self, stopping: threading.Event) -> None:
        """The service's storage thread: tell a new write error, resume once there is room."""
        while not stopping.wait(WATCH_EVERY):
            with self.guard("storage"):
                if self.node.store.write_error is not None:
                    self.report_write_error()
                    self.try_resume()

    def view(self) -> dict | None:
        """For status and mining_get: None while all is well."""
        err = self.node.store.write_error
        if err is None and not self.workers:
            return None
        out: dict = {"workers": dict(self.workers)}
        if err is not None:
            free, needed = self._space()
            out.update(writable=False, reason=err.code, message=self.node.store.get_write_error().message,
                       free_bytes=free, needed_bytes=needed)
        else:
            out["writable"] = True
        return out

    # -- threads ---------------------------------------------------------------------------
    @contextmanager
    def guard(self, worker: str, stopping: threading.Event | None = None) -> Iterator[None]:
        """Around one step of a background loop: a ChaintopError is the step's own business (a full pool, no
        active validator); anything else is a WorkerFailed event and state, then a backoff, and the loop
        goes on: a thread never dies silently."""
        try:
            yield
            if self._failures.pop(worker, None) is not None:
                self.workers.pop(worker, None)
        except ChaintopError:
            if self.node.store.write_error is not None:
                self.report_write_error()
        except Exception as e:  # noqa: BLE001 — the point: any failure is said, and the thread lives on
            n = self._failures[worker] = self._failures.get(worker, 0) + 1
            retry_in = min(MAX_BACKOFF, 0.5 * 2 ** min(n - 1, 6))
            message = f"{type(e).__name__}: {e}"
            self.workers[worker] = {"reason": f"{worker}-failed", "message": message, "at": time.time(),
                                    "retry_in": retry_in}
            self.node.events.emit(ev.WorkerFailed(worker, f"{worker}-failed", message, retry_in))
            if stopping is not None:
                stopping.wait(retry_in)
            else:
                time.sleep(min(retry_in, 1.0))
