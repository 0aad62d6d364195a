"""The peer protocol on the network thread's asyncio loop: Status handshake, Ping, Goodbye, scores and bans,
gossip validated through the node before it is relayed. Request/response and sync live in sync.py.

Work reaches the node only through its locked facade (node/node.py), on two one-thread executors: `write`
(accepting blocks, transactions, votes: in arrival order) and `read` (serving peers), so a long block
validation never stalls pings, and the loop never holds the node lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from chain.consensus.beacon import Attestation, AttesterSlashing, ProposerSlashing
from chain.errors import DecodeError
from node import events as ev
from node.p2p import gossip, handlers
from node.p2p import messages as m
from node.p2p.peers import BAN_SCORE, BAN_SECONDS, PEER_TIMEOUT, PENALTY, Peer, PeerBook
from node.p2p.sync import Syncer
from node.p2p.transport import ConnId, Transport

GOSSIP_QUEUE = 2_000  # gossiped objects waiting for validation; past it new ones are dropped and counted
STATUS_EVERY = 2.0  # seconds between Status refreshes to every connection (also our keepalive)
PING_EVERY = 2.0
TX_BATCH = 256  # gossiped transactions handed to the node at once


class Network:
    def __init__(self, node, key, transport: Transport, book: PeerBook, listen_port: int) -> None:
        self.node = node
        self.node_id: bytes = key.pubkey
        self.transport = transport
        self.book = book
        self.listen_port = listen_port
        self.peers: dict[ConnId, Peer] = {}
        self.by_id: dict[bytes, ConnId] = {}  # node id -> its active connection
        # what `net disconnect` cut off until `net connect`: addresses, and node ids with their address
        self.blocked_addresses: set[str] = set()
        self.blocked_ids: dict[str, str] = {}
        # `net partition`: every peer dropped, none dialled or accepted until `net heal` (which redials these)
        self.partitioned = False
        self.partition_redial: list[str] = []
        # peers refused because their finalized checkpoint conflicts with ours (address -> what and why):
        # after a partition long enough for each side to finalize alone, the chains never join
        self.conflicts: dict[str, dict] = {}
        self.seen = gossip.SeenCache()
        self.seen_objects = gossip.SeenCache()  # block hashes and txids that came from the network
        self.gossip_queue: asyncio.Queue = asyncio.Queue(GOSSIP_QUEUE)
        self.local_queue: asyncio.Queue = asyncio.Queue()
        self.write_pool = ThreadPoolExecutor(1, thread_name_prefix="p2p-accept")
        self.read_pool = ThreadPoolExecutor(1, thread_name_prefix="p2p-serve")
        self.summary = node.chain_summary()
        self.genesis = self.summary["genesis"]
        self.stats = {"gossip_dropped": 0, "rejected": 0, "ignored": 0, "relayed": 0}
        self.sync = Syncer(self)
        self._ping_seq = 0
        self._pings: dict[tuple[ConnId, int], float] = {}
        self._tasks: list[asyncio.Task] = []
        self._closing = False

    # -- the node, off the loop ------------------------------------------------------------
    async def write(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.write_pool, fn, *args)

    async def read(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.read_pool, fn, *args)

    def topic(self, kind: str) -> str:
        return gossip.topic_name(self.node.params.chain_id, self.genesis, kind)

    def our_status(self) -> m.Status:
        s = self.summary
        return m.Status(m.PROTOCOL_VERSION, s["chain_id"], s["genesis"], s["head"], s["height"],
                        s["chain_work"], s["finalized_epoch"], s["finalized_root"], s["justified_epoch"],
                        self.node_id,
                        self.listen_port)

    async def refresh_summary(self) -> None:
        self.summary = await self.read(self.node.chain_summary)

    # -- running ---------------------------------------------------------------------------
    def start(self, dial: list[str]) -> None:
        for address in dial:
            self.dial(address)
        loop = asyncio.get_running_loop()
        for coro in (self._recv_loop(), self._gossip_worker(), self._local_worker(), self._tick_loop()):
            self._tasks.append(loop.create_task(coro))

    def dial(self, address: str) -> Peer | None:
        if self.partitioned:
            return None
        conn = self.transport.dial(address)
        peer = self.peers.get(conn)
        if peer is None:
            peer = self.peers[conn] = Peer(conn, address, "outbound")
        return peer

    async def close(self) -> None:
        self._closing = True
        for peer in list(self.peers.values()):
            if peer.status is not None:
                await self.send(peer, m.Goodbye(m.GOODBYE_SHUTDOWN, "node stopping"), wait=0.2)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.sync.cancel()
        self.write_pool.shutdown(wait=True, cancel_futures=True)
        self.read_pool.shutdown(wait=True, cancel_futures=True)

    async def send(self, peer: Peer, msg: m.Message, wait: float = 0.0) -> bool:
        ok = await self.transport.send(peer.conn, m.encode(msg), wait)
        if ok:
            peer.messages_out += 1
        return ok

    def active_peers(self) -> list[Peer]:
        return [self.peers[c] for c in self.by_id.values() if c in self.peers]

    # -- receiving -------------------------------------------------------------------------
    async def _recv_loop(self) -> None:
        while True:
            conn, data = await self.transport.recv()
            try:
                await self._on_frame(conn, data)
            except Exception:  # noqa: BLE001 — one bad message must not end the network thread: a bug, logged
                traceback.print_exc(file=sys.stderr)

    async def _on_frame(self, conn: ConnId, data: bytes) -> None:
        peer = self.peers.get(conn)
        if peer is None:
            if conn[0] != "in":
                return  # a dealer we hung up
            ident = conn[1]
            claimed = ident[1:] if isinstance(ident, bytes) else b""
            if self.book.banned(claimed) or claimed.hex() in self.blocked_ids:
                await self.transport.send(conn, m.encode(m.Goodbye(m.GOODBYE_BANNED, "banned")))
                return
            if self.partitioned:
                why = m.Goodbye(m.GOODBYE_REQUESTED, "partitioned (`net partition`) until `net heal`")
                await self.transport.send(conn, m.encode(why))
                return
            host = self.transport.peer_hosts.get(ident, "?") if hasattr(self.transport, "peer_hosts") else "?"
            peer = self.peers[conn] = Peer(conn, f"{host}:?", "inbound")
        peer.last_seen = time.monotonic()
        peer.messages_in += 1
        try:
            msg = m.decode(data)
        except DecodeError as e:
            version = m.status_version(data)
            if version is not None and version != m.PROTOCOL_VERSION:  # another release: no fault of its own
                why = f"protocol version {version}; this node speaks {m.PROTOCOL_VERSION}"
                await self.send(peer, m.Goodbye(m.GOODBYE_IRRELEVANT, why))
                self.drop(peer, "irrelevant-network", hangup=True)
                return
            await self.penalize(peer, "malformed", f"sent a malformed message ({e.code})")
            return
        if isinstance(msg, m.Status):
            await self._on_status(peer, msg)
        elif isinstance(msg, m.Goodbye):
            await self._on_goodbye(peer, msg)
        elif peer.status is None:
            await self.send(peer, self.our_status())  # Status first: tell it who we are, ignore the rest
        elif isinstance(msg, m.Ping):
            await self.send(peer, m.Pong(msg.seq))
        elif isinstance(msg, m.Pong):
            sent = self._pings.pop((peer.conn, msg.seq), None)
            if sent is not None:
                peer.latency_ms = (time.monotonic() - sent) * 1000
        elif isinstance(msg, m.Gossip):
            if not peer.active:
                return
            try:
                self.gossip_queue.put_nowait((peer, msg))
            except asyncio.QueueFull:
                peer.gossip_dropped += 1
                self.stats["gossip_dropped"] += 1
        elif isinstance(msg, m.Request):
            self.sync.serve(peer, msg)
        elif isinstance(msg, m.Response):
            self.sync.on_response(peer, msg)

    async def _on_status(self, peer: Peer, msg: m.Status) -> None:
        first = peer.status is None
        if msg.node_id == self.node_id:
            await self.send(peer, m.Goodbye(m.GOODBYE_SELF, "that is this node"))
            self.drop(peer, "self-connection", hangup=True)
            return
        if (msg.version != m.PROTOCOL_VERSION or msg.chain_id != self.summary["chain_id"]
                or msg.genesis != self.genesis):
            await self.send(peer, m.Goodbye(m.GOODBYE_IRRELEVANT, "another chain (chain id or genesis)"))
            self.drop(peer, "irrelevant-network", hangup=True)
            return
        ban = self.book.banned(msg.node_id)
        if ban is not None or msg.node_id.hex() in self.blocked_ids:
            reason = ban.reason if ban else "disconnected by request"
            await self.send(peer, m.Goodbye(m.GOODBYE_BANNED if ban else m.GOODBYE_REQUESTED, reason))
            self.drop(peer, "banned" if ban else "disconnect-requested", hangup=True)
            return
        if peer.direction == "inbound" and msg.listen_port:
            host = peer.address.rsplit(":", 1)[0]
            peer.address = f"{host}:{msg.listen_port}"
        if await self.read(self.node.finality_conflict, msg.finalized_epoch, msg.finalized_root):
            peer.node_id = msg.node_id
            await self.sync.refuse_conflict(peer, msg)
            return
        peer.node_id, peer.status = msg.node_id, msg
        if first:
            await self.send(peer, self.our_status())
        self._choose_active(peer)
        self.sync.on_status(peer)

    def _choose_active(self, peer: Peer) -> None:
        current = self.by_id.get(peer.node_id)
        if current == peer.conn:
            return
        other = self.peers.get(current) if current is not None else None
        if other is not None and other.status is not None:
            # Two connections to one node (both dialled): keep the one the lower node id dialled.
            preferred = "outbound" if self.node_id < peer.node_id else "inbound"
            if peer.direction != preferred or other.direction == preferred:
                return
            other.active = False
            peer.active = True
            self.by_id[peer.node_id] = peer.conn
            return
        peer.active = True
        self.by_id[peer.node_id] = peer.conn
        if peer.direction == "inbound" and not peer.address.endswith(":?"):
            self.book.add(peer.address)  # so a restarted node dials it back
        self.node.events.emit(ev.PeerJoined(peer.node_id.hex(), peer.address, peer.direction,
                                            peer.status.head_height))
        self.sync.on_join(peer)

    def record_conflict(self, peer: Peer, why: str) -> None:
        self.conflicts[peer.address] = {"node_id": peer.node_id.hex() or None, "address": peer.address,
                                        "reason": why}

    async def _on_goodbye(self, peer: Peer, msg: m.Goodbye) -> None:
        if msg.reason == m.GOODBYE_IRRELEVANT and msg.detail.startswith(m.CONFLICT_TAG):
            self.record_conflict(peer, "it refused this node: " + msg.detail[len(m.CONFLICT_TAG):].strip())
        # banned or cut off by request: stop redialling it (until `net connect`)
        self.drop(peer, f"goodbye:{msg.reason_name}", hangup=msg.reason in (m.GOODBYE_BANNED,
                                                                          m.GOODBYE_REQUESTED,
                                                                          m.GOODBYE_IRRELEVANT))

    def drop(self, peer: Peer, reason: str, hangup: bool = False) -> None:
        """Forget a connection's peer. An outbound one keeps redialling (the peer may be restarting)
        unless `hangup`."""
        was_active = peer.active
        node_id = peer.node_id
        peer.active = False
        if hangup or peer.direction == "inbound":
            self.peers.pop(peer.conn, None)
            self.transport.hangup(peer.conn)
        else:
            peer.status, peer.node_id, peer.score = None, b"", peer.score
        self.sync.on_leave(peer)
        if was_active and self.by_id.get(node_id) == peer.conn:
            del self.by_id[node_id]
            for other in self.peers.values():  # a second connection to the same node takes over
                if other.node_id == node_id and other.status is not None:
                    other.active = True
                    self.by_id[node_id] = other.conn
                    return
            self.node.events.emit(ev.PeerLeft(node_id.hex(), peer.address, reason))

    async def penalize(self, peer: Peer, kind: str, reason: str) -> None:
        """A REJECT: lower the score; at BAN_SCORE, Goodbye and a ban that says why."""
        self.stats["rejected"] += 1
        peer.score += PENALTY[kind]
        if peer.score > BAN_SCORE or not peer.node_id:
            if not peer.node_id and peer.score <= BAN_SCORE:
                self.drop(peer, "malformed", hangup=peer.direction == "inbound")
            return
        ban = self.book.ban(peer.node_id, peer.address, reason)
        self.node.events.emit(ev.PeerBanned(peer.node_id.hex(), peer.address, reason, BAN_SECONDS))
        await self.send(peer, m.Goodbye(m.GOODBYE_BANNED, ban.reason))
        self.drop(peer, "banned", hangup=True)

    # -- gossip ----------------------------------------------------------------------------
    async def publish(self, kind: str, data: bytes, sent_at: int | None = None,
                      exclude: Peer | None = None) -> None:
        msg = m.Gossip(self.topic(kind), sent_at or handlers.now_us(), data)
        self.seen.add(gossip.message_id(msg.topic, data))
        await self._relay(msg, exclude)

    async def _relay(self, msg: m.Gossip, exclude: Peer | None) -> None:
        frame = m.encode(msg)
        for peer in self.active_peers():
            if peer is not exclude and await self.transport.send(peer.conn, frame):
                peer.messages_out += 1

    def _next_gossip(self, item) -> str | None:
        """The kind of a queued object worth handling (ours, not seen yet), or None."""
        peer, msg = item
        if peer.conn not in self.peers:
            return None  # banned or gone meanwhile
        kind = gossip.topic_kind(msg.topic, self.summary["chain_id"], self.genesis)
        if kind is None or not self.seen.add(gossip.message_id(msg.topic, msg.data)):
            self.stats["ignored"] += 1
            return None
        return kind

    async def _gossip_worker(self) -> None:
        carry = None
        while True:
            item = carry or await self.gossip_queue.get()
            carry = None
            kind = self._next_gossip(item)
            if kind is None:
                continue
            if kind != gossip.TXS:
                results = [await handlers.HANDLERS[kind](self, *item)]
                batch = [item]
            else:  # transactions waiting in a row are accepted in one hand-off to the node
                batch = [item]
                while len(batch) < TX_BATCH and not self.gossip_queue.empty():
                    nxt = self.gossip_queue.get_nowait()
                    nxt_kind = self._next_gossip(nxt)
                    if nxt_kind == gossip.TXS:
                        batch.append(nxt)
                    elif nxt_kind is not None:
                        carry = nxt
                        self.seen_forget(nxt)
                        break
                results = await handlers.on_txs(self, batch)
            for (peer, msg), (result, reason) in zip(batch, results, strict=True):
                if result == gossip.ACCEPT:
                    self.stats["relayed"] += 1
                    await self._relay(msg, peer)
                elif result == gossip.REJECT:
                    await self.penalize(peer, {gossip.TXS: "tx", gossip.VOTES: "vote",
                                               gossip.EVIDENCE: "evidence"}.get(kind, "block"), reason)
                else:
                    self.stats["ignored"] += 1

    def seen_forget(self, item) -> None:
        """Undo _next_gossip's mark for an object put back to be handled next."""
        self.seen.forget(gossip.message_id(item[1].topic, item[1].data))

    # -- what the node did itself ----------------------------------------------------------
    def on_node_event(self, event) -> None:
        """Called on whatever thread emits (under the node lock): hand over to the loop, never block."""
        self.loop.call_soon_threadsafe(self.local_queue.put_nowait, event)

    async def _local_worker(self) -> None:
        while True:
            item = await self.local_queue.get()
            if isinstance(item, ev.BlockConnected):
                await self.refresh_summary()
                h = bytes.fromhex(item.hash)
                if self.seen_objects.add(h):  # mined or proposed here: publish it
                    raw = await self.read(self.node.block_raw, h)
                    if raw is not None:
                        await self.publish(gossip.BLOCKS, raw)
            elif isinstance(item, ev.Reorg):
                await self.refresh_summary()
            elif isinstance(item, ev.TxAdded):
                txid = bytes.fromhex(item.txid)
                if self.seen_objects.add(txid):
                    raw = await self.read(self.node.pending_tx_raw, txid)
                    if raw is not None:
                        await self.publish(gossip.TXS, raw)
            elif isinstance(item, Attestation):
                if self.seen_objects.add(item.id):
                    await self.publish(gossip.VOTES, item.encode())
            elif isinstance(item, ProposerSlashing | AttesterSlashing):
                await self.publish(gossip.EVIDENCE, handlers.encode_evidence(item))

    # -- housekeeping ----------------------------------------------------------------------
    async def _tick_loop(self) -> None:
        last_status = 0.0
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for peer in list(self.peers.values()):
                if peer.status is not None and now - peer.last_seen > PEER_TIMEOUT:
                    self.drop(peer, "timeout")
            if now - last_status >= STATUS_EVERY:
                last_status = now
                await self.refresh_summary()
                status = self.our_status()
                self._ping_seq += 1
                self._pings = {k: v for k, v in self._pings.items() if now - v < 10}
                for peer in list(self.peers.values()):
                    await self.send(peer, status)
                    if peer.active:
                        self._pings[(peer.conn, self._ping_seq)] = time.monotonic()
                        await self.send(peer, m.Ping(self._ping_seq))
                self.sync.tick()
