"""The RPC server: a lean HTTP/1.1 protocol (node/httpserver.py, over httptools) on its own thread and uvloop
event loop, node calls on a thread pool beside it.

Node work never runs on the loop, with one exception measured to pay: a small bounded read (INLINE_CALLS)
while the node lock is free at once. A call waiting for the node lock holds a pool thread, not every other
connection. Why this server and not aiohttp or http.server: see node/httpserver.py.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hmac
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from node import rpc, sigcheck
from node.events import Event
from node.httpserver import HttpConnection, HttpRequest, HttpServer, Reply
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
INLINE_CALLS = frozenset({"status", "height", "account", "tx", "mining_get", "time_get", "params", "keys"})
INLINE_GROUP = 32  # submissions admitted on the loop at once (~0.3 ms each); a bigger group goes to a thread
EVENT_QUEUE = 10_000  # events buffered per /events stream; a reader slower than that loses events
NDJSON_BYTES = NDJSON.encode()
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
        self._submits: list[tuple[asyncio.Future, dict]] = []  # submit_tx calls of this turn of the loop
        self._checking = 0  # groups whose signatures a pool thread is checking now

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
        self._http = HttpServer(self._on_request, idle_timeout=self.idle_timeout,
                                body_timeout=self.body_timeout, max_body=MAX_BODY,
                                max_connections=self.max_connections, timeout_reply=self._timeout_reply)
        serving = loop.create_server(self._http, sock=self._sock, backlog=BACKLOG)
        self._server = loop.run_until_complete(serving)
        loop.call_soon(self._http.start_sweeping)
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
        self._http.close_all()
        self._http.stop_sweeping()
        for _ in range(100):  # up to a second for the answers under way to reach their clients
            if not self._http.connections:
                break
            await asyncio.sleep(0.01)

    def _wait_calls(self, drain: float) -> None:
        with self._calls_done:
            self._calls_done.wait_for(lambda: self._calls == 0, timeout=drain)

    # -- one JSON-RPC request object ---------------------------------------------------------
    def handle_one(self, request: Any, callbacks: dict | None = None, on_loop: bool = False) -> dict | None:
        """One request object's reply (None for a notification). on_loop: answered on the event loop itself,
        which stop() waits on anyway, so it need not be counted among the calls stop() drains."""
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or "method" not in request:
            return {"jsonrpc": "2.0", "id": request.get("id") if isinstance(request, dict) else None,
                    "error": RpcError(INVALID_REQUEST,
                                      "invalid request: need jsonrpc \"2.0\" and a method").to_dict()}
        rid = request.get("id")
        if not on_loop:
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
            if not on_loop:
                with self._calls_done:
                    self._calls -= 1
                    self._calls_done.notify_all()
        if "id" not in request:
            return None  # a notification
        return {"jsonrpc": "2.0", "id": rid, "result": result}

    def _handle_many(self, requests: list) -> list:
        return [r for r in (self.handle_one(req) for req in requests) if r is not None]

    # -- HTTP --------------------------------------------------------------------------------
    def _authorized(self, header: bytes) -> bool:
        if hmac.compare_digest(header, self._good_auth):
            return True  # the client's usual spelling, without decoding it every call
        if not header.startswith(b"Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).partition(b":")
        except ValueError:
            return False
        return user == rpc.COOKIE_USER.encode() and hmac.compare_digest(password, self.cookie.encode())

    def _on_request(self, conn: HttpConnection, request: HttpRequest) -> Any:
        if request.method == b"POST":
            return self._post(conn, request)
        if request.method == b"GET":
            if request.path != "/events":
                return _reply({"error": "not found; POST JSON-RPC to / or GET /events"}, 404)
            if not self._authorized(request.headers.get(b"authorization", b"")):
                return _reply(UNAUTHORIZED, 401)
            return self._events(conn)
        return _reply({"error": "POST JSON-RPC to / or GET /events"}, 405)

    def _post(self, conn: HttpConnection, request: HttpRequest) -> Any:
        if not self._authorized(request.headers.get(b"authorization", b"")):
            return _reply(UNAUTHORIZED, 401, (("WWW-Authenticate", 'Basic realm="chaintop"'),))
        if request.body is None:
            return self._timeout_reply(True)
        try:
            call = rpc.parse_json(request.body)
        except RpcError as e:
            return _reply({"jsonrpc": "2.0", "id": None, "error": e.to_dict()})
        if isinstance(call, list):
            return self._loop.run_in_executor(self._pool, self._many_reply, call)
        if isinstance(call, dict) and call.get("method") in LONG_CALLS:
            return self._long_call(conn, request, call)
        if isinstance(call, dict) and call.get("method") == "submit_tx":
            return self._group_submit(call)
        lock = self._node_lock
        if lock is not None and isinstance(call, dict) and call.get("method") in INLINE_CALLS \
                and lock.acquire(blocking=False):  # the node is free: answer on the loop (else a pool thread)
            try:
                return self._one_reply(call, on_loop=True)
            finally:
                lock.release()
        return self._loop.run_in_executor(self._pool, self._one_reply, call)

    # -- submissions: the ones that arrive together are admitted together ---------------------
    def _group_submit(self, call: dict) -> asyncio.Future:
        """A submit_tx joins the group of those that arrived in the same turn of the loop (one per client
        connection at most: a connection's next request waits for this answer). The group is admitted under
        one take of the node lock: on the loop when the lock is free (no thread hand-off per call, which cost
        more than the admission), else on one pool thread for the whole group.

        With several clients at once (a group of more than one, or one arriving while another group's
        signatures are being checked) the signatures are checked first on a pool thread, where OpenSSL runs
        without the GIL beside the loop reading the next requests (node/sigcheck.py keeps the answers for
        the admission). One client alone gains nothing from the hand-off and is admitted at once."""
        future = self._loop.create_future()
        self._submits.append((future, call))
        if len(self._submits) == 1:
            self._loop.call_soon(self._admit_group)
        return future

    def _admit_group(self) -> None:
        group, self._submits = self._submits, []
        if len(group) == 1 and not self._checking:
            self._admit(group)
            return
        self._checking += 1
        raws = [_first_param(call) for _, call in group]
        checked = self._loop.run_in_executor(self._pool, sigcheck.preverify, raws)
        checked.add_done_callback(lambda _: self._checked(group))

    def _checked(self, group: list[tuple[asyncio.Future, dict]]) -> None:
        self._checking -= 1
        self._admit(group)

    def _admit(self, group: list[tuple[asyncio.Future, dict]]) -> None:
        calls = [call for _, call in group]
        lock = self._node_lock
        if lock is not None and len(group) <= INLINE_GROUP and lock.acquire(blocking=False):
            try:
                replies = [self._one_reply(call, on_loop=True) for call in calls]
            finally:
                lock.release()
            _settle(group, replies)
            return
        work = self._loop.run_in_executor(self._pool, self._admit_on_thread, calls)
        work.add_done_callback(lambda done: _settle(group, done.result()))

    def _admit_on_thread(self, calls: list[dict]) -> list[Reply]:
        lock = self._node_lock
        if lock is None:
            return [self._one_reply(call) for call in calls]
        with lock:
            return [self._one_reply(call) for call in calls]

    def _one_reply(self, call: Any, on_loop: bool = False) -> Reply:
        reply = self.handle_one(call, on_loop=on_loop)
        return _reply(reply if reply is not None else {})

    def _many_reply(self, calls: list) -> Reply:
        return _reply(self._handle_many(calls))

    def _timeout_reply(self, too_large: bool) -> Reply:
        if too_large:
            return _reply({"error": f"request body over {MAX_BODY} bytes"}, 413, close=True)
        return _reply({"error": f"request body not received within {self.body_timeout:g} s"}, 408, close=True)

    async def _long_call(self, conn: HttpConnection, request: HttpRequest, call: dict) -> Reply | None:
        """A call that may run for hours: it ends when the client hangs up, and streams if asked to."""
        loop = self._loop
        peer = _PeerWatch(conn, self.stopping)
        callbacks: dict[str, Any] = {"should_stop": peer.gone}
        if NDJSON_BYTES not in request.headers.get(b"accept", b""):
            reply = await loop.run_in_executor(self._long_pool, self.handle_one, call, callbacks)
            return _reply(reply if reply is not None else {})
        conn.stream(200, (("Content-Type", NDJSON),))

        def line(payload: dict) -> None:  # on the call's thread: wait for each write (backpressure)
            if peer.closed:
                return
            sent = asyncio.run_coroutine_threadsafe(conn.write_chunk(rpc.encode_json(payload) + b"\n"), loop)
            try:
                sent.result(self.body_timeout)
            except Exception:  # noqa: BLE001 — gone or stuck: the next stop check ends the call
                peer.closed = True

        callbacks["progress"] = lambda p: line({"progress": rpc.progress_to_wire(p)})
        callbacks["on_block"] = lambda b: line({"block": b})
        reply = await loop.run_in_executor(self._long_pool, self.handle_one, call, callbacks)
        if not peer.closed:
            try:
                await conn.write_chunk(rpc.encode_json(reply if reply is not None else {}) + b"\n")
                conn.end_stream()
            except ConnectionError:
                pass
        return None

    async def _events(self, conn: HttpConnection) -> None:
        loop = self._loop
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

        unsubscribe = self.bus.subscribe(listener)
        try:
            conn.stream(200, (("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")))
            await conn.write_chunk(b": connected\n\n")
            while not self.stopping.is_set():
                try:
                    await asyncio.wait_for(wake.wait(), 1.0)
                except TimeoutError:
                    await conn.write_chunk(b": keep-alive\n\n")
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
                    await conn.write_chunk(b"".join(out))
            conn.end_stream()
        except ConnectionError:
            pass
        finally:
            unsubscribe()
            self._wakers.discard(wake)


def _first_param(call: dict) -> object:
    """submit_tx's transaction, positional or named (anything else: None, and the admission says why)."""
    params = call.get("params")
    if isinstance(params, list) and params:
        return params[0]
    return params.get("tx") if isinstance(params, dict) else None


def _settle(group: list[tuple[asyncio.Future, dict]], replies: list[Reply]) -> None:
    for (future, _), reply in zip(group, replies, strict=True):
        if not future.done():
            future.set_result(reply)


def _reply(payload: Any, status: int = 200, headers: tuple[tuple[str, str], ...] = (),
           close: bool = False) -> Reply:
    return Reply(status, rpc.encode_json(payload), headers, close)


class _PeerWatch:
    """should_stop for a long call: the client hung up (or a write to it failed), or the server stops."""

    def __init__(self, conn: HttpConnection, stopping: threading.Event) -> None:
        self.conn, self.stopping = conn, stopping
        self.closed = False

    def gone(self) -> str | bool:
        if self.stopping.is_set():
            return "node-stopping"
        self.closed = self.closed or self.conn.closed
        return "client-gone" if self.closed else False


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
