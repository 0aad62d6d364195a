"""Hostile or sloppy RPC clients (issue 14): deep nesting, clients that hang up, idle and slow connections,
too many connections, the listen backlog. A real node process over loopback; every loop is bounded."""

from __future__ import annotations

import json
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.functional.test_rpc import NodeProc, init_regtest

WAIT = 30.0  # seconds any one socket waits for the node: far above its timeouts, so a pass is never a race


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """One node for the tests that only read; killed at teardown."""
    n = _start(tmp_path_factory.mktemp("hostile"))
    yield n
    n.kill()


def _start(where) -> NodeProc:
    init_regtest(where / "chain")
    return NodeProc(where / "chain")


@contextmanager
def _own_node(where) -> Iterator[NodeProc]:
    """A node for one test, whose stderr the test reads; killed whatever the test did."""
    n = _start(where)
    try:
        yield n
    finally:
        n.kill()


def _connect(n: NodeProc) -> socket.socket:
    return socket.create_connection((n.host, n.port), timeout=WAIT)


def _request(n: NodeProc, body: bytes, length: int | None = None) -> bytes:
    auth = n.auth()["Authorization"]
    length = len(body) if length is None else length
    return (f"POST / HTTP/1.1\r\nHost: {n.host}\r\nAuthorization: {auth}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode() + body


def _read_all(s: socket.socket) -> bytes:
    """Everything the node sends until it closes the connection (or WAIT passes: socket.timeout)."""
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def _stderr_after_stop(n: NodeProc) -> str:
    """Stop the node (cleanly) and return what it printed on stderr."""
    n.proc.terminate()
    try:
        out = n.proc.communicate(timeout=20)[1]
    finally:
        n.kill()
    assert n.proc.returncode == 0, out
    return out


def test_deep_nesting_is_a_parse_error_without_a_traceback(tmp_path):
    with _own_node(tmp_path) as n:
        for body in (b"[" * 1000 + b"]" * 1000,  # the depth the stdlib parser gave up at with RecursionError
                     b'{"jsonrpc": "2.0", "id": 1, "method": "status", "params": '
                     + b"[" * 200 + b"]" * 200 + b"}",
                     b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
            status, data = n.post(body)
            assert status == 200, data
            reply = json.loads(data)
            assert reply["error"]["code"] == -32700 and reply["id"] is None, reply
        assert n.call("status")["network"] == "regtest"  # still serving
        err = _stderr_after_stop(n)
        assert "Traceback" not in err and "RecursionError" not in err, err


def test_clients_that_hang_up_leave_no_traceback(tmp_path):
    with _own_node(tmp_path) as n:
        mine = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "mine", "params": [3]}).encode()
        blocks = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "blocks", "params": [100]}).encode()
        for request in (_request(n, mine), _request(n, blocks), _request(n, blocks)[:40],
                        _request(n, mine, length=len(mine) + 100)):
            for reset in (False, True):
                s = _connect(n)
                if reset:  # RST instead of FIN: close() with a zero linger
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.sendall(request)
                s.close()
        s = _connect(n)  # an event stream whose reader leaves
        auth = n.auth()["Authorization"]
        s.sendall(f"GET /events HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n".encode())
        assert s.recv(100).startswith(b"HTTP/1.1 200")
        s.close()
        n.call("mine", [1])
        assert n.call("status")["height"] >= 1
        err = _stderr_after_stop(n)
        assert "Traceback" not in err and "Error" not in err, err


def test_an_idle_connection_is_closed(node):
    idle = _connect(node)
    trickle = _connect(node)  # headers a byte at a time, never finished (slowloris)
    trickle.sendall(b"POST / HTTP/1.1\r\n")
    deadline = time.monotonic() + WAIT
    closed = None
    try:
        while time.monotonic() < deadline:
            trickle.sendall(b"X")
            time.sleep(0.5)
            idle.settimeout(0.01)
            try:
                if idle.recv(1) == b"":
                    closed = closed or "idle"
            except TimeoutError:
                pass
            trickle.settimeout(0.01)
            try:
                if trickle.recv(1) == b"" and closed == "idle":
                    closed = "both"
                    break
            except TimeoutError:
                pass
    except OSError:  # the node closed the trickling one and our next byte met a reset
        closed = "both" if closed == "idle" or _eof(idle) else closed
    finally:
        idle.close()
        trickle.close()
    assert closed == "both", f"the node kept an idle or a trickling connection open for {WAIT} s ({closed})"
    assert node.call("status")["network"] == "regtest"


def _eof(s: socket.socket) -> bool:
    s.settimeout(WAIT)
    try:
        return s.recv(1) == b""
    except OSError:
        return True


def test_a_slow_body_is_refused(node):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "status"}).encode()
    s = _connect(node)
    try:
        s.sendall(_request(node, body[:10], length=len(body)))  # and the rest never comes
        reply = _read_all(s)
    finally:
        s.close()
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b"request body not received" in reply
    assert node.call("status")["network"] == "regtest"


def test_connections_past_the_cap_are_refused(node):
    from node.rpcserver import MAX_CONNECTIONS

    held = []
    try:
        for _ in range(MAX_CONNECTIONS):
            held.append(_connect(node))
        time.sleep(0.2)  # (so the node has accepted them all: a refusal below is the cap, not a race)
        extra = _connect(node)
        try:
            reply = _read_all(extra)
        finally:
            extra.close()
        assert reply.startswith(b"HTTP/1.1 503"), reply[:200]
        assert b"too many connections" in reply
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + WAIT
    while True:  # the slots come back once the node sees them closed
        try:
            assert node.call("status")["network"] == "regtest"
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs iproute2's ss to read a socket's backlog")
def test_the_listen_backlog_is_not_five(node):
    out = subprocess.run(["ss", "-ltnH", f"sport = :{node.port}"], capture_output=True, text=True,
                         timeout=10).stdout.split()
    assert out and out[0] == "LISTEN", out
    assert int(out[2]) >= 128, f"listen backlog {out[2]}"  # Send-Q of a listening socket: its backlog
