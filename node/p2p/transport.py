"""The one small transport interface the protocol speaks to, and its ZeroMQ (pyzmq, ROUTER/DEALER) version.

A connection is named by a ConnId: ("in", routing id) for a peer that dialled our ROUTER, ("out", address)
for our DEALER dialled to a peer's ROUTER. Both carry messages both ways, and every message arrives with the
ConnId it came on, so the protocol above can score and ban a sender. ZeroMQ frames, reconnects a DEALER by
itself (a restarted peer comes back on the same address) and bounds its queues (high-water marks); a frame
over MAX_FRAME makes it drop that connection. Another transport (libp2p) implements the same five methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
from abc import ABC, abstractmethod

import zmq
import zmq.asyncio

from node.p2p.messages import MAX_FRAME

ConnId = tuple[str, object]  # ("in", bytes routing id) or ("out", "host:port")
HWM = 2_000  # messages queued per connection before a send fails (gossip then drops and counts)


class Transport(ABC):
    """What the protocol needs from a network: listen, dial, hang up, send a frame, receive a frame."""

    @abstractmethod
    async def listen(self, host: str, port: int) -> int:
        """Start accepting peers; returns the port bound (port 0 picks a free one)."""

    @abstractmethod
    def dial(self, address: str) -> ConnId:
        """Connect to a peer's listen address (host:port); reconnects by itself until hung up."""

    @abstractmethod
    def hangup(self, conn: ConnId) -> None:
        """Forget a connection (an outgoing one is closed; an incoming one is only forgotten)."""

    @abstractmethod
    async def send(self, conn: ConnId, data: bytes, wait: float = 0.0) -> bool:
        """Queue one frame; False if it could not be queued within `wait` seconds (not connected, full)."""

    @abstractmethod
    async def recv(self) -> tuple[ConnId, bytes]:
        """The next frame from any connection."""

    @abstractmethod
    def close(self) -> None:
        """Close every socket at once (no lingering)."""


class ZmqTransport(Transport):
    """ROUTER for peers that dial us, a DEALER per peer we dial. Must be used from one asyncio loop."""

    def __init__(self, identity: bytes, inbox_size: int = 10_000) -> None:
        self.ctx = zmq.asyncio.Context()
        self.identity = b"c" + identity  # routing ids may not start with a zero byte
        self.router: zmq.asyncio.Socket | None = None
        self.dealers: dict[str, zmq.asyncio.Socket] = {}
        self.inbox: asyncio.Queue[tuple[ConnId, bytes]] = asyncio.Queue(inbox_size)
        self._tasks: dict[object, asyncio.Task] = {}
        self.peer_hosts: dict[bytes, str] = {}  # routing id -> the IP an inbound peer connects from

    def _configure(self, sock: zmq.asyncio.Socket) -> None:
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME)
        sock.setsockopt(zmq.SNDHWM, HWM)
        sock.setsockopt(zmq.RCVHWM, HWM)
        # ZMTP heartbeats: a silent dead TCP peer is noticed and the DEALER reconnects
        sock.setsockopt(zmq.HEARTBEAT_IVL, 1000)
        sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, 3000)
        sock.setsockopt(zmq.RECONNECT_IVL, 100)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, 1000)

    async def listen(self, host: str, port: int) -> int:
        router = self.ctx.socket(zmq.ROUTER)
        self._configure(router)
        router.setsockopt(zmq.ROUTER_MANDATORY, 1)  # a send to a peer that left fails instead of vanishing
        router.setsockopt(zmq.ROUTER_HANDOVER, 1)  # a peer that reconnects takes its routing id back
        try:
            if port == 0:
                port = router.bind_to_random_port(f"tcp://{host}", min_port=20_000, max_port=32_767)
            else:
                router.bind(f"tcp://{host}:{port}")
        except zmq.ZMQError:
            router.close(0)
            raise
        self.router = router
        self._tasks["router"] = asyncio.ensure_future(self._pump_router(router))
        return port

    def dial(self, address: str) -> ConnId:
        if address not in self.dealers:
            sock = self.ctx.socket(zmq.DEALER)
            self._configure(sock)
            sock.setsockopt(zmq.IDENTITY, self.identity)
            sock.setsockopt(zmq.IMMEDIATE, 1)  # queue only on a live connection: no backlog for a dead peer
            sock.connect(f"tcp://{address}")
            self.dealers[address] = sock
            self._tasks[address] = asyncio.ensure_future(self._pump_dealer(address, sock))
        return ("out", address)

    def hangup(self, conn: ConnId) -> None:
        kind, key = conn
        if kind == "out":
            sock = self.dealers.pop(key, None)
            task = self._tasks.pop(key, None)
            if task is not None:
                task.cancel()
            if sock is not None:
                sock.close(0)

    async def send(self, conn: ConnId, data: bytes, wait: float = 0.0) -> bool:
        kind, key = conn
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            try:
                if kind == "out":
                    sock = self.dealers.get(key)
                    if sock is None:
                        return False
                    await sock.send(data, zmq.NOBLOCK, copy=False)
                else:
                    if self.router is None:
                        return False
                    await self.router.send_multipart([key, data], zmq.NOBLOCK, copy=False)
                return True
            except zmq.Again:
                pass  # not connected yet, or the high-water mark: wait if the caller can
            except zmq.ZMQError as e:
                if e.errno != errno.EHOSTUNREACH:
                    raise
                return False  # the peer that dialled us is gone
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.005)

    async def recv(self) -> tuple[ConnId, bytes]:
        return await self.inbox.get()

    async def _pump_router(self, sock: zmq.asyncio.Socket) -> None:
        with contextlib.suppress(asyncio.CancelledError, zmq.ZMQError):
            while True:
                frames = await sock.recv_multipart(copy=False)
                if len(frames) == 2:  # anything else is not our protocol: dropped
                    ident = frames[0].bytes
                    if ident not in self.peer_hosts:
                        self.peer_hosts[ident] = frames[1].get("Peer-Address") or "?"
                    await self.inbox.put((("in", ident), frames[1].bytes))

    async def _pump_dealer(self, address: str, sock: zmq.asyncio.Socket) -> None:
        with contextlib.suppress(asyncio.CancelledError, zmq.ZMQError):
            while True:
                frames = await sock.recv_multipart(copy=True)
                if len(frames) == 1:
                    await self.inbox.put((("out", address), frames[0]))

    def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        for sock in [*self.dealers.values(), *([self.router] if self.router else [])]:
            sock.close(0)
        self.dealers.clear()
        self.router = None
        self.ctx.term()
