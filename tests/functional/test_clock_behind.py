"""Mining with a host clock before the chain's fixed genesis date fails at once with a reason code, instead of
waiting forever for the clock to catch up (issue 9)."""

from __future__ import annotations

import threading

import pytest

from chain.errors import ChaintopError
from chain.params import REGTEST
from node.node import Node


@pytest.mark.parametrize("network", ["regtest", "devnet"])
def test_mining_on_a_clock_before_genesis_says_so(tmp_path, network):
    behind = REGTEST.genesis_time - 30 * 86400  # a month before the presets' genesis date
    node = Node.create(tmp_path / "d", network, clock=lambda: behind)
    outcome: dict = {}

    def mine() -> None:
        try:
            outcome["result"] = node.mine(1)
        except ChaintopError as e:
            outcome["error"] = e

    try:
        t = threading.Thread(target=mine, daemon=True)
        t.start()
        t.join(timeout=15)
        assert not t.is_alive(), "mining waited for the clock instead of saying it is behind"
    finally:
        node.close()
    assert outcome["error"].code == "clock-behind"
    assert "2026" in outcome["error"].message  # names the dates involved


def test_a_clock_a_little_behind_the_chain_still_mines(tmp_path):
    """Mining fast walks timestamps a second or so ahead of the clock: that is waited out, not refused."""
    now = {"t": float(REGTEST.genesis_time + 100)}
    node = Node.create(tmp_path / "d", "regtest", clock=lambda: now["t"])
    try:
        assert len(node.mine(30)["blocks"]) == 30
    finally:
        node.close()
