"""Peers: who is connected, their last Status, scores, bans with reasons, and the address book on disk.

Scoring follows the gossip spec's split: an IGNOREd message (duplicate, unknown parent, too early) costs
nothing; a REJECTed one (invalid) lowers the sender's score, and at BAN_SCORE the peer is sent Goodbye and
banned for BAN_SECONDS. The node key (node.key, Ed25519 seed) names this node to its peers across restarts.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from chain import crypto
from node.p2p.messages import Status
from node.p2p.transport import ConnId
from storage.files import write_private

NODE_KEY = "node.key"
PEER_BOOK = "peers.json"
BAN_SCORE = -100
BAN_SECONDS = 600.0
# What a REJECTed object costs its sender: one invalid block bans; a few bad transactions or votes do too.
PENALTY = {"block": -100, "response": -100, "malformed": -50, "tx": -25, "vote": -25, "evidence": -25}
PEER_TIMEOUT = 6.0  # seconds without any message: the peer left


def load_node_key(datadir: Path) -> crypto.KeyPair:
    """The node's persistent identity: created on first use, kept in the data dir (mode 0600)."""
    path = Path(datadir) / NODE_KEY
    try:
        seed = bytes.fromhex(path.read_text().strip())
        if len(seed) == 32:
            return crypto.KeyPair.from_seed(seed)
    except (OSError, ValueError):
        pass
    key = crypto.KeyPair.generate()
    write_private(path, key.seed().hex() + "\n", sync=True)
    return key


@dataclass
class Peer:
    """One connection. `node_id` and `status` are known once its Status arrived (handshaken)."""

    conn: ConnId
    address: str  # host:port we dial it on (an inbound peer's: its host and the listen port it announced)
    direction: str  # outbound (we dialled) or inbound
    node_id: bytes = b""
    status: Status | None = None
    connected_at: float = field(default_factory=time.time)
    last_seen: float = field(default_factory=time.monotonic)
    score: int = 0
    latency_ms: float | None = None
    messages_in: int = 0
    messages_out: int = 0
    gossip_dropped: int = 0
    blocks_received: int = 0
    txs_received: int = 0
    active: bool = False  # the one connection we use to this node (two may exist: both dialled)

    def view(self, hrp: str | None = None) -> dict:
        s = self.status
        return {"node_id": self.node_id.hex(), "address": self.address, "direction": self.direction,
                "head_height": s.head_height if s else None, "head": s.head.hex() if s else None,
                "chain_work": hex(s.chain_work) if s else None,
                "finalized_epoch": s.finalized_epoch if s else None,
                "justified_epoch": s.justified_epoch if s else None,
                "score": self.score,
                "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 2),
                "connected_since": round(self.connected_at, 3), "messages_in": self.messages_in,
                "messages_out": self.messages_out, "gossip_dropped": self.gossip_dropped,
                "blocks_received": self.blocks_received, "txs_received": self.txs_received}


@dataclass
class Ban:
    node_id: bytes
    address: str
    reason: str
    until: float  # wall clock

    def view(self) -> dict:
        return {"node_id": self.node_id.hex(), "address": self.address, "reason": self.reason,
                "until": round(self.until, 3), "seconds_left": max(0, round(self.until - time.time()))}


class PeerBook:
    """Addresses to dial (given with --peer, `net connect`, or learned from inbound peers) and bans,
    saved in peers.json so a restarted node finds its peers and remembers whom it banned."""

    def __init__(self, datadir: Path) -> None:
        self.path = Path(datadir) / PEER_BOOK
        self.addresses: list[str] = []
        self.bans: dict[bytes, Ban] = {}
        try:
            data = json.loads(self.path.read_text())
            self.addresses = [str(a) for a in data.get("addresses", [])]
            for b in data.get("bans", []):
                ban = Ban(bytes.fromhex(b["node_id"]), b["address"], b["reason"], float(b["until"]))
                if ban.until > time.time():
                    self.bans[ban.node_id] = ban
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no book yet, or unreadable: start empty

    def save(self) -> None:
        tmp = self.path.with_name(PEER_BOOK + ".tmp")
        data = {"addresses": self.addresses, "bans": [b.view() for b in self.bans.values()]}
        try:
            tmp.write_text(json.dumps(data, indent=1))
            os.replace(tmp, self.path)
        except OSError:
            pass

    def add(self, address: str) -> None:
        if address not in self.addresses:
            self.addresses.append(address)
            self.save()

    def remove(self, address: str) -> None:
        if address in self.addresses:
            self.addresses.remove(address)
            self.save()

    def ban(self, node_id: bytes, address: str, reason: str, seconds: float = BAN_SECONDS) -> Ban:
        ban = Ban(node_id, address, reason, time.time() + seconds)
        self.bans[node_id] = ban
        self.save()
        return ban

    def banned(self, node_id: bytes) -> Ban | None:
        ban = self.bans.get(node_id)
        if ban is not None and ban.until <= time.time():
            del self.bans[node_id]
            self.save()
            return None
        return ban
