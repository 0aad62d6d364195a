"""Continuous mining: the miner always searches (a new search as each block lands), the default of the TUI
where the difficulty retargets; workers change while it runs."""

from __future__ import annotations

import time

from chain.params import get_preset
from node.node import Node
from node.service import NodeService, default_mining_mode


def wait_until(pred, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (value := pred()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
    return value


def test_the_tui_mines_continuously_where_the_difficulty_retargets():
    assert default_mining_mode(get_preset("devnet")) == "continuous"
    assert default_mining_mode(get_preset("pow-devnet")) == "continuous"
    assert default_mining_mode(get_preset("regtest")) == "interval"  # no retarget: blocks would never stop
    assert default_mining_mode(get_preset("pos-devnet")) == "interval"


def test_continuous_mining_keeps_searching_and_takes_new_workers_live(tmp_path):
    node = Node.create(tmp_path / "reg", "regtest")
    service = NodeService(node, mining="continuous").start()
    try:
        wait_until(lambda: node.chain.head.height >= 5, what="blocks without being asked")
        assert service.mining_state()["mode"] == "continuous"
        state = service.set_workers(3)  # while searching
        assert state["workers"] == 3
        at = node.chain.head.height
        wait_until(lambda: node.chain.head.height >= at + 3, what="mining to go on with the new pool")
        # every block this node mined recorded what its search cost (the energy ledger)
        assert node.energy()["pow"]["blocks"] == node.chain.head.height
        service.set_mining("off")
        wait_until(lambda: not service.mining_state()["active"], what="the search to stop")
        stopped_at = node.chain.head.height
        time.sleep(0.3)
        assert node.chain.head.height == stopped_at
    finally:
        service.stop()
        node.close()
