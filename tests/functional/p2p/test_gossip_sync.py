"""Real node processes on loopback gossip, sync and ban (issue 12): regtest chains (instant proof of work),
small block counts, every wait bounded, every process stopped.

    A ── B          a tx sent to A is mined by B; B's blocks reach A
    A ── B ── C     C starts later and syncs A's 1,000 blocks through B
    X → A ── B      X (this test, a raw ZeroMQ peer) gossips an invalid block: A bans X, B never sees it
"""

from __future__ import annotations

import asyncio
import time

import pytest

from chain.block import Block
from chain.errors import NotFound
from node.p2p import gossip
from node.p2p import messages as m
from node.p2p.transport import ZmqTransport
from tests.functional.p2p.helpers import NodeProc, chaintop, init, peer_count, wait_for

pytestmark = pytest.mark.slow


def test_a_tx_sent_to_one_node_is_mined_by_another(tmp_path, procs):
    a = NodeProc(init(tmp_path / "a"), "--listen", "127.0.0.1:0")
    procs.append(a)
    b = NodeProc(init(tmp_path / "b"), "--peer", a.address)
    procs.append(b)
    wait_for("A and B peered", lambda: peer_count(a) == 1 and peer_count(b) == 1)
    txid = a.client.send("dev0", "dev1", 10**8)["txid"]
    wait_for("the tx gossiped to B", lambda: any(t["txid"] == txid for t in b.client.mempool_view()))
    mined = b.client.mine(1)["blocks"][0]
    wait_for("B's block reached A", lambda: a.client.status()["head"] == mined)
    tx = a.client.tx(txid)
    assert tx["status"] == "confirmed" and tx["block"] == mined
    assert a.client.mempool_view() == []
    peer = a.client.peers()["peers"][0]
    assert peer["blocks_received"] == 1 and peer["score"] == 0
    assert peer["node_id"] == b.client.peers()["node_id"]


def test_a_later_node_syncs_1000_blocks(tmp_path, procs):
    # the chain is made before the network exists: 1,000 regtest blocks mined by an embedded node
    r = chaintop(init(tmp_path / "a"), "mine", "--blocks", "1000")
    assert r.returncode == 0, r.stderr
    a = NodeProc(tmp_path / "a", "--listen", "127.0.0.1:0")
    procs.append(a)
    b = NodeProc(init(tmp_path / "b"), "--peer", a.address)
    procs.append(b)
    head = a.client.status()["head"]
    wait_for("B synced A's chain", lambda: b.client.status()["head"] == head, bound=60)
    c = NodeProc(init(tmp_path / "c"), "--peer", b.address)  # knows only B
    procs.append(c)
    wait_for("C synced through B", lambda: c.client.status()["head"] == head, bound=60)
    assert c.client.peers()["synced_blocks"] == 1000
    assert c.client.block(500)["hash"] == a.client.block(500)["hash"]
    c.stop()
    r = chaintop(tmp_path / "c", "db", "verify", "--json")
    assert r.returncode == 0, r.stdout + r.stderr


def _invalid_block(good: Block) -> Block:
    """A block with valid proof of work whose header commits to transactions it does not carry."""
    from chain.consensus import pow as pow_rules

    header = good.header.replace(tx_root=bytes(32))
    limit = pow_rules.bits_to_target(header.bits)
    nonce = 0
    while int.from_bytes(header.with_nonce(nonce).hash, "big") > limit:
        nonce += 1
    return Block(header.with_nonce(nonce), good.txs)


async def _attack(address: str, status: m.Status, block: Block) -> list[m.Message]:
    """Be a peer of A for a moment: handshake, gossip `block`, return what A said until it hung up."""
    t = ZmqTransport(b"X" * 32)
    conn = t.dial(address)
    heard: list[m.Message] = []
    try:
        assert await t.send(conn, m.encode(status), wait=5)
        deadline = time.monotonic() + 10
        topic = gossip.topic_name(status.chain_id, status.genesis, gossip.BLOCKS)
        sent = False
        while time.monotonic() < deadline:
            try:
                _, data = await asyncio.wait_for(t.recv(), 0.5)
            except TimeoutError:
                continue
            msg = m.decode(data)
            heard.append(msg)
            if isinstance(msg, m.Status) and not sent:
                gossiped = m.Gossip(topic, int(time.time() * 1_000_000), block.encode())
                sent = await t.send(conn, m.encode(gossiped))
            if isinstance(msg, m.Goodbye):
                break
    finally:
        t.close()
    return heard


def test_an_invalid_gossiped_block_bans_its_sender_and_is_never_relayed(tmp_path, procs):
    a = NodeProc(init(tmp_path / "a"), "--listen", "127.0.0.1:0")
    procs.append(a)
    b = NodeProc(init(tmp_path / "b"), "--peer", a.address)
    procs.append(b)
    wait_for("A and B peered", lambda: peer_count(a) == 1)
    # a valid block template on A's head, spoiled
    r = chaintop(tmp_path / "spare", "init", "--network", "regtest")
    assert r.returncode == 0
    from node.node import Node

    with Node.open(tmp_path / "spare") as spare:
        spare.mine(1)
        good = spare.chain.get_block_at(1)
        s = spare.chain_summary()
    bad = _invalid_block(good)
    status = m.Status(m.PROTOCOL_VERSION, s["chain_id"], s["genesis"], s["genesis"], 0, 2, 0, bytes(32), 0,
                      b"X" * 32, 0)
    heard = asyncio.run(_attack(a.address, status, bad))
    goodbyes = [x for x in heard if isinstance(x, m.Goodbye)]
    assert goodbyes and goodbyes[0].reason == m.GOODBYE_BANNED
    assert "bad-tx-root" in goodbyes[0].detail
    banned = a.client.peers()["banned"]
    assert [x["node_id"] for x in banned] == [(b"X" * 32).hex()]
    assert "invalid block" in banned[0]["reason"] and "bad-tx-root" in banned[0]["reason"]
    time.sleep(0.5)  # had A relayed it, B would hold it by now (loopback delivers in milliseconds)
    for node in (a, b):
        with pytest.raises(NotFound):
            node.client.block(bad.hash.hex())
    assert a.client.status()["height"] == 0 and b.client.status()["height"] == 0
    assert peer_count(a) == 1  # B, untouched
    # a banned node id is refused when it comes back
    heard = asyncio.run(_attack(a.address, status, good))
    assert any(isinstance(x, m.Goodbye) and x.reason == m.GOODBYE_BANNED for x in heard)
    assert b.client.status()["height"] == 0
