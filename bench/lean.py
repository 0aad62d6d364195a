"""A lean JSON-RPC client for benchmarks: pre-built requests on a raw keep-alive socket, so what is measured
is the server, not http.client. Used the same way against every server (bench/peer.py)."""

from __future__ import annotations

import json
import multiprocessing
import socket
import time


def rpc_body(method: str, params=None, rid: int = 1) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params or []}).encode()


class Connection:
    """One HTTP/1.1 keep-alive connection (TCP_NODELAY): post(body) -> the response body."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.sock = socket.create_connection((host, port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def request(self, body: bytes) -> bytes:
        return (f"POST / HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
                f"{self.head}Content-Length: {len(body)}\r\n\r\n").encode() + body

    def post(self, body: bytes) -> bytes:
        return self.send_raw(self.request(body))

    def send_raw(self, request: bytes) -> bytes:
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower()] = v.strip()
        if b"content-length" in headers:
            n = int(headers[b"content-length"])
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
            return body
        body = b""  # chunked
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            size_line, _, self.buf = self.buf.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(self.buf) < size + 2:
                self._fill()
            body += self.buf[:size]
            self.buf = self.buf[size + 2:]
            if size == 0:
                return body

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buf += chunk

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def keepalive_rate(host: str, port: int, headers: dict, body: bytes, seconds: float) -> float:
    with Connection(host, port, headers) as c:
        request = c.request(body)
        c.send_raw(request)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            c.send_raw(request)
            n += 1
        return n / (time.perf_counter() - start)


def new_connection_rate(host: str, port: int, headers: dict, body: bytes, seconds: float) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        with Connection(host, port, headers) as c:
            c.post(body)
        n += 1
    return n / (time.perf_counter() - start)


def _send_all(c: Connection, bodies: list[bytes]) -> int:
    ok = 0
    for body in bodies:
        reply = c.post(body)
        ok += b'"result"' in reply
    return ok


def _client(host: str, port: int, headers: dict, bodies: list[bytes], ready, go, out) -> None:
    with Connection(host, port, headers) as c:
        requests = bodies
        ready.put(True)
        go.wait()
        ok = _send_all(c, requests)
        out.put((ok, time.monotonic()))


def submit_rate(host: str, port: int, headers: dict, per_client: list[list[bytes]]) -> float:
    """Transfers accepted per second: one list of requests per client, each client its own process (one
    client: this process), all starting together; the clock stops when the last one is done."""
    if len(per_client) == 1:
        with Connection(host, port, headers) as c:
            start = time.monotonic()
            ok = _send_all(c, per_client[0])
            return ok / (time.monotonic() - start)
    ctx = multiprocessing.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_client, args=(host, port, headers, bodies, ready, go, out))
             for bodies in per_client]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            ready.get(timeout=120)
        start = time.monotonic()
        go.set()
        done = [out.get(timeout=600) for _ in procs]
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
    return sum(ok for ok, _ in done) / (max(end for _, end in done) - start)
