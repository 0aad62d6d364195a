"""A proof-of-stake devnet survives being stopped (issue 9): the chain's clock stands still while no process
has the data dir open, so a restart resumes at the next slot instead of leaking every validator out for the
slots that passed while the node was off."""

from __future__ import annotations

import time

import pytest

from node.node import Node
from node.service import NodeService

SLOT = 0.2  # seconds: an 8-slot epoch every 1.6 s


def _run(datadir, seconds: float) -> dict:
    node = Node.open(datadir)
    service = NodeService(node, mining="off").start()
    try:
        time.sleep(seconds)
    finally:
        service.stop()
    try:
        return {"status": node.status(), "finality": node.finality(), "validators": node.validators()}
    finally:
        node.close()


NETWORKS = {"pos-devnet": {}, "merge-devnet": {"merge_height": 3}}


@pytest.mark.slow
def test_stopped_devnets_resume_proposing_and_finalizing(tmp_path):
    before = {}
    for network, overrides in NETWORKS.items():
        with Node.create(tmp_path / network, network, slot_time=SLOT, **overrides) as node:
            if network == "merge-devnet":
                node.mine(2)  # the PoW phase, up to the merge
        before[network] = _run(tmp_path / network, 8.0)
        assert before[network]["finality"]["finalized_epoch"] >= 1, (network, before[network]["finality"])
    time.sleep(8 * 8 * SLOT)  # eight more epochs' worth of wall time (plus the other's run) with both closed
    for network in NETWORKS:
        was, after = before[network], _run(tmp_path / network, 8.0)
        assert after["status"]["last_pause"] >= 8 * 8 * SLOT
        active = [v for v in after["validators"] if v["status"] == "active"]
        assert len(active) == len(was["validators"]), (network, [v["status"] for v in after["validators"]])
        assert min(v["balance"] for v in active) >= min(v["balance"] for v in was["validators"]) * 0.99
        assert after["status"]["height"] >= was["status"]["height"] + 8, network  # it went on proposing
        assert after["finality"]["finalized_epoch"] >= was["finality"]["finalized_epoch"] + 1, network
