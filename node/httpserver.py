"""A lean HTTP/1.1 server for the RPC: an asyncio protocol over httptools (llhttp, the parser Node.js runs).

Why not aiohttp, which served the RPC before: measured here side by side with the same client, a bare aiohttp
server answers 10,300 keep-alive requests a second and an httptools protocol 35,900 (2,900 vs 6,300 with a new
connection per call). The RPC needs little of a web framework — one POST route, one event stream, a chunked
reply for long calls — so the framework's cost per request was most of ours. What a hardened server owes its
clients is kept, each a line or two here: keep-alive and pipelined requests answered in order, an idle timeout
(a connection that never sends a whole request head, slowloris included), a body timeout, a body cap read to
its end before the 413 (so a polite client can read the answer), `Expect: 100-continue`, a connection cap
answered 503, write backpressure for streams.

The handler sees one `HttpRequest` and returns a `Reply`, or an awaitable of one (an asyncio future or a
coroutine): the connection then waits for it before it answers the next request. A handler that streams
(`HttpConnection.stream`) returns None from its coroutine: it has written the response itself.
"""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import httptools

_PHRASES = {s.value: s.phrase for s in HTTPStatus}
SWEEP = 0.25  # seconds between deadline checks: timeouts are this much late at most
JSON = "application/json"
REFUSED_BODY = b'{"error": "too many connections to this node; try again"}'


class HttpRequest:
    """One request. Header names are lowercased and, like the values, left as bytes (latin-1 on the wire):
    the few a handler reads are compared as bytes, none decoded on the way."""

    __slots__ = ("method", "url", "headers", "body", "keep_alive")

    def __init__(self, method: bytes, url: bytes, headers: dict[bytes, bytes], body: bytes | None,
                 keep_alive: bool) -> None:
        self.method, self.url, self.headers = method, url, headers
        self.body = body  # None: over the server's body cap (and read to its end, then dropped)
        self.keep_alive = keep_alive

    @property
    def path(self) -> str:
        return self.url.split(b"?", 1)[0].decode("latin-1") or "/"


class Reply:
    __slots__ = ("status", "body", "headers", "close")

    def __init__(self, status: int, body: bytes, headers: tuple[tuple[str, str], ...] = (),
                 close: bool = False, content_type: str = JSON) -> None:
        self.status, self.body, self.close = status, body, close
        self.headers = (("Content-Type", content_type),) + headers


_OK_JSON = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"


def render(reply: Reply, close: bool) -> bytes:
    if reply.status == 200 and not close and len(reply.headers) == 1 and reply.headers[0][1] == JSON:
        return _OK_JSON % len(reply.body) + reply.body  # the common answer, without building its head
    last = (f"Content-Length: {len(reply.body)}",) + (("Connection: close",) if close else ())
    return _head(reply.status, reply.headers, last) + reply.body


def _head(status: int, headers: tuple[tuple[str, str], ...], last: tuple[str, ...]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_PHRASES.get(status, 'Unknown')}", *(f"{k}: {v}" for k, v in headers),
             *last]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class HttpServer:
    """The protocol factory for `loop.create_server`, and what its connections share."""

    def __init__(self, handler: Callable[[HttpConnection, HttpRequest], Any], *, idle_timeout: float,
                 body_timeout: float, max_body: int, max_connections: int,
                 timeout_reply: Callable[[bool], Reply]) -> None:
        self.handler = handler
        self.idle_timeout, self.body_timeout = idle_timeout, body_timeout
        self.max_body, self.max_connections = max_body, max_connections
        self.timeout_reply = timeout_reply  # (over the cap?) -> what a body that never finished is answered
        self.connections: set[HttpConnection] = set()
        self.closing = False
        self._sweeper: asyncio.TimerHandle | None = None

    def start_sweeping(self) -> None:
        """Timeouts are deadlines on each connection, checked a few times a second by one timer here: a
        timer per request (armed and cancelled twice each) cost a third of a request's time on the loop."""
        now = time.monotonic()
        for conn in list(self.connections):
            conn.check_deadline(now)
        self._sweeper = asyncio.get_running_loop().call_later(SWEEP, self.start_sweeping)

    def stop_sweeping(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()

    def __call__(self) -> asyncio.Protocol:
        if len(self.connections) >= self.max_connections:
            return _Refuse()
        return HttpConnection(self)

    def close_all(self) -> None:
        """Stop: no new request is read; an idle connection closes now, a busy one after its answer."""
        self.closing = True
        for conn in list(self.connections):
            if not conn.busy:
                conn.close()


class HttpConnection(asyncio.Protocol):
    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.closed = False  # the peer is gone, or we closed: a long call's stop check reads this
        self.busy = False  # a request is being answered (or streamed)
        self.keep = True  # False: close after the answer under way (an Upgrade request: we speak HTTP only)
        self.queue: deque[HttpRequest] = deque()  # pipelined requests waiting their turn
        self._deadline = 0.0  # monotonic time the current wait ends (0: none); the server's sweep reads it
        self._late: Callable[[], None] | None = None  # what happens then
        self._paused = False  # the transport's buffer is over its high-water mark (write backpressure)
        self._drained: asyncio.Event | None = None  # made when a stream first waits for a drain
        self._reset()

    def _reset(self) -> None:
        self._url = b""
        self._headers: dict[bytes, bytes] = {}
        self._body: list[bytes] = []
        self._size = 0
        self._too_large = False

    # -- asyncio.Protocol --------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.server.connections.add(self)
        self._arm(self.server.idle_timeout, self._idle)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        self._disarm()
        self.resume_writing()  # wake a writer waiting for drain: its next write sees `closed`

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drained is not None:
            self._drained.set()

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # the request was answered as plain HTTP; nothing follows it
            self.keep = False
            if not self.busy:
                self.close()
        except httptools.HttpParserError:
            self._fail(400, b'{"error": "malformed HTTP request"}')

    def eof_received(self) -> bool:
        return False  # half-closed by the client: close once what we write is sent

    # -- httptools callbacks -----------------------------------------------------------------
    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.lower()] = value

    def on_headers_complete(self) -> None:
        length = self._headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.server.max_body:
            self._too_large = True
        self._arm(self.server.body_timeout, self._body_late)
        if self._headers.get(b"expect", b"").lower() == b"100-continue" and not self._too_large:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._too_large or self._size > self.server.max_body:
            self._too_large, self._body = True, []
            if self._size > 64 * self.server.max_body:  # read to its end, within reason: then answer anyway
                self._answer_now(self.server.timeout_reply(True))
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._disarm()
        parts = self._body
        body = None if self._too_large else parts[0] if len(parts) == 1 else b"".join(parts)
        request = HttpRequest(self.parser.get_method(), self._url, self._headers, body,
                              self.parser.should_keep_alive())
        self._reset()
        if self.busy or self.queue:
            self.queue.append(request)
            self.transport.pause_reading()  # one request ahead is plenty: no unbounded pipeline buffer
            return
        self._serve(request)

    # -- answering ---------------------------------------------------------------------------
    def _serve(self, request: HttpRequest) -> None:
        self.busy = True
        try:
            result = self.server.handler(self, request)
        except Exception:  # noqa: BLE001 — a bug in a handler: say it on the node's terminal, answer 500
            traceback.print_exc(file=sys.stderr)
            result = Reply(500, b'{"error": "internal server error"}', close=True)
        if isinstance(result, Reply):
            self._finish(request, result)
        elif result is not None:
            future = asyncio.ensure_future(result)
            future.add_done_callback(lambda f: self._finish(request, _outcome(f)))
        else:
            self._finish(request, None)

    def _finish(self, request: HttpRequest, reply: Reply | None) -> None:
        """Write the answer (None: the handler wrote its own), then take the next request or wait for one."""
        if self.closed:
            return
        if reply is None:  # a stream the handler ended: it closes the connection
            self.close()
            return
        close = reply.close or not request.keep_alive or self.server.closing or not self.keep
        self.transport.write(render(reply, close))
        if close:
            self.close()
            return
        self.busy = False
        if self.queue:
            self.transport.resume_reading()
            self._serve(self.queue.popleft())
        else:
            self._arm(self.server.idle_timeout, self._idle)

    def _answer_now(self, reply: Reply) -> None:
        """An answer that cannot wait for the request to end (a body too large or too late): then close."""
        self._disarm()
        if not self.busy and not self.closed:
            self.transport.write(render(reply, True))
        self.close()

    def _fail(self, status: int, body: bytes) -> None:
        self._answer_now(Reply(status, body, close=True))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._disarm()
            self.transport.close()

    # -- streams: a response written piece by piece (chunked), then the connection closes ----
    def stream(self, status: int, headers: tuple[tuple[str, str], ...]) -> None:
        self.transport.write(_head(status, headers, ("Transfer-Encoding: chunked", "Connection: close")))

    async def write_chunk(self, data: bytes) -> None:
        """One piece of a stream; waits while the client reads slower than we write (backpressure)."""
        if self.closed:
            raise ConnectionResetError("the client hung up")
        self.transport.write(b"%x\r\n%s\r\n" % (len(data), data))
        if self._paused:
            if self._drained is None:
                self._drained = asyncio.Event()
            self._drained.clear()
            while self._paused and not self.closed:
                await self._drained.wait()

    def end_stream(self) -> None:
        if not self.closed:
            self.transport.write(b"0\r\n\r\n")

    # -- timers ------------------------------------------------------------------------------
    def _arm(self, seconds: float, then: Callable[[], None]) -> None:
        self._deadline, self._late = time.monotonic() + seconds, then

    def _disarm(self) -> None:
        self._deadline, self._late = 0.0, None

    def check_deadline(self, now: float) -> None:
        if self._late is not None and now >= self._deadline:
            late, self._late, self._deadline = self._late, None, 0.0
            late()

    def _idle(self) -> None:
        """No whole request head within the idle timeout (a quiet keep-alive connection, or a trickle)."""
        if not self.busy:
            self.close()

    def _body_late(self) -> None:
        self._answer_now(self.server.timeout_reply(self._too_large))


def _outcome(future: asyncio.Future) -> Reply | None:
    if future.cancelled():
        return Reply(503, b'{"error": "the node is stopping"}', close=True)
    exc = future.exception()
    if exc is None:
        return future.result()
    if isinstance(exc, ConnectionError):
        return Reply(499, b"{}", close=True)  # the client hung up: nothing to tell the node's terminal
    traceback.print_exception(exc, file=sys.stderr)
    return Reply(500, b'{"error": "internal server error"}', close=True)


class _Refuse(asyncio.Protocol):
    """One connection too many: say so and close, without reading the request."""

    def connection_made(self, transport) -> None:
        transport.write(render(Reply(503, REFUSED_BODY), True))
        transport.close()
