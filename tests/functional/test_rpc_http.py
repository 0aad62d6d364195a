"""The RPC server's HTTP/1.1, spoken on a raw socket the way real clients speak it (RFC 9112): pipelined
requests answered in order on one connection, `Expect: 100-continue` (curl sends it for bodies over 1 KiB),
HTTP/1.0 closing after its answer, a chunked request body, malformed requests answered 400 without a
traceback, and concurrent submissions from several connections each getting their own answer. A real node
process over loopback; every wait is bounded."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from chain import crypto
from chain.params import REGTEST
from chain.tx import make_transfer
from tests.functional.test_rpc import NodeProc, init_regtest

WAIT = 30.0


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    where = tmp_path_factory.mktemp("http")
    init_regtest(where / "chain")
    n = NodeProc(where / "chain")
    yield n
    n.kill()


def _connect(n: NodeProc) -> socket.socket:
    return socket.create_connection((n.host, n.port), timeout=WAIT)


def _call(method: str, rid: int, params=None) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params or []}).encode()


def _post(n: NodeProc, body: bytes, version: str = "1.1", extra: str = "") -> bytes:
    auth = n.auth()["Authorization"]
    return (f"POST / HTTP/{version}\r\nHost: {n.host}\r\nAuthorization: {auth}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n").encode() + body


class Reader:
    """Responses off one socket, by Content-Length (what the node sends for every non-stream answer)."""

    def __init__(self, s: socket.socket) -> None:
        self.s, self.buf = s, b""

    def _fill(self) -> bool:
        chunk = self.s.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                raise ConnectionError(f"closed before a whole response: {self.buf[:200]!r}")
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        size = int(headers.get("content-length", "0"))
        while len(self.buf) < size:
            if not self._fill():
                raise ConnectionError("closed mid-body")
        body, self.buf = self.buf[:size], self.buf[size:]
        return status, headers, body

    def closed(self) -> bool:
        return not self.buf and not self._fill()


def test_pipelined_requests_are_answered_in_order(node):
    s = _connect(node)
    try:  # a slow call (a pool thread) ahead of quick ones (answered on the loop): the order still holds
        s.sendall(b"".join(_post(node, _call(m, i)) for i, m in
                           enumerate(["blocks", "status", "mempool", "status", "params"])))
        r = Reader(s)
        ids = [json.loads(r.response()[2])["id"] for _ in range(5)]
    finally:
        s.close()
    assert ids == [0, 1, 2, 3, 4]


def test_expect_100_continue_is_honoured(node):
    s = _connect(node)
    body = _call("status", 7)
    auth = node.auth()["Authorization"]
    try:
        s.sendall((f"POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Length: {len(body)}\r\n"
                   "Expect: 100-continue\r\n\r\n").encode())
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(body)
        status, _, reply = Reader(s).response()
    finally:
        s.close()
    assert status == 200 and json.loads(reply)["result"]["network"] == "regtest"


def test_http_1_0_gets_its_answer_then_the_connection_closes(node):
    s = _connect(node)
    try:
        s.sendall(_post(node, _call("status", 1), version="1.0"))
        r = Reader(s)
        status, headers, body = r.response()
        assert status == 200 and headers.get("connection") == "close"
        assert json.loads(body)["id"] == 1
        assert r.closed()
    finally:
        s.close()


def test_a_chunked_request_body_is_read(node):
    body = _call("status", 3)
    auth = node.auth()["Authorization"]
    s = _connect(node)
    try:
        head = f"POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nTransfer-Encoding: chunked\r\n\r\n"
        first, rest = body[:9], body[9:]
        s.sendall((head + f"{len(first):x}\r\n").encode() + first + f"\r\n{len(rest):x}\r\n".encode()
                  + rest + b"\r\n0\r\n\r\n")
        status, _, reply = Reader(s).response()
    finally:
        s.close()
    assert status == 200 and json.loads(reply)["id"] == 3


@pytest.mark.parametrize("garbage", [b"NOT HTTP AT ALL\r\n\r\n",
                                     b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                                     b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"])
def test_a_malformed_request_is_400_and_the_node_serves_on(node, garbage):
    s = _connect(node)
    try:
        s.sendall(garbage)
        status, headers, body = Reader(s).response()
    finally:
        s.close()
    assert status == 400 and headers.get("connection") == "close", body
    assert "error" in json.loads(body)
    assert node.call("status")["network"] == "regtest"


def test_a_non_ascii_password_is_401_not_a_server_error(node):
    import base64

    s = _connect(node)
    body = _call("status", 1)
    auth = base64.b64encode("__cookie__:pässwörd".encode()).decode()
    try:
        s.sendall((f"POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
        status, headers, _ = Reader(s).response()
    finally:
        s.close()
    assert status == 401 and "basic" in headers.get("www-authenticate", "").lower()


def test_an_upgrade_request_is_answered_as_http_and_closed(node):
    s = _connect(node)
    try:
        s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        r = Reader(s)
        status, _, body = r.response()
        assert status == 401 and b"unauthorized" in body  # no cookie: the usual answer, not a websocket
        assert r.closed()
    finally:
        s.close()


def test_concurrent_submissions_each_get_their_own_answer(node):
    """Submissions from several connections at once are admitted as a group: each still answers with its
    own txid, in each connection's order, and a bad one refuses only itself."""
    keys = [crypto.dev_keypair(i) for i in range(4)]
    status = node.call("status")
    if status["height"] == 0:
        node.call("mine", [1])  # (dev accounts are funded at genesis; a block first keeps nonces simple)
    plans = []
    for k, key in enumerate(keys):
        nonce = node.call("account", [crypto.encode_address(REGTEST.hrp, key.address)])["nonce"]
        to = keys[(k + 1) % 4].address
        txs = [make_transfer(REGTEST.chain_id, nonce + j, REGTEST.min_fee, key.pubkey, to, 1_000).signed(key)
               for j in range(20)]
        bodies = [_call("submit_tx", j, [tx.encode().hex()]) for j, tx in enumerate(txs)]
        bodies[10] = _call("submit_tx", 10, ["zz"])  # not hex: refused alone
        plans.append((txs, bodies))
    answers: list[list[dict]] = [[] for _ in keys]

    def client(k: int) -> None:
        s = _connect(node)
        try:
            r = Reader(s)
            for body in plans[k][1]:
                s.sendall(_post(node, body))
                answers[k].append(json.loads(r.response()[2]))
        finally:
            s.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(len(keys))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    for k, (txs, _) in enumerate(plans):
        got = answers[k]
        assert [a["id"] for a in got] == list(range(20))
        assert got[10]["error"]["data"]["reason"] == "bad-hex"
        for j in (0, 9):  # before the gap: pooled and ready
            assert got[j]["result"]["txid"] == txs[j].txid.hex() and got[j]["result"]["ready"] is True
        for j in range(11, 20):  # after the gap: pooled, waiting for nonce 10
            assert got[j]["result"]["txid"] == txs[j].txid.hex() and got[j]["result"]["ready"] is False
