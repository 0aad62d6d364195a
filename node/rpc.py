"""JSON-RPC 2.0 over HTTP on loopback, cookie-authenticated like bitcoind, with a server-sent event stream."""

from __future__ import annotations

import base64
import hmac
import json
import os
import queue
import secrets
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from chain.errors import ChaintopError, UsageError
from node.api import METHODS, Param
from node.events import Event

MAX_BODY = 1 << 20  # 1 MiB
COOKIE_NAME = ".cookie"
NODE_INFO = "node.json"
COOKIE_USER = "__cookie__"

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR = (-32700, -32600, -32601,
                                                                                  -32602, -32603)
APP_ERROR = -32000  # a chain error: data.reason carries its stable code

# Long calls take NodeAPI's callbacks over the wire. The server always passes should_stop (the client hung
# up, the server is stopping), so a `mine 100000000` whose client was killed ends; a client that sends
# `Accept: application/x-ndjson` also gets progress and each block as lines of a chunked reply, the last
# line being the JSON-RPC reply itself.
LONG_CALLS = frozenset({"mine"})
NDJSON = "application/x-ndjson"


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def to_dict(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.data is not None:
            out["data"] = self.data
        return out


class Dispatcher:
    """Maps RPC methods onto the service (mining, traffic, stop) first, then the node."""

    def __init__(self, *targets: Any) -> None:
        self.targets = targets

    def _find(self, attr: str):
        for t in self.targets:
            fn = getattr(t, attr, None)
            if fn is not None:
                return fn
        return None

    def call(self, method: Any, params: Any, callbacks: dict | None = None) -> Any:
        if method == HELP:
            try:
                return describe_methods(*bind_params(HELP, HELP_PARAMS, params).values())
            except ChaintopError as e:
                raise RpcError(METHOD_NOT_FOUND, e.message, {"reason": e.code}) from None
        if not isinstance(method, str) or method not in METHODS:
            raise RpcError(METHOD_NOT_FOUND, f"method not found: {method}")
        attr, spec = METHODS[method]
        fn = self._find(attr)
        if fn is None:
            raise RpcError(METHOD_NOT_FOUND, f"method not available here: {method}")
        kwargs = bind_params(method, spec, params)
        if callbacks and method in LONG_CALLS:
            kwargs.update(callbacks)
        try:
            return fn(**kwargs)
        except ChaintopError as e:
            raise RpcError(APP_ERROR, e.message, {"reason": e.code, "type": type(e).__name__}) from None


HELP = "help"  # answered by the dispatcher from the method table itself (as bitcoind's help is)
HELP_PARAMS = (Param("method", str, False),)


def describe_methods(method: str | None = None) -> list[dict]:
    """`help`: every JSON-RPC method (or one), its parameters in positional order with their types and
    defaults, and what it does (the Node method's docstring and signature, read with inspect)."""
    import inspect

    from node.node import Node

    table = dict(METHODS) | {HELP: (None, HELP_PARAMS)}
    if method is not None and method not in table:
        raise UsageError("unknown-method", f"no RPC method {method!r}; `chaintop rpc help` lists them")
    out = []
    for name, (attr, spec) in table.items():
        if method is not None and name != method:
            continue
        fn = getattr(Node, attr) if attr is not None else describe_methods
        signature = inspect.signature(fn).parameters
        params = []
        for p in spec:
            kinds = p.kind if isinstance(p.kind, tuple) else (p.kind,)
            default = p.default
            if default is None and p.kwarg in signature:
                found = signature[p.kwarg].default
                default = None if found is inspect.Parameter.empty else found
            params.append({"name": p.name, "type": " or ".join(k.__name__ for k in kinds),
                           "required": p.required, "default": default})
        doc = (inspect.getdoc(fn) or "").split("\n\n")[0].replace("\n", " ")
        if attr is None:
            doc = "Every method with its parameters, or one method's."
        usage = " ".join([name] + [q["name"] if q["required"] else
                                   f"[{q['name']}={q['default']}]" if q["default"] is not None else
                                   f"[{q['name']}]" for q in params])
        out.append({"method": name, "params": params, "usage": usage, "description": doc})
    return out


def bind_params(method: str, spec, params: Any) -> dict:
    """Positional (list) or named (object) params -> keyword arguments; -32602 names the offending field."""
    if params is None:
        params = []
    if isinstance(params, list):
        if len(params) > len(spec):
            raise RpcError(INVALID_PARAMS, f"{method} takes at most {len(spec)} params, got {len(params)}",
                           {"field": None})
        named = {p.name: v for p, v in zip(spec, params, strict=False)}
    elif isinstance(params, dict):
        unknown = set(params) - {p.name for p in spec}
        if unknown:
            field = sorted(unknown)[0]
            raise RpcError(INVALID_PARAMS, f"unknown param {field!r} for {method}", {"field": field})
        named = params
    else:
        raise RpcError(INVALID_PARAMS, "params must be an array or an object", {"field": None})
    kwargs = {}
    for p in spec:
        if p.name not in named or named[p.name] is None:
            if p.required:
                raise RpcError(INVALID_PARAMS, f"missing param {p.name!r}", {"field": p.name})
            if p.default is not None:
                kwargs[p.kwarg] = p.default
            continue
        value = named[p.name]
        if (isinstance(value, bool) and p.kind is not bool) or not isinstance(value, p.kind):
            kinds = p.kind if isinstance(p.kind, tuple) else (p.kind,)
            want = " or ".join(k.__name__ for k in kinds)
            raise RpcError(INVALID_PARAMS, f"param {p.name!r} must be {want}, got {type(value).__name__}",
                           {"field": p.name})
        kwargs[p.kwarg] = value
    return kwargs


class _Handler(BaseHTTPRequestHandler):
    server: RpcServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 — stdlib's name
        pass  # no access log on the user's terminal

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == COOKIE_USER and hmac.compare_digest(password, self.server.cookie)

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="chaintop"')
        self.end_headers()
        self.wfile.write(body)

    def _reply(self, payload: Any, status: int = 200) -> None:
        self._send(status, json.dumps(payload).encode())

    def do_POST(self) -> None:  # noqa: N802 — stdlib's name
        if not self._authorized():
            self._drain()
            self._reply({"error": "unauthorized: pass the cookie from the data dir"}, 401)
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self._reply({"jsonrpc": "2.0", "id": None,
                         "error": RpcError(INVALID_REQUEST, "bad Content-Length").to_dict()}, 400)
            return
        if length > MAX_BODY:
            self.close_connection = True
            left = min(length, 64 * MAX_BODY)  # drain what a polite client sends, so it can read our answer
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
            self._reply({"error": f"request body over {MAX_BODY} bytes"}, 413)
            return
        body = self.rfile.read(length)
        try:
            request = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            self._reply({"jsonrpc": "2.0", "id": None,
                         "error": RpcError(PARSE_ERROR, "parse error: not JSON").to_dict()})
            return
        if isinstance(request, list):
            replies = [r for r in (self.server.handle_one(req) for req in request) if r is not None]
            self._reply(replies if replies else [])
            return
        if isinstance(request, dict) and request.get("method") in LONG_CALLS:
            self._long_call(request)
            return
        reply = self.server.handle_one(request)
        self._reply(reply if reply is not None else {})

    def _long_call(self, request: dict) -> None:
        """A call that may run for hours: it ends when the client hangs up, and streams if asked to."""
        peer = _PeerWatch(self.connection, self.server.stopping)
        callbacks: dict[str, Any] = {"should_stop": peer.gone}
        stream = NDJSON in self.headers.get("Accept", "")
        if stream:
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", NDJSON)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            callbacks["progress"] = lambda p: self._line(peer, {"progress": progress_to_wire(p)})
            callbacks["on_block"] = lambda b: self._line(peer, {"block": b})
        reply = self.server.handle_one(request, callbacks)
        if not stream:
            self._reply(reply if reply is not None else {})
            return
        self._line(peer, reply if reply is not None else {})
        self._chunk(peer, b"")  # the last chunk

    def _line(self, peer: _PeerWatch, payload: dict) -> None:
        self._chunk(peer, json.dumps(payload).encode() + b"\n")

    def _chunk(self, peer: _PeerWatch, data: bytes) -> None:
        if peer.closed:
            return
        try:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        except OSError:
            peer.closed = True  # the next stop check ends the call

    def _drain(self) -> None:
        try:
            length = min(int(self.headers.get("Content-Length", "0")), MAX_BODY)
        except ValueError:
            length = 0
        if length > 0:
            self.rfile.read(length)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.split("?")[0] != "/events":
            self._reply({"error": "not found; POST JSON-RPC to / or GET /events"}, 404)
            return
        if not self._authorized():
            self._reply({"error": "unauthorized: pass the cookie from the data dir"}, 401)
            return
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        q: queue.Queue[Event] = queue.Queue(maxsize=10_000)

        def listener(event: Event) -> None:
            try:
                q.put_nowait(event)
            except queue.Full:
                pass  # a slow reader loses events rather than stalling the node

        unsubscribe = self.server.bus.subscribe(listener)
        try:
            self.wfile.write(b": connected\n\n")
            self.wfile.flush()
            while not self.server.stopping.is_set():
                try:
                    event = q.get(timeout=1.0)
                except queue.Empty:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    continue
                batch = [event]
                while len(batch) < 500:
                    try:
                        batch.append(q.get_nowait())
                    except queue.Empty:
                        break
                out = []
                for i, e in enumerate(batch):
                    if e.coalesce and any(type(later) is type(e) for later in batch[i + 1:]):
                        continue  # a newer progress report supersedes this one
                    out.append(f"event: {type(e).__name__}\ndata: {json.dumps(e.to_dict())}\n\n")
                self.wfile.write("".join(out).encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            unsubscribe()


class RpcServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, dispatcher: Dispatcher, bus, cookie: str, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.dispatcher = dispatcher
        self.bus = bus
        self.cookie = cookie
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._calls = 0  # calls being answered now: stop() lets them finish before the node closes
        self._calls_done = threading.Condition()

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client hung up before its answer: nothing to tell the node's terminal
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

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

    def start(self) -> RpcServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2}, name="rpc",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, drain: float = 10.0) -> None:
        """Stop serving; calls under way (a `mine` ends at its next stop check) get up to `drain` seconds to
        answer, so none of them touches a node that is closing."""
        self.stopping.set()
        self.shutdown()
        with self._calls_done:
            self._calls_done.wait_for(lambda: self._calls == 0, timeout=drain)
        self.server_close()


class _PeerWatch:
    """should_stop for a long call: the client hung up (or a write to it failed), or the server stops."""

    CHECK_EVERY = 0.1  # seconds; the miner asks every few tens of milliseconds

    def __init__(self, sock: socket.socket, stopping: threading.Event) -> None:
        self.sock, self.stopping = sock, stopping
        self.closed = False
        self._checked = 0.0

    def gone(self) -> str | bool:
        if self.stopping.is_set():
            return "node-stopping"
        now = time.monotonic()
        if not self.closed and now - self._checked >= self.CHECK_EVERY:
            self._checked = now
            self.closed = _peer_closed(self.sock)
        return "client-gone" if self.closed else False


def _peer_closed(sock: socket.socket) -> bool:
    """A readable socket with nothing to read has reached end of file: the client closed its end (the
    request body was read already, so any byte waiting would be a next request, not a hang-up)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def progress_to_wire(p) -> dict:
    """A miner.MiningProgress as JSON (RpcClient turns it back into one)."""
    return {"height": p.height, "hashes": p.hashes, "elapsed": round(p.elapsed, 3),
            "best_hash": p.best_hash.hex(), "target": f"{p.target:064x}", "workers": p.workers}


def write_cookie(datadir: Path, cookie: str | None = None) -> str:
    cookie = cookie or secrets.token_hex(32)
    path = Path(datadir) / COOKIE_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"{COOKIE_USER}:{cookie}")
    os.chmod(path, 0o600)
    return cookie


def read_cookie(datadir: Path) -> str | None:
    try:
        user, _, cookie = (Path(datadir) / COOKIE_NAME).read_text().strip().partition(":")
    except OSError:
        return None
    return cookie if user == COOKIE_USER else None


def write_node_info(datadir: Path, url: str, network: str) -> None:
    info = {"pid": os.getpid(), "rpc_url": url, "network": network, "started": int(time.time())}
    tmp = Path(datadir) / (NODE_INFO + ".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(Path(datadir) / NODE_INFO)


def read_node_info(datadir: Path) -> dict | None:
    try:
        info = json.loads((Path(datadir) / NODE_INFO).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and "rpc_url" in info and "pid" in info else None


def remove_runtime_files(datadir: Path) -> None:
    for name in (NODE_INFO, COOKIE_NAME):
        try:
            (Path(datadir) / name).unlink()
        except FileNotFoundError:
            pass
