"""Signals and a closed stdout/stderr for CLI processes: shut down cleanly once, never hang doing it.

- SIGTERM unwinds a command as an exception would (exit 143), so its `finally` blocks run: the embedded
  node closes its store and its mining worker pool, and multiprocessing unlinks its semaphores (killed
  outright, the process leaves them to the resource tracker, which warns of leaked semaphores).
- The first signal starts the shutdown and puts the default action back, so a second SIGTERM or Ctrl-C
  ends the process at once, whatever the shutdown is waiting for; and a watchdog that needs neither the
  GIL nor a lock (faulthandler's own thread) ends it after SHUTDOWN_LIMIT seconds, printing where every
  thread stood. A handler here takes no lock: one that did could wait forever on a lock the interrupted
  main thread holds.
- Status lines written to a pipe whose reader left (`| head -3`) are dropped, and the stream is pointed
  at /dev/null so the interpreter's last flush cannot fail either (Python's advice for SIGPIPE).
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
from collections.abc import Callable

SHUTDOWN_LIMIT = 30.0  # seconds a clean shutdown may take before the watchdog ends the process
TERMINATED = 128 + signal.SIGTERM  # the exit status a shell gives a process SIGTERM killed


def arm_shutdown_watchdog(limit: float = SHUTDOWN_LIMIT) -> None:
    try:
        faulthandler.dump_traceback_later(limit, exit=True, file=sys.__stderr__)
    except (ValueError, OSError, AttributeError, RuntimeError):  # stderr closed or without a descriptor
        faulthandler.dump_traceback_later(limit, exit=True, file=open(os.devnull, "w"))  # noqa: SIM115


def _default_actions() -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)


def exit_on_sigterm() -> None:
    """For every command: SIGTERM raises SystemExit(143) in the main thread (once)."""

    def on_term(signum, frame) -> None:
        _default_actions()
        arm_shutdown_watchdog()
        raise SystemExit(TERMINATED)

    try:
        signal.signal(signal.SIGTERM, on_term)
    except ValueError:
        pass  # not the main thread (an embedding program): leave its signals alone


def stop_on_signals(request_stop: Callable[[], None]) -> None:
    """For the long-running node: SIGTERM or SIGINT asks it to stop (request_stop must take no lock)."""

    def on_signal(signum, frame) -> None:
        _default_actions()
        arm_shutdown_watchdog()
        request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def say(print_fn: Callable[[], None], stream=None) -> None:
    """Run a print; if its reader went away, drop the line and point the stream at /dev/null."""
    try:
        print_fn()
    except (BrokenPipeError, ValueError):
        silence(stream if stream is not None else sys.stderr)
    except SystemExit as e:  # rich's answer to a broken pipe: exit 1 (wrong for a node that stopped cleanly)
        if not isinstance(e.__context__, BrokenPipeError):
            raise
        silence(stream if stream is not None else sys.stderr)


def silence(stream) -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
