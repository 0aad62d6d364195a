"""Wire messages of the p2p protocol: one ZeroMQ frame each, a kind byte then the body, size-limited.

The vocabulary is the Ethereum consensus p2p spec's: Status first, Ping/Pong, Goodbye with a reason,
gossip on topics, and request/response (BlocksByRange, BlocksByRoot, pending transactions) with result
codes. Blocks, transactions, votes and evidence travel in chain/'s own canonical encodings (chain/codec.py);
this module only frames them. Decoding rejects unknown kinds, out-of-bound lengths and trailing bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chain.codec import Reader, Writer
from chain.errors import DecodeError

PROTOCOL_VERSION = 2  # 2: Status carries the justified epoch
MAX_FRAME = 4 << 20  # one message; the transport also makes ZeroMQ drop a peer that sends a bigger one
MAX_GOSSIP_DATA = 2 << 20  # a block (max_block_bytes is 1 MB on every preset) with room to spare
MAX_TOPIC = 128
MAX_ITEMS = 256  # items in one response chunk
MAX_RESPONSE_BYTES = 3 << 20  # a responder cuts a chunk before it passes this
MAX_RANGE = 64  # blocks one BlocksByRange may ask for
MAX_ROOTS = 64
MAX_DETAIL = 256

# Goodbye reasons: 1-3 are the consensus spec's, 128+ are ours.
GOODBYE_SHUTDOWN, GOODBYE_IRRELEVANT, GOODBYE_FAULT = 1, 2, 3
GOODBYE_BANNED, GOODBYE_DUPLICATE, GOODBYE_REQUESTED, GOODBYE_SELF = 128, 129, 130, 131
CONFLICT_TAG = "finality conflict:"  # opens an irrelevant-network Goodbye's detail for a conflicting finality
GOODBYE_NAMES = {GOODBYE_SHUTDOWN: "client-shutdown", GOODBYE_IRRELEVANT: "irrelevant-network",
                 GOODBYE_FAULT: "fault", GOODBYE_BANNED: "banned", GOODBYE_DUPLICATE: "duplicate-connection",
                 GOODBYE_REQUESTED: "disconnect-requested", GOODBYE_SELF: "self-connection"}

# Request methods and response result codes (the spec's SUCCESS, INVALID_REQUEST, SERVER_ERROR,
# RESOURCE_UNAVAILABLE).
BLOCKS_BY_RANGE, BLOCKS_BY_ROOT, PENDING_TXS = 1, 2, 3
SUCCESS, INVALID_REQUEST, SERVER_ERROR, RESOURCE_UNAVAILABLE = 0, 1, 2, 3
RESULT_NAMES = {SUCCESS: "success", INVALID_REQUEST: "invalid-request", SERVER_ERROR: "server-error",
                RESOURCE_UNAVAILABLE: "resource-unavailable"}


@dataclass(frozen=True, slots=True)
class Status:
    """The handshake, and refreshed now and then: who we are and where our chain stands."""

    KIND = 1
    version: int
    chain_id: int
    genesis: bytes
    head: bytes
    head_height: int
    chain_work: int
    finalized_epoch: int
    finalized_root: bytes
    justified_epoch: int  # beside the spec's fields: hybrid fork choice is the highest justified first
    node_id: bytes
    listen_port: int  # 0: not listening (a peer cannot dial us back)

    def write(self, w: Writer) -> None:
        w.u16(self.version).u32(self.chain_id).fixed(self.genesis, 32).fixed(self.head, 32)
        w.u64(self.head_height).fixed(self.chain_work.to_bytes(32, "big"), 32).u64(self.finalized_epoch)
        w.fixed(self.finalized_root, 32).u64(self.justified_epoch).fixed(self.node_id, 32)
        w.u16(self.listen_port)

    @classmethod
    def read(cls, r: Reader) -> Status:
        return cls(r.u16(), r.u32(), r.fixed(32), r.fixed(32), r.u64(), int.from_bytes(r.fixed(32), "big"),
                   r.u64(), r.fixed(32), r.u64(), r.fixed(32), r.u16())


@dataclass(frozen=True, slots=True)
class Ping:
    KIND = 2
    seq: int

    def write(self, w: Writer) -> None:
        w.u64(self.seq)

    @classmethod
    def read(cls, r: Reader) -> Ping:
        return cls(r.u64())


@dataclass(frozen=True, slots=True)
class Pong:
    KIND = 3
    seq: int

    def write(self, w: Writer) -> None:
        w.u64(self.seq)

    @classmethod
    def read(cls, r: Reader) -> Pong:
        return cls(r.u64())


@dataclass(frozen=True, slots=True)
class Goodbye:
    KIND = 4
    reason: int
    detail: str = ""

    def write(self, w: Writer) -> None:
        w.u8(self.reason).var(self.detail.encode()[:MAX_DETAIL], MAX_DETAIL)

    @classmethod
    def read(cls, r: Reader) -> Goodbye:
        reason = r.u8()
        return cls(reason, r.var(MAX_DETAIL).decode("utf-8", "replace"))

    @property
    def reason_name(self) -> str:
        return GOODBYE_NAMES.get(self.reason, f"reason-{self.reason}")


@dataclass(frozen=True, slots=True)
class Gossip:
    """An object published on a topic; `sent_at` (µs) is when its origin first published it, so each hop can
    tell its propagation delay (meaningful where the clocks agree: one machine, or NTP)."""

    KIND = 5
    topic: str
    sent_at: int
    data: bytes

    def write(self, w: Writer) -> None:
        w.var(self.topic.encode(), MAX_TOPIC).u64(self.sent_at).var(self.data, MAX_GOSSIP_DATA)

    @classmethod
    def read(cls, r: Reader) -> Gossip:
        topic = r.var(MAX_TOPIC)
        try:
            text = topic.decode("ascii")
        except UnicodeDecodeError:
            raise DecodeError("bad-topic", "a topic is ASCII") from None
        return cls(text, r.u64(), r.var(MAX_GOSSIP_DATA))


@dataclass(frozen=True, slots=True)
class Request:
    KIND = 6
    req_id: int
    method: int
    body: bytes = b""

    def write(self, w: Writer) -> None:
        w.u32(self.req_id).u8(self.method).var(self.body, 32 * MAX_ROOTS + 8)

    @classmethod
    def read(cls, r: Reader) -> Request:
        return cls(r.u32(), r.u8(), r.var(32 * MAX_ROOTS + 8))


@dataclass(frozen=True, slots=True)
class Response:
    """One chunk of the answer to request `req_id`; the last has done=True. A failing request answers one
    chunk with its result code and no items."""

    KIND = 7
    req_id: int
    code: int
    done: bool
    items: tuple[bytes, ...] = field(default=())

    def write(self, w: Writer) -> None:
        w.u32(self.req_id).u8(self.code).u8(int(self.done)).u16(len(self.items))
        for item in self.items:
            w.var(item, MAX_GOSSIP_DATA)

    @classmethod
    def read(cls, r: Reader) -> Response:
        req_id, code, done, count = r.u32(), r.u8(), r.u8(), r.u16()
        if done > 1:
            raise DecodeError("bad-flag", "done is 0 or 1")
        if count > MAX_ITEMS:
            raise DecodeError("length-out-of-bounds", f"{count} items exceeds {MAX_ITEMS}")
        return cls(req_id, code, bool(done), tuple(r.var(MAX_GOSSIP_DATA) for _ in range(count)))


Message = Status | Ping | Pong | Goodbye | Gossip | Request | Response
KINDS: dict[int, type] = {cls.KIND: cls for cls in (Status, Ping, Pong, Goodbye, Gossip, Request, Response)}


def encode(msg: Message) -> bytes:
    w = Writer().u8(msg.KIND)
    msg.write(w)
    data = w.getvalue()
    if len(data) > MAX_FRAME:
        raise ValueError(f"a {type(msg).__name__} of {len(data)} bytes exceeds the frame limit")
    return data


def status_version(data: bytes) -> int | None:
    """The protocol version a Status frame names, read before the rest (whose layout it decides)."""
    return int.from_bytes(data[1:3], "big") if len(data) >= 3 and data[0] == Status.KIND else None


def decode(data: bytes) -> Message:
    """One frame -> one message; DecodeError for anything else (the sender's score pays for it)."""
    if len(data) > MAX_FRAME:
        raise DecodeError("oversized", f"a frame of {len(data)} bytes exceeds {MAX_FRAME}")
    if not data:
        raise DecodeError("truncated", "an empty frame")
    cls = KINDS.get(data[0])
    if cls is None:
        raise DecodeError("unknown-message", f"message kind {data[0]}")
    r = Reader(data[1:])
    msg = cls.read(r)
    r.finish()
    return msg


# -- request bodies ------------------------------------------------------------------------------
def encode_range(start: int, count: int) -> bytes:
    return Writer().u64(start).u16(count).getvalue()


def decode_range(body: bytes) -> tuple[int, int]:
    r = Reader(body)
    start, count = r.u64(), r.u16()
    r.finish()
    if not 1 <= count <= MAX_RANGE:
        raise DecodeError("bad-range", f"count {count} is outside 1..{MAX_RANGE}")
    return start, count


def encode_roots(roots: list[bytes]) -> bytes:
    w = Writer().u16(len(roots))
    for root in roots:
        w.fixed(root, 32)
    return w.getvalue()


def decode_roots(body: bytes) -> list[bytes]:
    r = Reader(body)
    n = r.u16()
    if not 1 <= n <= MAX_ROOTS:
        raise DecodeError("bad-roots", f"{n} roots is outside 1..{MAX_ROOTS}")
    roots = [r.fixed(32) for _ in range(n)]
    r.finish()
    return roots


def encode_limit(limit: int) -> bytes:
    return Writer().u16(limit).getvalue()


def decode_limit(body: bytes) -> int:
    r = Reader(body)
    n = r.u16()
    r.finish()
    return n


def chunk_items(items: list[bytes]) -> list[list[bytes]]:
    """Split response items into chunks within MAX_ITEMS and MAX_RESPONSE_BYTES (at least one chunk)."""
    chunks: list[list[bytes]] = [[]]
    size = 0
    for item in items:
        if chunks[-1] and (len(chunks[-1]) >= MAX_ITEMS or size + len(item) > MAX_RESPONSE_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += len(item) + 4
    return chunks
