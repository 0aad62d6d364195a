"""The RPC server: aiohttp on its own thread and event loop, node calls on a thread pool beside it.

Why aiohttp rather than http.server: keep-alive and TCP_NODELAY done right (the stdlib server sent headers
and body in separate writes without TCP_NODELAY, so each call on a reused connection waited ~40 ms for a
delayed ACK), one event loop instead of a thread per connection, idle and body timeouts, write backpressure,
and a listen backlog and connection cap we choose. Node work never runs on the loop: a call waiting for the
node lock holds a pool thread, not every other connection.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hmac
import os
import socket
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

from node import rpc
from node.events import Event
from node.rpc import INTERNAL_ERROR, INVALID_REQUEST, LONG_CALLS, MAX_BODY, NDJSON, Dispatcher, RpcError

IDLE_TIMEOUT = 5.0  # seconds a connection may wait without a whole request (Node.js's keepAliveTimeout)
BODY_TIMEOUT = 10.0  # seconds for a request body to arrive once its headers have
MAX_CONNECTIONS = 512  # open at once; one more is answered 503 and closed
BACKLOG = 1024  # connections the kernel queues before we accept them
# Node calls run one at a time under the node lock; what runs beside it (a submission's signature check,
# OpenSSL without the GIL) gains from one thread per core, and more threads only queue for the GIL.
CALL_THREADS = max(2, os.cpu_count() or 1)
# Reads whose work is small and bounded (a few microseconds: no block decoding, no scans) are answered on
# the loop itself when the node lock is free at once: handing them to a thread and back cost more than the
# call (3,400 vs 4,600 calls/s on one connection). Anything else, or a lock someone holds, goes to the pool.
INLINE_CALLS = frozenset({"status", "account", "tx", "mining_get", "time_get", "params", "keys"})
EVENT_QUEUE = 10_000  # events buffered per /events stream; a reader slower than that loses events
UNAUTHORIZED = {"error": "unauthorized: pass the cookie from the data dir"}


class RpcServer:
    """JSON-RPC on POST (any path), server-sent events on GET /events; cookie (HTTP Basic) on both."""

    def __init__(self, dispatcher: Dispatcher, bus, cookie: str, host: str = "127.0.0.1", port: int = 0,
                 idle_timeout: float = IDLE_TIMEOUT, body_timeout: float = BODY_TIMEOUT,
                 max_connections: int = MAX_CONNECTIONS, node_lock=None) -> None:
        self.dispatcher, self.bus, self.cookie = dispatcher, bus, cookie
        self.idle_timeout, self.body_timeout = idle_timeout, body_timeout
        self.max_connections = max_connections
        self._node_lock = node_lock  # the lock the node's methods take (INLINE_CALLS); None: never inline
        self._good_auth = b"Basic " + base64.b64encode(f"{rpc.COOKIE_USER}:{cookie}".encode())
        # bound here, so a busy port is an OSError to the caller (rpc-bind-failed) before any thread starts
        self._sock = socket.create_server((host, port), backlog=BACKLOG)
        self.server_address = self._sock.getsockname()
        self.stopping = threading.Event()
        self._calls = 0  # calls being answered now: stop() lets them finish before the node closes
        self._calls_done = threading.Condition()
        self._pool = ThreadPoolExecutor(CALL_THREADS, thread_name_prefix="rpc-call")
        self._long_pool = ThreadPoolExecutor(32, thread_name_prefix="rpc-long")  # mine may take hours
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._wakers: set[asyncio.Event] = set()  # one per /events stream: set to end it at stop()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> RpcServer:
        self._thread = threading.Thread(target=self._run, name="rpc", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def _run(self) -> None:
        loop = self._loop = _new_loop()
        loop.set_exception_handler(_quiet_exception_handler)
        self._web = _CappedServer(self._handle, self.max_connections, keepalive_timeout=self.idle_timeout,
                                  access_log=None, loop=loop)
        serving = loop.create_server(self._web, sock=self._sock, backlog=BACKLOG)
        self._server = loop.run_until_complete(serving)
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    def stop(self, drain: float = 10.0) -> None:
        """Stop serving; calls under way (a `mine` ends at its next stop check) get up to `drain` seconds to
        answer, so none of them touches a node that is closing."""
        self.stopping.set()
        loop = self._loop
        if loop is not None and self._thread is not None and self._thread.is_alive():
            done = asyncio.run_coroutine_threadsafe(self._shutdown(drain), loop)
            try:
                done.result(drain + 5)
            except Exception:  # noqa: BLE001 — stopping anyway
                pass
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(5)
        else:
            self._sock.close()
        self._pool.shutdown(wait=False)
        self._long_pool.shutdown(wait=False)

    async def _shutdown(self, drain: float) -> None:
        self._server.close()
        for waker in list(self._wakers):
            waker.set()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._wait_calls, drain)
        await self._web.shutdown(1.0)

    def _wait_calls(self, drain: float) -> None:
        with self._calls_done:
            self._calls_done.wait_for(lambda: self._calls == 0, timeout=drain)

    # -- one JSON-RPC request object ---------------------------------------------------------
    def handle_one(self, request: Any, callbacks: dict | None = None) -> dict | None:
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or "method" not in request:
            return {"jsonrpc": "2.0", "id": request.get("id") if isinstance(request, dict) else None,
                    "error": RpcError(INVALID_REQUEST,
                                      "invalid request: need jsonrpc \"2.0\" and a method").to_dict()}
        rid = request.get("id")
        with self._calls_done:
            self._calls += 1
        try:
            result = self.dispatcher.call(request["method"], request.get("params"), callbacks)
        except RpcError as e:
            return {"jsonrpc": "2.0", "id": rid, "error": e.to_dict()}
        except Exception as e:  # noqa: BLE001 — a bug must answer the caller, not kill the server thread
            return {"jsonrpc": "2.0", "id": rid,
                    "error": RpcError(INTERNAL_ERROR, f"internal error: {type(e).__name__}: {e}").to_dict()}
        finally:
            with self._calls_done:
                self._calls -= 1
                self._calls_done.notify_all()
        if "id" not in request:
            return None  # a notification
        return {"jsonrpc": "2.0", "id": rid, "result": result}

    def _handle_many(self, requests: list) -> list:
        return [r for r in (self.handle_one(req) for req in requests) if r is not None]

    # -- HTTP --------------------------------------------------------------------------------
    def _authorized(self, request: web.BaseRequest) -> bool:
        header = request.headers.get("Authorization", "")
        if hmac.compare_digest(header.encode("utf-8", "surrogateescape"), self._good_auth):
            return True  # the client's usual spelling, without decoding it every call
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == rpc.COOKIE_USER and hmac.compare_digest(password, self.cookie)

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        try:
            if request.method == "POST":
                return await self._post(request)
            if request.method == "GET":
                return await self._events(request)
            return _reply({"error": "POST JSON-RPC to / or GET /events"}, 405)
        except ConnectionError:
            return _closing(_reply({}, 499))  # the client hung up: nothing to tell the node's terminal
        except Exception:  # noqa: BLE001 — a bug in the server: say it on the node's terminal, answer 500
            traceback.print_exc(file=sys.stderr)
            return _closing(_reply({"error": "internal server error"}, 500))

    async def _post(self, request: web.BaseRequest) -> web.StreamResponse:
        if not self._authorized(request):
            resp = _reply(UNAUTHORIZED, 401)
            resp.headers["WWW-Authenticate"] = 'Basic realm="chaintop"'
            return resp
        length = request.content_length
        if length is not None and length > MAX_BODY:
            await self._drain(request, min(length, 64 * MAX_BODY))  # so a polite client can read the answer
            return _closing(_reply({"error": f"request body over {MAX_BODY} bytes"}, 413))
        try:
            async with asyncio.timeout(self.body_timeout):  # (no extra task per request, as wait_for makes)
                body = await _read_body(request)
        except TimeoutError:
            slow = {"error": f"request body not received within {self.body_timeout:g} s"}
            return _closing(_reply(slow, 408))
        if body is None:  # a chunked body past the cap
            return _closing(_reply({"error": f"request body over {MAX_BODY} bytes"}, 413))
        try:
            call = rpc.parse_json(body)
        except RpcError as e:
            return _reply({"jsonrpc": "2.0", "id": None, "error": e.to_dict()})
        loop = asyncio.get_running_loop()
        if isinstance(call, list):
            return _reply(await loop.run_in_executor(self._pool, self._handle_many, call))
        if isinstance(call, dict) and call.get("method") in LONG_CALLS:
            return await self._long_call(request, call)
        reply = self._try_inline(call)
        if reply is _NOT_INLINE:
            reply = await loop.run_in_executor(self._pool, self.handle_one, call)
        return _reply(reply if reply is not None else {})

    def _try_inline(self, call: Any) -> Any:
        lock = self._node_lock
        if lock is None or not isinstance(call, dict) or call.get("method") not in INLINE_CALLS:
            return _NOT_INLINE
        if not lock.acquire(blocking=False):
            return _NOT_INLINE  # the node is busy: wait on a pool thread, never on the loop
        try:
            return self.handle_one(call)
        finally:
            lock.release()

    async def _drain(self, request: web.BaseRequest, limit: int) -> None:
        try:
            async with asyncio.timeout(self.body_timeout):
                while limit > 0:
                    chunk = await request.content.readany()
                    if not chunk:
                        return
                    limit -= len(chunk)
        except TimeoutError:
            pass

    async def _long_call(self, request: web.BaseRequest, call: dict) -> web.StreamResponse:
        """A call that may run for hours: it ends when the client hangs up, and streams if asked to."""
        loop = asyncio.get_running_loop()
        peer = _PeerWatch(request, self.stopping)
        callbacks: dict[str, Any] = {"should_stop": peer.gone}
        if NDJSON not in request.headers.get("Accept", ""):
            reply = await loop.run_in_executor(self._long_pool, self.handle_one, call, callbacks)
            return _reply(reply if reply is not None else {})
        resp = web.StreamResponse(headers={"Content-Type": NDJSON})
        resp.enable_chunked_encoding()
        resp.force_close()
        await resp.prepare(request)

        def line(payload: dict) -> None:  # on the call's thread: wait for each write (backpressure)
            if peer.closed:
                return
            sent = asyncio.run_coroutine_threadsafe(resp.write(rpc.encode_json(payload) + b"\n"), loop)
            try:
                sent.result(self.body_timeout)
            except Exception:  # noqa: BLE001 — gone or stuck: the next stop check ends the call
                peer.closed = True

        callbacks["progress"] = lambda p: line({"progress": rpc.progress_to_wire(p)})
        callbacks["on_block"] = lambda b: line({"block": b})
        reply = await loop.run_in_executor(self._long_pool, self.handle_one, call, callbacks)
        if not peer.closed:
            await resp.write(rpc.encode_json(reply if reply is not None else {}) + b"\n")
            await resp.write_eof()
        return resp

    async def _events(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.path != "/events":
            return _reply({"error": "not found; POST JSON-RPC to / or GET /events"}, 404)
        if not self._authorized(request):
            return _reply(UNAUTHORIZED, 401)
        loop = asyncio.get_running_loop()
        pending: collections.deque[Event] = collections.deque()
        wake = asyncio.Event()
        self._wakers.add(wake)

        def listener(event: Event) -> None:  # on a node thread, under the node lock: never blocks
            if len(pending) >= EVENT_QUEUE:
                return  # a slow reader loses events rather than stalling the node
            pending.append(event)
            if len(pending) == 1:
                try:
                    loop.call_soon_threadsafe(wake.set)
                except RuntimeError:
                    pass  # the loop has closed: the stream is ending

        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "Connection": "close"})
        resp.force_close()
        unsubscribe = self.bus.subscribe(listener)
        try:
            await resp.prepare(request)
            await resp.write(b": connected\n\n")
            while not self.stopping.is_set():
                try:
                    await asyncio.wait_for(wake.wait(), 1.0)
                except TimeoutError:
                    await resp.write(b": keep-alive\n\n")
                    continue
                wake.clear()
                batch = []
                while pending and len(batch) < 500:
                    batch.append(pending.popleft())
                if pending:
                    wake.set()
                out = []
                for i, e in enumerate(batch):
                    if e.coalesce and any(type(later) is type(e) for later in batch[i + 1:]):
                        continue  # a newer progress report supersedes this one
                    out.append(b"event: " + type(e).__name__.encode() + b"\ndata: "
                               + rpc.encode_json(e.to_dict()) + b"\n\n")
                if out:
                    await resp.write(b"".join(out))
        except ConnectionError:
            pass
        finally:
            unsubscribe()
            self._wakers.discard(wake)
        return resp


async def _read_body(request: web.BaseRequest) -> bytes | None:
    """The whole body, or None past MAX_BODY (a chunked body says its size only at the end)."""
    parts, size = [], 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > MAX_BODY:
            return None
        parts.append(chunk)


_NOT_INLINE = object()


def _reply(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=rpc.encode_json(payload), status=status, content_type="application/json")


def _closing(resp: web.StreamResponse) -> web.StreamResponse:
    resp.force_close()
    return resp


class _PeerWatch:
    """should_stop for a long call: the client hung up (or a write to it failed), or the server stops."""

    def __init__(self, request: web.BaseRequest, stopping: threading.Event) -> None:
        self.request, self.stopping = request, stopping
        self.closed = False

    def gone(self) -> str | bool:
        if self.stopping.is_set():
            return "node-stopping"
        if not self.closed:
            transport = self.request.transport  # None once the loop saw the connection end
            self.closed = transport is None or transport.is_closing()
        return "client-gone" if self.closed else False


class _CappedServer(web.Server):
    """aiohttp's low-level server with a cap on open connections: past it, a 503 and close."""

    def __init__(self, handler, max_connections: int, **kwargs) -> None:
        super().__init__(handler, **kwargs)
        self.max_connections = max_connections
        self.open = 0

    def __call__(self):
        if self.open >= self.max_connections:
            return _Refuse()
        self.open += 1
        return super().__call__()

    def connection_lost(self, handler, exc: BaseException | None = None) -> None:
        self.open -= 1
        super().connection_lost(handler, exc)


class _Refuse(asyncio.Protocol):
    """One connection too many: say so and close, without reading the request."""

    BODY = b'{"error": "too many connections to this node; try again"}'

    def connection_made(self, transport) -> None:
        transport.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                        b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(self.BODY), self.BODY))
        transport.close()


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it exists (twice the requests a second of asyncio's own loop here), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _quiet_exception_handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """A client that hangs up mid-write is no traceback on the node's terminal; anything else still is."""
    if isinstance(context.get("exception"), ConnectionError | TimeoutError):
        return
    loop.default_exception_handler(context)
