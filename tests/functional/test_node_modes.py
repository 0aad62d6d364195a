"""The running node in-process: mining modes, the traffic generator, and the events the node emits (incl.
reorgs)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from chain.params import COIN, REGTEST
from node import events as ev
from node.daemon import RunningNode
from node.node import Node
from node.service import NodeService

QUIET = 0.6  # how long "nothing happens" is watched; auto mode reacts within milliseconds on regtest


def wait_until(pred: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class Recorder:
    """Collects every event the node emits (listeners run on the emitting thread, so a lock guards the
    list)."""

    def __init__(self, node: Node) -> None:
        self._lock = threading.Lock()
        self._events: list[ev.Event] = []
        self.unsubscribe = node.events.subscribe(self._on)

    def _on(self, e: ev.Event) -> None:
        with self._lock:
            self._events.append(e)

    @property
    def events(self) -> list[ev.Event]:
        with self._lock:
            return list(self._events)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


class Harness:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.nodes: list[Node] = []
        self.services: list[NodeService] = []

    def node(self, name: str = "chain", **overrides) -> Node:
        n = Node.create(self.tmp / name, "regtest", **overrides)
        self.nodes.append(n)
        return n

    def service(self, node: Node, mining: str = "manual", traffic: float = 0.0) -> NodeService:
        s = NodeService(node, mining, traffic)
        self.services.append(s)
        return s.start()

    def close(self) -> None:
        for s in self.services:
            s.stop()
        for n in self.nodes:
            n.close()


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path)
    try:
        yield harness
    finally:
        harness.close()


# -- mining modes ----------------------------------------------------------------------------------


def test_auto_mines_once_a_tx_waits(h):
    node = h.node()
    rec = Recorder(node)
    h.service(node, "auto")
    time.sleep(QUIET)
    assert node.chain.head.height == 0, "auto mode mined with an empty mempool"
    t0 = time.monotonic()
    txid = node.send("dev0", "dev1", COIN)["txid"]
    wait_until(lambda: node.tx(txid)["status"] == "confirmed", what="the tx to be mined")
    # auto reacts in milliseconds here; the bound is loose so a loaded machine does not flake it
    assert time.monotonic() - t0 < 5
    assert node.chain.head.height == 1  # one block, not a stream of empty ones
    time.sleep(0.2)
    assert node.chain.head.height == 1
    mined = rec.of(ev.BlockMined)
    assert [m.height for m in mined] == [1]
    assert [c.height for c in rec.of(ev.BlockConnected)] == [1]


def test_manual_does_not_mine_by_itself_and_mode_switches_take_effect(h):
    node = h.node()
    rec = Recorder(node)
    svc = h.service(node, "manual")
    txid = node.send("dev0", "dev1", COIN)["txid"]
    time.sleep(QUIET)
    assert node.chain.head.height == 0 and node.tx(txid)["status"] == "pending"

    state = svc.set_mining("auto")
    assert state["mode"] == "auto"
    wait_until(lambda: node.tx(txid)["status"] == "confirmed", what="auto mode to mine the waiting tx")
    assert node.chain.head.height == 1

    svc.set_mining("off")
    txid2 = node.send("dev2", "dev3", COIN)["txid"]
    time.sleep(QUIET)
    assert node.chain.head.height == 1 and node.tx(txid2)["status"] == "pending"

    # manual mining still works while the service is off
    node.mine(1)
    assert node.tx(txid2)["status"] == "confirmed"

    svc.set_mining("manual")
    assert svc.mining_state()["mode"] == "manual"
    changes = [(e.mode, e.active) for e in rec.of(ev.MiningStateChanged)]
    assert ("auto", False) in changes and ("off", False) in changes and ("manual", False) in changes
    assert ("auto", True) in changes  # the miner reported that it started searching
    with pytest.raises(Exception) as info:
        svc.set_mining("turbo")
    assert getattr(info.value, "code", None) == "bad-mining-mode"


def test_interval_mode_mines_empty_blocks_on_schedule(h):
    node = h.node(target_spacing=1)
    svc = h.service(node, "interval")
    wait_until(lambda: node.chain.head.height >= 2, timeout=8, what="two interval blocks")
    svc.set_mining("manual")
    time.sleep(0.3)  # a block already sealed when the mode changed may still land
    height = node.chain.head.height
    time.sleep(1.3)  # longer than the spacing: no block comes in manual mode
    assert node.chain.head.height == height


def test_traffic_generator_fills_the_mempool(h):
    node = h.node()
    rec = Recorder(node)
    svc = h.service(node, "manual", traffic=20)
    wait_until(lambda: len(node.mempool) >= 15, timeout=10, what="15 generated transactions")
    svc.set_traffic(0)
    time.sleep(0.3)  # let a send in flight land
    size = len(node.mempool)
    time.sleep(0.5)
    assert len(node.mempool) == size, "traffic kept flowing after set_traffic(0)"
    added = rec.of(ev.TxAdded)
    assert len(added) >= 15
    senders = {a.sender for a in added}
    assert len(senders) >= 3, "traffic should come from several dev accounts"
    assert len({a.fee for a in added}) > 1, "fees should vary"
    assert all(a.fee >= REGTEST.min_fee for a in added)
    # the generated transactions are valid: one block takes every ready one
    ready = sum(1 for _ in node.mempool.iter_by_fee_rate())
    result = node.mine(1)
    assert len(node.block(result["blocks"][0])["txs"]) == ready


def test_running_node_reports_traffic_and_mode(tmp_path):
    d = tmp_path / "chain"
    Node.create(d, "regtest").close()
    with RunningNode(d, mining="manual", traffic=0) as running:
        state = running.service.set_traffic(20)
        assert state["traffic"] == 20.0 and state["mode"] == "manual"
        wait_until(lambda: len(running.node.mempool) >= 5, what="traffic through RunningNode")
        assert (d / "node.json").exists()
    assert not (d / "node.json").exists() and not (d / ".cookie").exists()
    with Node.open(d) as node:
        assert len(node.mempool) >= 5  # saved on close


def test_the_node_answers_for_its_service(h):
    """NodeAPI on the in-process node: the mining controls go to the service that runs it, if any."""
    node = h.node()
    state = node.mining_state()
    assert state == {"mode": "manual", "workers": state["workers"], "active": False, "traffic": 0.0,
                     "error": None}
    for call in (lambda: node.set_mining("auto"), lambda: node.set_traffic(1), lambda: node.set_workers(1),
                 node.stop_node):
        with pytest.raises(Exception) as info:
            call()
        assert getattr(info.value, "code", None) == "no-service"
    svc = h.service(node, "manual")
    assert node.set_mining("off")["mode"] == "off" and svc.mode == "off"
    assert node.mining_state() == svc.mining_state()
    with pytest.raises(Exception) as info:
        node.stop_node()  # a service without an owner to shut down (RunningNode is one)
    assert getattr(info.value, "code", None) == "no-daemon"
    svc.stop()
    assert node.service is None


def test_stop_over_the_api_stops_a_running_node(tmp_path):
    d = tmp_path / "chain"
    Node.create(d, "regtest").close()
    with RunningNode(d, mining="manual", traffic=0) as running:
        assert running.node.stop_node() == {"stopping": True}
        assert running.stopped.wait(5)


# -- events ---------------------------------------------------------------------------------------


def test_events_for_a_tx_life(h):
    node = h.node(mempool_max_bytes=149 * 3)
    rec = Recorder(node)
    a = node.send("dev0", "dev1", COIN, fee=2_000)["txid"]
    replaced = node.send("dev0", "dev1", COIN, fee=2_200, nonce=0)  # exactly +10%
    assert replaced["replaced"] == a
    b = replaced["txid"]
    low = node.send("dev2", "dev3", COIN, fee=1_500)["txid"]
    mid = node.send("dev4", "dev3", COIN, fee=3_000)["txid"]
    evicting = node.send("dev5", "dev3", COIN, fee=4_000)  # the pool holds three transfers: the cheapest goes
    assert evicting["evicted"] == [low]
    result = node.mine(1)

    added = {e.txid: e for e in rec.of(ev.TxAdded)}
    assert added[b].replaced == a and added[b].nonce == 0 and added[b].fee == 2_200
    removed = {(e.txid, e.reason) for e in rec.of(ev.TxRemoved)}
    assert (a, "replaced") in removed
    assert (low, "evicted") in removed
    assert (b, "included") in removed
    assert (evicting["txid"], "included") in removed
    connected = rec.of(ev.BlockConnected)
    assert [c.hash for c in connected] == result["blocks"]
    assert set(connected[0].txs) == {b, evicting["txid"], mid}
    mined = rec.of(ev.BlockMined)
    assert [m.hash for m in mined] == result["blocks"] and mined[0].hashes >= 1
    for e in rec.events:
        d = e.to_dict()
        assert d["event"] == type(e).__name__


def test_expired_removal_carries_its_reason(tmp_path):
    now = {"t": float(REGTEST.genesis_time + 1_000)}
    node = Node.create(tmp_path / "chain", "regtest", clock=lambda: now["t"])
    try:
        rec = Recorder(node)
        waiting = node.send("dev3", "dev1", COIN, nonce=5)  # a nonce gap: never in a template
        assert waiting["ready"] is False
        now["t"] += REGTEST.mempool_expiry + 1
        node.mine(1)
        assert (waiting["txid"], "expired") in {(e.txid, e.reason) for e in rec.of(ev.TxRemoved)}
        assert waiting["txid"] not in node.mempool
    finally:
        node.close()


def test_invalidated_removal_carries_its_code(h, tmp_path):
    a, b = h.node("a"), h.node("b")
    rec = Recorder(a)
    pending = a.send("dev0", "dev1", COIN)["txid"]
    b.send("dev0", "dev2", COIN)  # the same sender and nonce, spent differently elsewhere
    b.mine(1, to="dev5")
    b.export_blocks(str(tmp_path / "b1.blocks"))
    assert a.import_blocks(str(tmp_path / "b1.blocks"))["connected"] == 1
    assert (pending, "invalid:nonce-too-low") in {(e.txid, e.reason) for e in rec.of(ev.TxRemoved)}
    assert pending not in a.mempool
    a.close()
    h.nodes.remove(a)
    with Node.open(tmp_path / "a") as reopened:
        assert len(reopened.mempool) == 0  # the dropped tx is gone from disk too


# -- reorg ----------------------------------------------------------------------------------------


def test_reorg_from_an_imported_heavier_branch(h, tmp_path):
    """
    A:  genesis - a1(tx1: dev0 n0 -> dev1, tx2: dev1 n0 -> dev2) - a2
    B:  genesis - b1(txB: dev0 n0 -> dev3) - b2 - b3        (more work: A reorgs to it)
    tx2 returns to A's mempool; tx1 cannot (dev0's nonce 0 is spent by txB on the new branch).
    """
    a, b = h.node("a"), h.node("b")
    rec = Recorder(a)
    tx1 = a.send("dev0", "dev1", COIN)["txid"]
    tx2 = a.send("dev1", "dev2", 2 * COIN)["txid"]
    a_blocks = a.mine(2)["blocks"]
    assert a.tx(tx2)["status"] == "confirmed"

    txb = b.send("dev0", "dev3", 5 * COIN)["txid"]
    b_blocks = b.mine(3, to="dev5")["blocks"]  # another beneficiary: b1 can never equal a1
    export = tmp_path / "b.blocks"
    b.export_blocks(str(export))
    before = len(rec.events)

    result = a.import_blocks(str(export))
    assert result["reorg"] == 1 and result["height"] == 3 and result["head"] == b_blocks[-1]
    assert [r["depth"] for r in result["reorgs"]] == [2]

    new = rec.events[before:]
    reorgs = [e for e in new if isinstance(e, ev.Reorg)]
    assert len(reorgs) == 1
    r = reorgs[0]
    assert r.depth == 2 and r.old_head == a_blocks[-1] and r.new_head in b_blocks
    assert r.returned_txs == [tx2]
    connected = [e.hash for e in new if isinstance(e, ev.BlockConnected)]
    assert connected == b_blocks  # every block of the winning branch, in order
    assert a.chain.head.hash.hex() == b_blocks[-1]

    assert a.tx(tx2)["status"] == "pending"
    assert a.tx(txb)["status"] == "confirmed"
    assert tx1 not in {t["txid"] for t in a.mempool_view()}
    with pytest.raises(Exception) as info:
        a.tx(tx1)
    assert getattr(info.value, "code", None) == "tx-not-found"
    assert a.verify()["ok"] is True

    # the returned tx is persisted: it is still pending after a restart, and the conflicting one is not
    a.close()
    h.nodes.remove(a)
    with Node.open(tmp_path / "a") as reopened:
        assert [t["txid"] for t in reopened.mempool_view()] == [tx2]
        assert reopened.chain.head.hash.hex() == b_blocks[-1]
