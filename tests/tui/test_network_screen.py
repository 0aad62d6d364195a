"""The Network screen (8): peers, blocks received, reorgs as a fork tree; p partitions and heals (issue 13).

The snapshot's fork, fed to the node's event bus as the chain would emit it, on the regtest fixture (head 12):

    #12 ┬─ #13 b… ─ #14 b…   main chain after the reorg (from 127.0.0.1:20003)
        └─ #13 a…            reverted: depth 1, 1 tx back to the mempool
"""

from __future__ import annotations

import contextlib
import shutil

from rich.console import Console

from node import events as ev
from node.daemon import RunningNode
from tests.functional.p2p.helpers import NodeProc, init
from tests.functional.p2p.helpers import wait_for as wait_until
from tests.tui.conftest import SIZE, make_app, panel_text, run, settle, wait_for
from tests.tui.test_pilot import notifications
from tests.tui.test_snapshots import take
from tui.model import LiveModel
from tui.screens.network import NetworkScreen, network_views
from tui.widgets.fork_tree import ForkTree, render_fork_tree
from tui.widgets.peer_table import render_peer_table

A13, B13, B14 = "a1" * 32, "b1" * 32, "b2" * 32
PEERS = {  # a peers() answer as a node on a 3-node devnet gives it (fixed ids and ports: a snapshot)
    "node_id": "0f" * 32, "listen": "127.0.0.1:20001", "partitioned": False, "connecting": [], "banned": [],
    "disconnected": [], "syncing_from": None, "synced_blocks": 0, "relayed": 3, "ignored": 1, "rejected": 0,
    "gossip_dropped": 0,
    "peers": [{"node_id": "1e" * 32, "address": "127.0.0.1:20002", "direction": "outbound", "head_height": 14,
               "score": 0, "latency_ms": 0.8, "connected_since": 0, "blocks_received": 2, "txs_received": 5},
              {"node_id": "2d" * 32, "address": "127.0.0.1:20003", "direction": "inbound", "head_height": 14,
               "score": -10, "latency_ms": None, "connected_since": 0, "blocks_received": 1,
               "txs_received": 0}],
}


def emit_fork(events, head: str, dev1: str, dev2: str) -> None:
    """Block 13a from :20002 connects; 13b arrives from :20003 as a side block; 14b on it makes that branch
    heavier: a reorg of depth 1, then 13b and 14b connect."""
    events.emit(ev.BlockConnected(13, A13, head, 0, ["c3" * 32], dev1))
    events.emit(ev.BlockReceived(13, A13, "127.0.0.1:20002", 3.5, "connected"))
    events.emit(ev.BlockReceived(13, B13, "127.0.0.1:20003", 4.5, "side"))
    events.emit(ev.Reorg(A13, B14, 1, ["c3" * 32]))
    events.emit(ev.BlockConnected(13, B13, head, 0, [], dev2))
    events.emit(ev.BlockConnected(14, B14, B13, 0, [], dev2))
    events.emit(ev.BlockReceived(14, B14, "127.0.0.1:20003", 5.5, "reorg"))


def test_network_screen_snapshot(snap_compare, app, running, chain_facts):
    async def before(pilot):
        app.model.net.load_peers(PEERS)
        keys = {k["label"]: k["address"] for k in running.node.keys()}
        emit_fork(running.node.events, chain_facts["head"], keys["dev1"], keys["dev2"])
        await wait_for(pilot, lambda: app.model.net.reorgs == 1 and len(app.model.net.received) == 3,
                       what="the fork's events")
        await settle(pilot)
        app.clear_notifications()  # the reorg's toast would cover the fork tree (the banner says it too)

    take(snap_compare, app, "8", before=before)


def test_the_fork_tree_joins_reorgs_with_the_blocks_and_their_miners(app, running, chain_facts):
    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("8")
            await settle(pilot)
            assert isinstance(app.screen, NetworkScreen) and app.last_command == "peers"
            keys = {k["label"]: k["address"] for k in running.node.keys()}
            emit_fork(running.node.events, chain_facts["head"], keys["dev1"], keys["dev2"])
            await wait_for(pilot, lambda: len(app.model.net.received) == 3, what="the fork's events")
            _peers, received, forks = network_views(app.model)
            assert [(r["height"], r["miner"], r["status"]) for r in received["rows"]] == [
                (14, "dev2", "reorg"), (13, "dev2", "side"), (13, "dev1", "connected")]
            reorg = forks["forks"][0]
            assert reorg["fork"] == {"height": 12, "hash": chain_facts["head"]}
            assert [b["hash"] for b in reorg["main"]] == [B13, B14]
            assert [b["hash"] for b in reorg["stale"]] == [A13] and reorg["returned"] == 1
            assert len(forks["forks"]) == 1  # 13b, a side block first, is drawn once: on the branch that won
            await wait_for(pilot, lambda: "reverted: depth 1" in panel_text(app.screen.query_one(ForkTree)),
                           what="the fork tree drawn")
            # not on a network: the key answers with the node's own error, inline
            await pilot.press("p")
            await settle(pilot)
            assert app.last_command == "net partition"
            assert any("not on a network" in n for n in notifications(app))

    run(scenario())


def test_render_functions_say_what_is_missing():
    assert "not on a network" in str(render_peer_table(None))
    assert "no fork seen yet" in render_fork_tree({"reorgs": 0, "forks": []}).plain
    unseen = render_fork_tree({"reorgs": 1, "forks": [{"kind": "reorg", "fork": None, "main": [], "stale": [],
                                                      "depth": 3, "returned": 0}]}).plain
    assert "(fork point not seen)" in unseen and "depth 3" in unseen
    why = "its finalized checkpoint (epoch 9, ab12cd34…) and this node's (epoch 9, ef56ab78…) differ"
    refused = {**PEERS, "peers": [],
               "conflicts": [{"node_id": "3c" * 32, "address": "127.0.0.1:20004", "reason": why}]}
    console = Console(width=200, record=True)
    console.print(render_peer_table(refused))
    assert f"refused 127.0.0.1:20004: finality conflict, {why}" in console.export_text()


@contextlib.contextmanager
def tui_node_with_peer(datadir, peer: NodeProc):
    """A TUI app on a networked node at `datadir` (manual mining) peered with `peer`; both stop at the end."""
    try:
        node = RunningNode(datadir, mining="manual", traffic=0.0, workers=1, peers=[peer.address])
        node.start()
    except BaseException:
        peer.stop()
        raise
    try:
        app = make_app(node)
        wait_until("peered", lambda: len(node.node.peers()["peers"]) == 1)
        yield node, app
    finally:
        node.close()
        peer.stop()


def test_p_partitions_a_networked_node_and_heals_it(prebuilt, tmp_path):
    """A TUI node on a network with one peer (a real node process): p drops it, p again dials it back."""
    peer = NodeProc(init(tmp_path / "peer"), "--listen", "127.0.0.1:0")
    shutil.copytree(prebuilt[0], tmp_path / "tui")
    with tui_node_with_peer(tmp_path / "tui", peer) as (node, app):
        async def scenario():
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                await pilot.press("8")
                await wait_for(pilot, lambda: (app.model.net.peers or {}).get("peers"),
                               what="the peer listed")
                await pilot.press("p")
                await wait_for(pilot, lambda: node.node.peers()["partitioned"], what="partitioned")
                assert app.last_command == "net partition"
                await wait_for(pilot, lambda: (app.model.net.peers or {}).get("partitioned"),
                               what="the screen shows the partition")
                assert node.node.peers()["peers"] == []
                await pilot.press("p")
                await wait_for(pilot, lambda: not node.node.peers()["partitioned"], what="healed")
                assert app.last_command == "net heal"
                await wait_for(pilot, lambda: len(node.node.peers()["peers"]) == 1, timeout=30,
                               what="the peer back")

        run(scenario())
        wait_until("the peer synced the TUI node's chain", lambda: peer.client.status()["height"] == 12)


def test_a_pos_block_is_shown_by_its_proposer_and_a_side_block_by_who_made_it():
    """On proof of stake "mined by" is the proposer's validator index (its beneficiary is not who made it); a
    side block never connects, so its maker comes with BlockReceived; the caption counts side blocks."""
    model = LiveModel(lambda: 0.0)
    model.labels = {"ctpos1dev": "dev4"}
    p20, p21, s21 = "d0" * 32, "d1" * 32, "e1" * 32
    model.apply(ev.BlockConnected(20, p20, "cf" * 32, 0, [], "ctpos1dev", "", proposer=5))
    model.apply(ev.BlockReceived(20, p20, "127.0.0.1:20002", 2.0, "connected", "ctpos1dev", proposer=5))
    model.apply(ev.BlockReceived(21, s21, "127.0.0.1:20003", 2.5, "side", "ctpos1dev", proposer=11))
    model.apply(ev.BlockConnected(21, p21, p20, 0, [], "ctpos1dev", "", proposer=2))
    _peers, received, forks = network_views(model)
    assert [(r["height"], r["miner"]) for r in received["rows"]] == [(21, "validator 11"),
                                                                      (20, "validator 5")]
    assert forks["sides"] == 1 and forks["forks"][0]["miner"] == "validator 11"
    drawn = render_fork_tree(forks).plain
    assert "1 side block(s)" in drawn and "#21 e1e1e1e1… by validator 11 from 127.0.0.1:20003" in drawn
    # a PoW block's maker is its beneficiary, labelled
    model.apply(ev.BlockReceived(22, "f2" * 32, "127.0.0.1:20002", 1.0, "side", "ctpos1dev"))
    assert network_views(model)[2]["forks"][0]["miner"] == "dev4"


def test_a_runs_the_majority_attack_from_the_tui_node(tmp_path):
    """A two-node regtest devnet (devnet.json written as `devnet up` writes it): the TUI's node is node1, the
    attacker; node2 is a real node process. `a` on the Network screen runs the attack; the echo line shows
    the command, then the outcome; node2's own chain state shows the double spend."""
    import json

    from chain.errors import NotFound

    root = tmp_path / "net"
    peer = NodeProc(init(root / "node2"), "--listen", "127.0.0.1:0")
    init(root / "node1")
    nodes = [{"name": f"node{i}", "datadir": str(root / f"node{i}"), "port": 0, "validators": "none"}
             for i in (1, 2)]
    (root / "devnet.json").write_text(json.dumps({"network": "regtest", "nodes": nodes}))
    with tui_node_with_peer(root / "node1", peer) as (node, app):
        async def scenario():
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                await pilot.press("8")
                await pilot.press("a")
                await wait_for(pilot, lambda: (app.last_command or "").startswith("attack majority"),
                               what="the echo line names the command")
                assert app.last_command == f"attack majority --node node1 --dir {root.resolve()}"
                await wait_for(pilot, lambda: app.actions.last_attack, timeout=90, what="the attack's end")
                assert app.last_note.startswith("DOUBLE SPEND")
                assert any(m.startswith("DOUBLE SPEND.") for m in notifications(app))  # the summary

        run(scenario())
        report = app.actions.last_attack
        pay, conflict = report["payment"]["txid"], report["conflict"]["txid"]
        try:
            assert peer.client.tx(pay)["status"] != "confirmed"
        except NotFound:
            pass  # gone from its chain and its mempool
        assert peer.client.tx(conflict)["status"] == "confirmed"
        assert peer.client.block(report["branch_first"])["main_chain"]
        assert node.node.peers()["partitioned"] is False
