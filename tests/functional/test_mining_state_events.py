"""Every mining setting change and every `mine` call's search is a MiningStateChanged event, so a TUI
follows what the CLI changes over RPC."""

from __future__ import annotations

from node import events as ev
from node.daemon import RunningNode
from node.node import Node


def test_setting_changes_and_mine_calls_emit_mining_state(tmp_path):
    Node.create(tmp_path / "d", "regtest").close()
    running = RunningNode(tmp_path / "d", mining="manual", traffic=0.0, workers=1).start()
    try:
        seen: list[ev.MiningStateChanged] = []
        running.node.events.subscribe(lambda e: seen.append(e) if isinstance(e, ev.MiningStateChanged)
                                      else None)
        running.service.set_traffic(2.0)
        running.service.set_traffic(0.0)
        running.service.set_workers(2)
        assert [(e.traffic, e.workers) for e in seen] == [(2.0, 1), (0.0, 1), (0.0, 2)]
        seen.clear()
        running.node.mine(2)  # what the RPC `mine` method calls
        assert [(e.active, e.mine_calls) for e in seen] == [(True, 1), (False, 0)]
        assert running.service.mining_state()["active"] is False
    finally:
        running.close()
