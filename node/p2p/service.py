"""The network service: the node's own network thread running the protocol on an asyncio loop (zmq.asyncio),
and the thread-safe calls the node's facade makes into it (peers, net connect, net disconnect)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
from pathlib import Path

import zmq

from chain.errors import NotFound, StoreError, UsageError
from node import events as ev
from node.p2p import messages as m
from node.p2p.peers import PeerBook, load_node_key
from node.p2p.protocol import Network
from node.p2p.transport import ZmqTransport

P2P_INFO = "p2p.json"  # the address and node id a running node listens on (removed when it stops)
DEFAULT_HOST = "127.0.0.1"  # loopback unless the user names another address (a classroom LAN, say)


def parse_address(text: str, what: str = "--peer", allow_zero: bool = False) -> tuple[str, int]:
    """HOST:PORT (or :PORT / PORT for loopback) -> (host, port); UsageError bad-address otherwise."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep:
        host, port_text = "", text.strip()
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    low = 0 if allow_zero else 1
    if not low <= port <= 65535 or any(c in host for c in "/ []"):
        raise UsageError("bad-address", f"{what} {text!r}: give HOST:PORT, e.g. 127.0.0.1:"
                                        f"{'0 (any free port)' if allow_zero else '20001'}")
    return host or DEFAULT_HOST, port


def read_p2p_info(datadir: str | Path) -> dict | None:
    try:
        info = json.loads((Path(datadir) / P2P_INFO).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and "listen" in info else None


class P2PService:
    """Started by RunningNode when the node is on a network; attaches itself as node.network."""

    def __init__(self, node, datadir: str | Path, listen: str | None = None,
                 peers: list[str] | None = None) -> None:
        self.node = node
        self.host, self.port = parse_address(listen or f"{DEFAULT_HOST}:0", "--listen", allow_zero=True)
        self.dial = [f"{h}:{p}" for h, p in (parse_address(a) for a in peers or [])]
        self.datadir = Path(datadir)
        self.key = load_node_key(self.datadir)
        self.book = PeerBook(self.datadir)
        for address in self.dial:
            self.book.add(address)
        self.net: Network | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: str | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="p2p", daemon=True)
        self._unsubscribe = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> P2PService:
        self._thread.start()
        if not self._ready.wait(15) or self._error:
            self._thread.join(5)
            raise StoreError("p2p-bind-failed", self._error or "the network thread did not start")
        self._unsubscribe = self.node.events.subscribe(self._on_event)
        validator = self.node.validator
        if validator is not None:
            validator.gossip_listeners.append(self.net.on_node_event)
        self.node.network = self
        info = {"pid": os.getpid(), "listen": self.address, "node_id": self.key.pubkey.hex()}
        tmp = self.datadir / (P2P_INFO + ".tmp")
        tmp.write_text(json.dumps(info))
        tmp.replace(self.datadir / P2P_INFO)
        return self

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.BlockConnected | ev.Reorg | ev.TxAdded):
            self.net.on_node_event(event)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        transport = ZmqTransport(self.key.pubkey)
        try:
            self.port = await transport.listen(self.host, self.port)
        except zmq.ZMQError as e:
            self._error = (f"cannot listen on {self.host}:{self.port}: {e.strerror}; pick another --listen "
                           "(port 0 = any free port)")
            transport.close()
            self._ready.set()
            return
        self._stop = asyncio.Event()
        self.net = Network(self.node, self.key, transport, self.book, self.port)
        self.net.loop = self.loop
        self.net.start(list(dict.fromkeys(self.dial + self.book.addresses)))
        self._ready.set()
        await self._stop.wait()
        await self.net.close()
        transport.close()

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self.node.validator is not None and self.net is not None:
            listeners = self.node.validator.gossip_listeners
            if self.net.on_node_event in listeners:
                listeners.remove(self.net.on_node_event)
        if self.loop is not None and self._stop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        with contextlib.suppress(FileNotFoundError):
            (self.datadir / P2P_INFO).unlink()
        if getattr(self.node, "network", None) is self:
            self.node.network = None

    def _call(self, coro):
        """Run a coroutine on the network loop from another thread (an RPC thread, the TUI)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    # -- what the node's facade offers (NodeAPI: peers, net_connect, net_disconnect) --------
    def peers_view(self) -> dict:
        async def view() -> dict:
            net = self.net
            return {"node_id": net.node_id.hex(), "listen": self.address,
                    "peers": [p.view() for p in net.active_peers()],
                    "connecting": sorted(p.address for p in net.peers.values()
                                         if p.direction == "outbound" and p.status is None),
                    "banned": [b.view() for b in self.book.bans.values() if b.until > time.time()],
                    "disconnected": sorted(net.blocked_addresses), "partitioned": net.partitioned,
                    "conflicts": list(net.conflicts.values()),
                    "syncing_from": net.sync.syncing_from, "synced_blocks": net.sync.synced_blocks,
                    **net.stats}

        return self._call(view())

    def connect(self, address: str) -> dict:
        host, port = parse_address(address, "peer")
        address = f"{host}:{port}"
        if address in (self.address, f"localhost:{self.port}"):
            raise UsageError("self-connection", f"{address} is this node's own address")

        async def dial() -> dict:
            net = self.net
            if net.partitioned:
                raise UsageError("partitioned", "this node is partitioned: `chaintop net heal` reconnects it")
            net.blocked_addresses.discard(address)
            net.conflicts.pop(address, None)  # asked again: judged again
            for node_id, where in list(net.blocked_ids.items()):  # the nodes we cut off at that address
                if where == address:
                    del net.blocked_ids[node_id]
            self.book.add(address)
            net.dial(address)
            return {"connecting": address}

        return self._call(dial())

    def disconnect(self, peer: str) -> dict:
        text = peer.strip().lower()

        async def cut() -> dict:
            net = self.net
            matches = [p for p in net.peers.values()
                       if p.address == text or (len(text) >= 8 and p.node_id.hex().startswith(text))]
            if not matches and ":" in text:
                host, port = parse_address(text, "peer")
                matches = [p for p in net.peers.values() if p.address == f"{host}:{port}"]
            if not matches:
                raise NotFound("unknown-peer", f"no peer {peer!r}; `chaintop peers` lists them (address or "
                                               "node id, at least 8 hex digits)")
            ids = {p.node_id for p in matches if p.node_id}
            matches += [p for p in net.peers.values() if p.node_id in ids and p not in matches]
            out = []
            for p in matches:
                if p.status is not None:
                    await net.send(p, m.Goodbye(m.GOODBYE_REQUESTED, "disconnected by request"), wait=0.2)
                net.blocked_addresses.add(p.address)
                if p.node_id:
                    net.blocked_ids[p.node_id.hex()] = p.address
                self.book.remove(p.address)
                net.drop(p, "disconnect-requested", hangup=True)
                out.append({"node_id": p.node_id.hex() or None, "address": p.address})
            return {"disconnected": out}

        return self._call(cut())

    def partition(self) -> dict:
        """Goodbye to every peer, then refuse and dial none until `heal` (a network split at this node)."""

        async def cut() -> dict:
            net = self.net
            if net.partitioned:
                raise UsageError("already-partitioned",
                                 "this node is already partitioned: `chaintop net heal` reconnects it")
            net.partitioned = True
            active = {p.conn for p in net.active_peers()}
            dropped, redial = [], []
            for p in list(net.peers.values()):
                if p.direction == "outbound" and p.address not in redial:
                    redial.append(p.address)
                if p.status is not None:
                    bye = m.Goodbye(m.GOODBYE_REQUESTED, "partitioned (`net partition`)")
                    await net.send(p, bye, wait=0.2)
                if p.conn in active:
                    dropped.append({"node_id": p.node_id.hex(), "address": p.address})
                net.drop(p, "partitioned", hangup=True)
            net.partition_redial = redial
            return {"partitioned": True, "dropped": dropped,
                    "will_redial": sorted(set(redial + self.book.addresses) - net.blocked_addresses)}

        return self._call(cut())

    def heal(self) -> dict:
        """Lift `partition`: dial the peers it dropped and the address book again (sync then catches up)."""

        async def mend() -> dict:
            net = self.net
            if not net.partitioned:
                raise UsageError("not-partitioned", "this node is not partitioned (`chaintop net partition` "
                                                    "splits it off)")
            net.partitioned = False
            addresses = [a for a in dict.fromkeys(net.partition_redial + self.book.addresses)
                         if a not in net.blocked_addresses and a != self.address]
            net.partition_redial = []
            for address in addresses:
                net.conflicts.pop(address, None)
                net.dial(address)
            return {"partitioned": False, "reconnecting": addresses}

        return self._call(mend())
