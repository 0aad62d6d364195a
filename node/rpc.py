"""JSON-RPC 2.0 for the node: dispatch, parameters, errors, JSON, the cookie and node.json.

node/rpcserver.py serves it over HTTP on loopback, cookie-authenticated like bitcoind, with an event stream.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import orjson

from chain.errors import ChaintopError, UsageError
from node.api import METHODS, Param
from storage.files import write_private

MAX_BODY = 1 << 20  # 1 MiB
COOKIE_NAME = ".cookie"
NODE_INFO = "node.json"
COOKIE_USER = "__cookie__"

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR = (-32700, -32600, -32601,
                                                                                  -32602, -32603)
APP_ERROR = -32000  # a chain error: data.reason carries its stable code
MAX_DEPTH = 100  # nesting of arrays and objects in a request: no method needs more than a few levels

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
        self._found: dict[str, Any] = {}  # attr -> the bound method that serves it (looked up once)

    def _find(self, attr: str):
        fn = self._found.get(attr)
        if fn is None:
            fn = next((f for f in (getattr(t, attr, None) for t in self.targets) if f is not None), None)
            if fn is not None:
                self._found[attr] = fn
        return fn

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
    if not params and not any(p.required or p.default is not None for p in spec):
        if params is None or isinstance(params, list | dict):
            return {}  # the common read: no params, none needed
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


def parse_json(body: bytes) -> Any:
    """A request body as JSON, or RpcError -32700. orjson first (several times the stdlib's speed); what it
    refuses and the stdlib reads (NaN, integers past 64 bits, lone surrogates) still parses as before, so a
    bad value gets the same -32602/-32000 it always did. Nesting past MAX_DEPTH is a parse error, never a
    RecursionError."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise RpcError(PARSE_ERROR, "parse error: not JSON") from None
    if body.count(b"[") + body.count(b"{") >= MAX_DEPTH and _depth_over(value, MAX_DEPTH):
        raise RpcError(PARSE_ERROR, f"parse error: nested deeper than {MAX_DEPTH} levels")
    return value


def _depth_over(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def encode_json(payload: Any) -> bytes:
    """A reply as JSON bytes: orjson, or the stdlib for what orjson refuses (integers past 64 bits)."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(payload).encode()


def progress_to_wire(p) -> dict:
    """A miner.MiningProgress as JSON (RpcClient turns it back into one)."""
    return {"height": p.height, "hashes": p.hashes, "elapsed": round(p.elapsed, 3),
            "best_hash": p.best_hash.hex(), "target": f"{p.target:064x}", "workers": p.workers}


def write_cookie(datadir: Path, cookie: str | None = None) -> str:
    cookie = cookie or secrets.token_hex(32)
    write_private(Path(datadir) / COOKIE_NAME, f"{COOKIE_USER}:{cookie}")
    return cookie


def read_cookie(datadir: Path) -> str | None:
    try:
        user, _, cookie = (Path(datadir) / COOKIE_NAME).read_text().strip().partition(":")
    except OSError:
        return None
    return cookie if user == COOKIE_USER else None


def write_node_info(datadir: Path, url: str, network: str) -> None:
    info = {"pid": os.getpid(), "rpc_url": url, "network": network, "started": int(time.time())}
    # 0600: with the cookie it says where to send it; nobody else may point our CLI at their server
    write_private(Path(datadir) / NODE_INFO, json.dumps(info))


def read_node_info(datadir: Path) -> dict | None:
    try:
        info = json.loads((Path(datadir) / NODE_INFO).read_text())
    except (OSError, ValueError, RecursionError):
        return None
    return info if isinstance(info, dict) and "rpc_url" in info and "pid" in info else None


def remove_runtime_files(datadir: Path) -> None:
    for name in (NODE_INFO, COOKIE_NAME):
        try:
            (Path(datadir) / name).unlink()
        except FileNotFoundError:
            pass
