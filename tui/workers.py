"""Node calls off the UI loop: a thread worker runs the call, the result comes back on the loop."""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.worker import get_current_worker

from chain.errors import ChaintopError
from tui.backend import PosUnavailable


def call_node(owner, fn: Callable, *args, done: Callable | None = None, failed: Callable | None = None,
              group: str | None = None, **kwargs) -> None:
    """Run fn(*args, **kwargs) in a thread worker owned by `owner` (a screen or the app).

    `done(result)` or `failed(error)` then run on the UI loop, unless the owner went away meanwhile or a newer
    call in the same group superseded this one. A failure without `failed` becomes an error notification.
    """
    app = owner.app

    def work() -> None:
        try:
            result, error = fn(*args, **kwargs), None
        except (ChaintopError, PosUnavailable) as e:
            result, error = None, e
        except Exception as e:  # noqa: BLE001 — shown to the user; the node keeps running
            result, error = None, e
        worker = get_current_worker()
        if worker.is_cancelled or threading.get_ident() == app._thread_id:
            return
        try:
            app.call_from_thread(_deliver, owner, result, error, done, failed)
        except RuntimeError:
            pass  # the app is shutting down

    owner.run_worker(work, thread=True, group=group or getattr(fn, "__name__", "node"),
                     exclusive=group is not None, exit_on_error=False)


def _deliver(owner, result, error, done, failed) -> None:
    if not owner.is_attached and owner is not owner.app:
        return
    if error is None:
        if done is not None:
            done(result)
        return
    if failed is not None:
        failed(error)
    else:
        owner.app.notify(describe_error(error), severity="error", title="node")


def describe_error(error: BaseException) -> str:
    if isinstance(error, ChaintopError):
        return f"{error.message} ({error.code})"
    if isinstance(error, PosUnavailable):
        return error.message
    return f"{type(error).__name__}: {error}"
