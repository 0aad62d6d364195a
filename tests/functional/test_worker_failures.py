"""A background thread never dies silently (issue 14): a step of the slots or traffic loop that fails with
something unexpected becomes a WorkerFailed event and a visible state in status, and the loop goes on."""

from __future__ import annotations

import threading

from chain.errors import InvalidTx
from node import events as ev
from node.node import Node


def test_an_unexpected_failure_is_an_event_and_state_and_the_loop_goes_on(tmp_path):
    with Node.create(tmp_path, "regtest") as node:
        seen: list[ev.Event] = []
        node.events.subscribe(seen.append)
        stopping = threading.Event()
        stopping.set()  # no backoff wait in a test
        with node.health.guard("traffic", stopping):
            raise InvalidTx("mempool-full", "the step's own business")  # expected: no event, no state
        assert node.status()["health"] is None and not seen
        with node.health.guard("traffic", stopping):
            raise KeyError("lost")  # a bug in the step: the thread would have died here
        (failed,) = [e for e in seen if isinstance(e, ev.WorkerFailed)]
        assert failed.worker == "traffic" and "KeyError" in failed.message and failed.retry_in > 0
        health = node.status()["health"]
        assert health["writable"] is True and health["workers"]["traffic"]["reason"] == "traffic-failed"
        with node.health.guard("traffic", stopping):
            pass  # the next step works: the failure is over
        assert node.status()["health"] is None
