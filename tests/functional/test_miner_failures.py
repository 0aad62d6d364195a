"""A miner that fails says so: a dead worker ends the search with a reason code, the service turns any
failure into a MiningFailed event and a visible state, and it recovers by itself (issue 9)."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from chain.block import PowSeal
from chain.errors import ChaintopError
from node import events as ev
from node.miner import Miner, MinerError
from node.node import Node
from node.service import NodeService

HARD_BITS = 0x1D00FFFF  # Bitcoin's genesis target: ~2^32 hashes, minutes of work on this machine


def _wait(predicate, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_killed_worker_ends_the_search_with_a_reason(tmp_path):
    node = Node.create(tmp_path / "d", "regtest")
    try:
        header = node.build_template(node.resolve_address("dev0")).header
    finally:
        node.close()
    hard = header.replace(seal=PowSeal(HARD_BITS, 0))
    miner = Miner(2, inline_below=0)
    outcome: dict = {}

    def search() -> None:
        try:
            outcome["header"] = miner.mine(hard)
        except ChaintopError as e:
            outcome["error"] = e

    t = threading.Thread(target=search, daemon=True)
    try:
        t.start()
        assert _wait(lambda: len(miner._procs) == 2 and all(p.is_alive() for p in miner._procs))
        os.kill(miner._procs[0].pid, signal.SIGKILL)
        t.join(timeout=20)
        assert not t.is_alive(), "the search went on waiting for a dead worker"
    finally:
        miner.close()
    assert isinstance(outcome.get("error"), MinerError)
    assert outcome["error"].code == "miner-worker-died"


@pytest.mark.slow
def test_the_service_reports_a_failed_search_and_recovers(tmp_path):
    node = Node.create(tmp_path / "d", "regtest")
    node._miner = Miner(1, inline_below=0)
    seen: list[ev.Event] = []
    node.events.subscribe(seen.append)
    service = NodeService(node, mining="manual").start()
    try:
        node.mine(1)  # starts the worker pool
        assert node.status()["height"] == 1
        worker = node._miner._procs[0]
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(timeout=5)
        node.send("dev1", "dev2", 1000)
        service.set_mining("auto")
        assert _wait(lambda: any(isinstance(e, ev.MiningFailed) for e in seen))
        failed = next(e for e in seen if isinstance(e, ev.MiningFailed))
        assert failed.reason == "miner-worker-died" and failed.retry_in > 0
        assert _wait(lambda: node.status()["height"] == 2), "the miner did not recover after its failure"
        assert _wait(lambda: service.mining_state()["error"] is None)
    finally:
        service.stop()
        node.close()
