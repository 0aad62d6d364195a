"""Partitions of a 4-node devnet started by `chaintop devnet up` (issue 13), asserted from chain state (RPC).

PoW, a 2|2 split (`net disconnect` across it):      node1 ── node2      node3 ── node4
    the lighter side (1, 2) mines one block with its own tx, the heavier (3, 4) two; on `net connect`
    1 and 2 reorg onto 3's chain and the tx is pending again.
PoS and hybrid, node1 partitioned (`net partition`): it runs validators i % 4 == 0, a quarter of the stake,
    so its side can justify nothing (2/3 needed) while the other three (3/4) keep finalizing. On `net heal`
    node1 converges to the majority and no node reverts a block it had finalized.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from node.client import RpcClient
from tests.functional.p2p.helpers import BOUND, chaintop, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def devnet(tmp_path):
    """`start(network, *args)` runs `devnet up --nodes 4 --mining manual` in tmp_path; every node is stopped
    at the end (`devnet down`), also when the test fails."""
    root = tmp_path / "net"
    started = []

    def start(network: str, *args: str) -> list[RpcClient]:
        r = chaintop(tmp_path, "--network", network, "devnet", "up", "--nodes", "4", "--dir", str(root),
                     "--mining", "manual", *args, "--json", timeout=120)
        started.append(True)
        assert r.returncode == 0, r.stdout + r.stderr
        nodes = json.loads(r.stdout)["nodes"]
        assert [n["validators"] for n in nodes] == ["0/4", "1/4", "2/4", "3/4"]
        return [RpcClient.for_datadir(Path(n["datadir"])) for n in nodes]

    yield start
    if started:
        down = chaintop(tmp_path, "devnet", "down", "--dir", str(root), "--json", timeout=90)
        assert down.returncode == 0, down.stderr
        assert json.loads(down.stdout)["killed"] == []


def peers(client: RpcClient) -> set[str]:
    return {p["address"] for p in client.peers()["peers"]}


def head(client: RpcClient) -> str:
    return client.status()["head"]


def test_pow_devnet_split_two_and_two_the_lighter_side_reorgs_and_its_tx_is_pending_again(devnet):
    n1, n2, n3, n4 = nodes = devnet("pow-devnet")
    wait_for("a full mesh", lambda: all(len(peers(n)) == 3 for n in nodes))
    n1.mine(1)
    wait_for("everyone at height 1", lambda: all(n.status()["height"] == 1 for n in nodes))

    far = [n3.peers()["listen"], n4.peers()["listen"]]
    for near in (n1, n2):
        for address in far:
            near.net_disconnect(address)
    wait_for("two sides", lambda: peers(n1) == {n2.peers()["listen"]} and peers(n3) == {far[1]})

    txid = n1.send("dev0", "dev5", 3 * 10**8)["txid"]
    light = n1.mine(1, to="dev1")["blocks"][0]
    wait_for("node2 has node1's block", lambda: head(n2) == light)
    n3.mine(1, to="dev2")
    wait_for("node4 has node3's block", lambda: n4.status()["height"] == 2)
    heavy = n4.mine(1, to="dev3")["blocks"][0]
    wait_for("node3 follows node4", lambda: head(n3) == heavy)
    assert n3.block(2)["hash"] != light  # two branches from height 1: 1 block (with the tx) against 2
    assert n2.tx(txid)["status"] == "confirmed"

    for near in (n1, n2):
        for address in far:
            near.net_connect(address)
    wait_for("all four on the heavier branch", lambda: all(head(n) == heavy for n in nodes))
    for n in (n1, n2):
        assert n.block(light)["confirmations"] == 0, "the lighter side's block is off its main chain"
        assert n.tx(txid)["status"] == "pending"
        assert txid in {t["txid"] for t in n.mempool_view()}
    assert n1.account("dev5")["balance"] == n4.account("dev5")["balance"]  # the transfer is undone


def _finality(client: RpcClient) -> dict:
    return client.finality()


def _why(nodes: list[RpcClient]) -> str:
    """Each node's head and checkpoints, for a failed wait's message."""
    rows = []
    for i, n in enumerate(nodes):
        s, f = n.status(), n.finality()
        rows.append(f"node{i + 1}: height {s['height']} head {s['head'][:8]} peers {len(n.peers()['peers'])} "
                    f"justified {f['justified_epoch']} finalized {f['finalized_epoch']} "
                    f"{f['finalized_root'][:8]} participation {f['participation']} "
                    f"epoch {f['current_epoch']}")
    return "\n".join(rows)


def wait_all(what: str, nodes: list[RpcClient], predicate, bound: float = BOUND) -> None:
    try:
        wait_for(what, predicate, bound)
    except AssertionError as e:
        raise AssertionError(f"{e}\n{_why(nodes)}") from None


def _mine_until(client: RpcClient, done, limit: int = 120) -> None:
    """Hybrid: mine one block at a time, leaving the other nodes' committees a moment to gossip their votes
    on it, until `done()`."""
    for _ in range(limit):
        if done():
            return
        client.mine(1)
        time.sleep(0.05)
    assert done(), client.finality()


def _on_main_chain(client: RpcClient, root: str) -> bool:
    return client.block(root)["main_chain"]


def _check_heal(minority: RpcClient, majority: list[RpcClient], before: dict[int, dict]) -> None:
    """After heal: the minority converges to the majority, and every node's finalized checkpoint from before
    the heal is still on its main chain (finalized epochs never go back)."""
    ref = majority[0]
    wait_for("node1 on the majority's finalized checkpoint",
             lambda: _finality(minority)["finalized_root"] == _finality(ref)["finalized_root"])
    wait_for("node1 on the majority's chain", lambda: head(minority) == head(ref) or
             _on_main_chain(minority, head(ref)))
    for i, client in enumerate([minority, *majority]):
        f = _finality(client)
        assert f["finalized_epoch"] >= before[i]["finalized_epoch"]
        assert _on_main_chain(client, before[i]["finalized_root"]), f"node{i + 1} reverted a finalized block"


def test_hybrid_devnet_minority_stalls_finality_and_never_reverts_it_on_heal(devnet):
    nodes = devnet("devnet")  # the default devnet is the hybrid: PoW blocks, FFG votes on epoch checkpoints
    n1, n2 = nodes[0], nodes[1]
    wait_for("a full mesh", lambda: all(len(n.peers()["peers"]) == 3 for n in nodes))
    _mine_until(n2, lambda: all(_finality(n)["finalized_epoch"] >= 1 for n in nodes))

    n1.net_partition()
    wait_for("node1 alone", lambda: not n1.peers()["peers"] and all(len(peers(n)) == 2 for n in nodes[1:]))
    stalled = _finality(n1)
    goal = _finality(n2)["finalized_epoch"] + 2
    _mine_until(n2, lambda: all(_finality(n)["finalized_epoch"] >= goal for n in nodes[1:]))
    for _ in range(3 * 8):  # three epochs of its own: more blocks (more work) than the majority's, no votes
        n1.mine(1, to="dev1")
    assert n1.status()["height"] > n2.status()["height"]
    lonely = _finality(n1)
    assert lonely["finalized_epoch"] == stalled["finalized_epoch"], "a quarter of the stake finalized"
    assert lonely["justified_epoch"] <= stalled["justified_epoch"] + 1
    before = {i: _finality(n) | {"height": n.status()["height"]} for i, n in enumerate(nodes)}

    n1.net_heal()
    _check_heal(n1, nodes[1:], before)
    assert n1.status()["height"] < before[0]["height"], "node1 gave up its longer, heavier branch"


def test_pos_devnet_minority_stalls_finality_and_never_reverts_it_on_heal(devnet):
    nodes = devnet("pos-devnet", "--slot-time", "0.5")  # an epoch of 8 slots every 4 s
    n1, n2 = nodes[0], nodes[1]
    wait_all("every node finalized an epoch", nodes,
             lambda: all(_finality(n)["finalized_epoch"] >= 1 for n in nodes), bound=BOUND * 2)

    n1.net_partition()
    wait_for("node1 alone", lambda: not n1.peers()["peers"])
    time.sleep(4.5)  # an epoch for the votes node1 had before it was cut off to be counted
    stalled = _finality(n1)
    goal = _finality(n2)["finalized_epoch"] + 2
    wait_all("the majority finalizes two more epochs", nodes,
             lambda: all(_finality(n)["finalized_epoch"] >= goal for n in nodes[1:]), bound=BOUND * 2)
    lonely = _finality(n1)
    assert lonely["current_epoch"] > stalled["current_epoch"] + 1, "node1's slots went on"
    assert lonely["finalized_epoch"] == stalled["finalized_epoch"], "a quarter of the stake finalized"
    # its own quarter, more once the leak drains the absent three quarters on its branch; under 2/3 still
    assert lonely["participation"] < 2 / 3
    before = {i: _finality(n) for i, n in enumerate(nodes)}

    n1.net_heal()
    _check_heal(n1, nodes[1:], before)
