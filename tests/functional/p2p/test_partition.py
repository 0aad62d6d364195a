"""`net partition` / `net heal` on real node processes (issue 13): the lighter side reorgs on heal.

    A ── B      C partitioned: A and B mine 3 blocks, C mines 1 with its own tx (lighter);
     \\  /      on `net heal` C redials both, takes the heavier chain and its tx is pending again
      C
"""

from __future__ import annotations

import json

import pytest

from tests.functional.p2p.helpers import NodeProc, chaintop, peer_count, start_triangle, wait_for

pytestmark = pytest.mark.slow


def test_a_partitioned_node_mines_alone_and_reorgs_onto_the_heavier_side_on_heal(tmp_path, procs):
    a, b, c = start_triangle(tmp_path, procs)

    r = chaintop(tmp_path / "c", "net", "partition", "--json")
    assert r.returncode == 0, r.stderr
    cut = json.loads(r.stdout)
    assert cut["partitioned"] is True
    assert sorted(p["address"] for p in cut["dropped"]) == sorted([a.address, b.address])
    wait_for("C alone", lambda: peer_count(c) == 0 and peer_count(a) == 1 and peer_count(b) == 1)
    again = chaintop(tmp_path / "c", "net", "partition")
    assert again.returncode != 0 and "already-partitioned" in again.stderr
    refused = chaintop(tmp_path / "c", "net", "connect", a.address)
    assert refused.returncode != 0 and "partitioned" in refused.stderr

    a.client.mine(3)  # A and B: height 5
    wait_for("B follows A", lambda: b.client.status()["height"] == 5)
    # B reached 5 through its link to A, while C was neither dialled nor accepted: it saw none of it
    view = c.client.peers()
    assert view["partitioned"] is True and view["peers"] == [] and view["connecting"] == []
    assert c.client.status()["height"] == 2
    txid = c.client.send("dev0", "dev1", 10**8)["txid"]
    side = c.client.mine(1, to="dev1")["blocks"][0]  # C alone: height 3, less work than A's 5
    assert txid in c.client.block(side)["txs"]

    r = chaintop(tmp_path / "c", "net", "heal", "--json")
    assert r.returncode == 0, r.stderr
    healed = json.loads(r.stdout)
    assert healed["partitioned"] is False
    assert sorted(healed["reconnecting"]) == sorted([a.address, b.address])
    head = a.client.status()["head"]
    wait_for("C reorged onto A's chain", lambda: c.client.status()["head"] == head)
    wait_for("C peered with both again", lambda: peer_count(c) == 2)
    assert c.client.block(side)["confirmations"] == 0  # its block is off the main chain
    assert c.client.tx(txid)["status"] == "pending"  # and its tx is back in its mempool
    assert c.client.peers()["partitioned"] is False


def test_a_partition_is_not_kept_across_a_restart(tmp_path, procs):
    """As bitcoind's `setnetworkactive false`: a node restarted while partitioned comes back on the network
    (it dials the peers in its address book, which a partition leaves as they were) and catches up."""
    a, b, c = start_triangle(tmp_path, procs)
    r = chaintop(tmp_path / "c", "net", "partition")
    assert r.returncode == 0, r.stderr
    wait_for("C alone", lambda: peer_count(c) == 0)
    c.stop()
    a.client.mine(2)
    wait_for("B follows A", lambda: b.client.status()["height"] == 4)

    # no --peer (it was started with A's and B's): what it dials comes from its address book
    again = NodeProc(tmp_path / "c", "--listen", "127.0.0.1:0")
    procs.append(again)
    wait_for("C peered with both again", lambda: peer_count(again) == 2)
    assert again.client.peers()["partitioned"] is False
    head = a.client.status()["head"]
    wait_for("C caught up", lambda: again.client.status()["head"] == head)
    r = chaintop(tmp_path / "c", "net", "heal")
    assert r.returncode != 0 and "not-partitioned" in r.stderr
