"""JSON-RPC end to end: a real `chaintop node` process on a free loopback port, spoken to over raw HTTP."""

from __future__ import annotations

import base64
import http.client
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from chain import crypto
from chain.params import COIN, REGTEST
from chain.tx import make_transfer
from node.node import Node

ROOT = Path(__file__).resolve().parents[2]
HEX64_CHARS = set("0123456789abcdef")


# -- a real node process ------------------------------------------------------------------------


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def cli(datadir: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", "--datadir", str(datadir), *args],
                          capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=timeout)


def init_regtest(datadir: Path) -> None:
    Node.create(datadir, "regtest").close()


class NodeProc:
    """One `chaintop node` process: its rpc url and cookie once it has published node.json."""

    def __init__(self, datadir: Path, *extra: str) -> None:
        self.datadir = datadir
        self.proc = subprocess.Popen([sys.executable, "-m", "cli.main", "--datadir", str(datadir), "node",
                                      "--mining", "manual", *extra], cwd=ROOT, env=_env(),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        info = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"node exited {self.proc.returncode} at startup: "
                                     f"{self.proc.stderr.read()}")
            try:
                info = json.loads((datadir / "node.json").read_text())
            except (OSError, ValueError):
                info = None
            if info and info.get("pid") == self.proc.pid and (datadir / ".cookie").exists():
                break
            time.sleep(0.03)
        else:
            raise AssertionError(f"node did not publish node.json within 20 s (info={info})")
        self.info = info
        u = urlparse(info["rpc_url"])
        self.host, self.port = u.hostname, u.port
        user, _, self.cookie = (datadir / ".cookie").read_text().strip().partition(":")
        assert user == "__cookie__"

    # raw HTTP ------------------------------------------------------------------------------
    def auth(self, cookie: str | None = None, user: str = "__cookie__") -> dict:
        token = base64.b64encode(f"{user}:{self.cookie if cookie is None else cookie}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def http(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body, headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def post(self, payload, headers: dict | None = None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        status, hdrs, data = self.http("POST", "/", body, {"Content-Type": "application/json",
                                                          **(self.auth() if headers is None else headers)})
        return status, data

    def call_raw(self, method: str, params=None, rid: int = 1) -> dict:
        status, data = self.post({"jsonrpc": "2.0", "id": rid, "method": method,
                                  **({"params": params} if params is not None else {})})
        assert status == 200, (status, data)
        reply = json.loads(data)
        assert reply["jsonrpc"] == "2.0" and reply["id"] == rid, reply
        return reply

    def call(self, method: str, params=None):
        reply = self.call_raw(method, params)
        assert "error" not in reply, f"{method}{params!r}: {reply['error']}"
        return reply["result"]

    def error(self, method: str, params=None) -> dict:
        reply = self.call_raw(method, params)
        assert "result" not in reply and "error" in reply, f"{method}{params!r} should fail: {reply}"
        return reply["error"]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None and not f.closed:
                f.close()


@pytest.fixture
def start_node():
    """Start node processes; every one is killed at teardown, whatever the test did."""
    started: list[NodeProc] = []

    def start(datadir: Path, *extra: str) -> NodeProc:
        n = NodeProc(datadir, *extra)
        started.append(n)
        return n

    yield start
    for n in started:
        n.kill()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One regtest node for the read-mostly tests of this module; killed at teardown."""
    d = tmp_path_factory.mktemp("rpc") / "chain"
    init_regtest(d)
    n = NodeProc(d)
    try:
        yield n
    finally:
        n.kill()


def signed_transfer_hex(n: NodeProc, sender: int, to: int, amount: int,
                        fee: int | None = None) -> tuple[str, str]:
    """A transfer signed here, with the nonce the node says is next: (txid hex, raw hex)."""
    key, dest = crypto.dev_keypair(sender), crypto.dev_keypair(to)
    nonce = n.call("account", {"address": f"dev{sender}"})["next_nonce"]
    tx = make_transfer(REGTEST.chain_id, nonce, fee or REGTEST.min_fee, key.pubkey, dest.address,
                       amount).signed(key)
    return tx.txid.hex(), tx.encode().hex()


# -- authentication --------------------------------------------------------------------------------


def test_no_cookie_is_401(shared):
    status, hdrs, body = shared.http("POST", "/",
                                     json.dumps({"jsonrpc": "2.0", "id": 1, "method": "status"}).encode(),
                                     {"Content-Type": "application/json"})
    assert status == 401
    assert "Basic" in hdrs.get("WWW-Authenticate", "")
    assert b"result" not in body and b"regtest" not in body  # nothing leaks before authentication


@pytest.mark.parametrize("headers", [
    pytest.param("wrong-cookie", id="wrong-cookie"),
    pytest.param("wrong-user", id="right-cookie-wrong-user"),
    pytest.param("not-basic", id="bearer-scheme"),
    pytest.param("garbage", id="undecodable-basic"),
])
def test_wrong_credentials_are_401(shared, headers):
    h = {
        "wrong-cookie": shared.auth("0" * 64),
        "wrong-user": shared.auth(user="alice"),
        "not-basic": {"Authorization": f"Bearer {shared.cookie}"},
        "garbage": {"Authorization": "Basic %%%not-base64"},
    }[headers]
    status, body = shared.post({"jsonrpc": "2.0", "id": 1, "method": "status"}, headers=h)
    assert status == 401, body
    assert b"regtest" not in body


def test_events_stream_needs_the_cookie(shared):
    status, _, _ = shared.http("GET", "/events", None, shared.auth("f" * 64))
    assert status == 401


def test_cookie_file_is_private(shared):
    assert (shared.datadir / ".cookie").stat().st_mode & 0o777 == 0o600
    assert len(shared.cookie) >= 32


# -- JSON-RPC error codes --------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b'{"jsonrpc": "2.0", "method": "status"'])
def test_malformed_json_is_parse_error(shared, body):
    status, data = shared.post(body)
    assert status == 200
    reply = json.loads(data)
    assert reply["jsonrpc"] == "2.0" and reply["id"] is None
    assert reply["error"]["code"] == -32700
    assert "result" not in reply


def test_invalid_request_is_32600(shared):
    status, data = shared.post({"id": 7, "method": "status"})  # no "jsonrpc": "2.0"
    reply = json.loads(data)
    assert reply["error"]["code"] == -32600 and reply["id"] == 7


@pytest.mark.parametrize("method", ["no_such_method", "Status", "__init__", "_find", "close"])
def test_unknown_method(shared, method):
    err = shared.error(method)
    assert err["code"] == -32601
    assert method in err["message"]


@pytest.mark.parametrize(("method", "params", "field"), [
    ("block", [], "id"),
    ("block", {}, "id"),
    ("mine", {"blocks": "x"}, "blocks"),
    ("mine", ["x"], "blocks"),
    ("mine", {"blocks": True}, "blocks"),  # a bool is not a count, although Python calls it an int
    ("send", {"from": "dev0", "to": "dev1", "amount": "1"}, "amount"),
    ("send", {"from": "dev0", "to": "dev1"}, "amount"),
    ("send", {"from": "dev0", "to": "dev1", "amount": 5, "fee": 1.5}, "fee"),
    ("account", {"address": "dev1", "colour": "red"}, "colour"),
    ("tx", {"txid": 12}, "txid"),
    ("mining_set", [None], "mode"),
])
def test_bad_params_name_the_field(shared, method, params, field):
    err = shared.error(method, params)
    assert err["code"] == -32602, err
    assert err["data"]["field"] == field, err
    assert field in err["message"]


def test_too_many_positional_params(shared):
    err = shared.error("status", [1])
    assert err["code"] == -32602


def test_chain_errors_carry_the_reason_code(shared):
    err = shared.error("block", {"id": "999999"})
    assert err["code"] == -32000
    assert err["data"]["reason"] == "block-not-found"
    err = shared.error("tx", {"txid": "ab" * 32})
    assert err["data"]["reason"] == "tx-not-found"
    err = shared.error("submit_tx", {"tx": "zz"})
    assert err["data"]["reason"] == "bad-hex"


def test_body_over_one_mib_is_413(shared):
    big = b'{"jsonrpc": "2.0", "id": 1, "method": "status", "pad": "' + b"a" * (1 << 20) + b'"}'
    assert len(big) > 1 << 20
    status, data = shared.post(big)
    assert status == 413, data
    # the server is still answering afterwards
    assert shared.call("status")["network"] == "regtest"


def test_body_just_under_the_limit_is_parsed(shared):
    head = b'{"jsonrpc": "2.0", "id": 1, "method": "status", "pad": "'
    body = head + b"a" * ((1 << 20) - len(head) - 2) + b'"}'
    assert len(body) == 1 << 20
    status, data = shared.post(body)
    assert status == 200
    assert json.loads(data)["result"]["network"] == "regtest"


def test_batch_and_notification(shared):
    status, data = shared.post([{"jsonrpc": "2.0", "id": 1, "method": "status"},
                                {"jsonrpc": "2.0", "method": "status"},  # a notification gets no reply
                                {"jsonrpc": "2.0", "id": 3, "method": "nope"}])
    replies = json.loads(data)
    assert [r["id"] for r in replies] == [1, 3]
    assert replies[0]["result"]["network"] == "regtest"
    assert replies[1]["error"]["code"] == -32601


# -- results ------------------------------------------------------------------------------------


def test_read_results(shared):
    status = shared.call("status")
    assert status["network"] == "regtest" and status["consensus"] == "pow"
    assert set(status["head"]) <= HEX64_CHARS and len(status["head"]) == 64
    head_block = shared.call("block", {"id": status["height"]})
    assert head_block["hash"] == status["head"] and head_block["height"] == status["height"]
    by_hash = shared.call("block", [status["head"]])
    assert by_hash == head_block
    genesis = shared.call("block", ["0"])
    assert genesis["height"] == 0 and genesis["txs"] == []
    acct = shared.call("account", {"address": "dev1"})
    assert acct["address"] == crypto.encode_address(REGTEST.hrp, crypto.dev_keypair(1).address)
    assert isinstance(acct["balance"], int) and acct["balance"] > 0
    assert isinstance(shared.call("mempool"), list)
    keys = shared.call("keys")
    assert [k["label"] for k in keys[:2]] == ["dev0", "dev1"]
    assert shared.call("blocks", {"last": 1})[0]["hash"] == status["head"]


def test_submit_signed_hex_then_mine_confirms(shared):
    txid, raw = signed_transfer_hex(shared, 3, 4, 2 * COIN)
    before = shared.call("account", ["dev4"])["balance"]
    res = shared.call("submit_tx", {"tx": raw})
    assert res["txid"] == txid and res["ready"] is True
    pending = shared.call("tx", [txid])
    assert pending["status"] == "pending" and pending["confirmations"] == 0 and pending["block"] is None
    assert txid in [t["txid"] for t in shared.call("mempool")]
    # the same bytes again: refused with the reason code
    err = shared.error("submit_tx", [raw])
    assert err["data"]["reason"] == "txn-already-in-mempool"
    mined = shared.call("mine", {"blocks": 1})
    assert len(mined["blocks"]) == 1
    confirmed = shared.call("tx", {"txid": txid})
    assert confirmed["status"] == "confirmed"
    assert confirmed["block"] == mined["blocks"][0] and confirmed["confirmations"] == 1
    assert shared.call("account", ["dev4"])["balance"] == before + 2 * COIN
    assert txid not in [t["txid"] for t in shared.call("mempool")]
    proof = shared.call("proof", [txid])
    assert proof["verified"] is True and proof["block"] == mined["blocks"][0]


def test_send_then_mine_then_confirmed(shared):
    sent = shared.call("send", {"from": "dev1", "to": "dev2", "amount": 3 * COIN, "fee": 5_000})
    txid = sent["txid"]
    assert shared.call("tx", [txid])["status"] == "pending"
    h0 = shared.call("status")["height"]
    mined = shared.call("mine", [2])
    assert len(mined["blocks"]) == 2 and mined["height"] == h0 + 2
    t = shared.call("tx", [txid])
    assert t["status"] == "confirmed" and t["confirmations"] == 2 and t["height"] == h0 + 1
    assert txid in shared.call("block", [h0 + 1])["txs"]


def test_fee_too_low_reason(shared):
    err = shared.error("send", {"from": "dev1", "to": "dev2", "amount": 1, "fee": 1})
    assert err["code"] == -32000 and err["data"]["reason"] == "fee-too-low"


# -- server-sent events -------------------------------------------------------------------------


class SseReader:
    """Reads GET /events on a thread; events land in a queue as dicts."""

    def __init__(self, n: NodeProc) -> None:
        self.conn = http.client.HTTPConnection(n.host, n.port, timeout=30)
        self.conn.request("GET", "/events", headers=n.auth())
        self.resp = self.conn.getresponse()
        self.events: queue.Queue = queue.Queue()
        self.connected = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        name = None
        try:
            for line in self.resp:
                line = line.decode().rstrip("\n")
                if line.startswith(": connected"):
                    self.connected.set()
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                    self.events.put((name, data))
        except (OSError, ValueError):
            pass

    def wait_for(self, pred, timeout: float = 15) -> list[tuple[str, dict]]:
        """Events read until one satisfies pred (inclusive)."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.events.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append(item)
            if pred(*item):
                return seen
        raise AssertionError(f"no matching event within {timeout} s; saw {[s[0] for s in seen]}")

    def close(self) -> None:
        self.conn.close()


def test_sse_streams_tx_added_then_block_connected(shared):
    r = SseReader(shared)
    try:
        assert r.resp.status == 200
        assert r.resp.getheader("Content-Type", "").startswith("text/event-stream")
        assert r.connected.wait(10), "no ': connected' comment on the stream"
        txid = shared.call("send", {"from": "dev5", "to": "dev6", "amount": COIN})["txid"]
        mined = shared.call("mine", [1])["blocks"][0]
        seen = r.wait_for(lambda name, e: name == "BlockConnected" and e["hash"] == mined)
        names = [n for n, _ in seen]
        added = [i for i, (n, e) in enumerate(seen) if n == "TxAdded" and e["txid"] == txid]
        assert added, f"no TxAdded for {txid}: {names}"
        connected = seen[-1][1]
        assert connected["event"] == "BlockConnected" and txid in connected["txs"]
        assert added[0] < len(seen) - 1  # TxAdded came first
        tx_added = seen[added[0]][1]
        assert tx_added["sender"] == crypto.encode_address(REGTEST.hrp, crypto.dev_keypair(5).address)
        # the pool says why it dropped the tx (the node emits this around BlockConnected; either order is
        # fine)
        removed = [e for n, e in seen if n == "TxRemoved" and e["txid"] == txid]
        if not removed:
            removed = [r.wait_for(lambda name, e: name == "TxRemoved" and e["txid"] == txid)[-1][1]]
        assert [e["reason"] for e in removed] == ["included"]
    finally:
        r.close()


# -- the data-dir lock, shutdown, restart ---------------------------------------------------------


def test_second_node_on_same_datadir_is_refused(tmp_path, start_node):
    d = tmp_path / "chain"
    init_regtest(d)
    first = start_node(d)
    txid = first.call("send", {"from": "dev0", "to": "dev1", "amount": COIN})["txid"]
    info_before = (d / "node.json").read_text()
    cookie_before = (d / ".cookie").read_text()

    second = cli(d, "node", "--mining", "manual")
    assert second.returncode == 1, (second.returncode, second.stderr)
    assert "datadir-locked" in second.stderr, second.stderr
    assert "Traceback" not in second.stderr + second.stdout
    assert str(first.proc.pid) in second.stderr  # says who holds it

    # the first node is untouched: same runtime files, still serving, chain intact
    assert (d / "node.json").read_text() == info_before
    assert (d / ".cookie").read_text() == cookie_before
    assert first.proc.poll() is None
    assert first.call("mine", [1])["height"] == 1
    assert first.call("tx", [txid])["status"] == "confirmed"
    verify = first.call("db_verify")
    assert verify["ok"] is True, verify["errors"]
    assert first.stop() == 0


def test_sigterm_exits_cleanly_and_the_mempool_survives_restart(tmp_path, start_node):
    d = tmp_path / "chain"
    init_regtest(d)
    n = start_node(d)
    n.call("mine", [1])
    sent = [n.call("send", {"from": f"dev{i}", "to": "dev9", "amount": COIN * (i + 1),
                            "fee": 1_000 + 100 * i})["txid"]
            for i in range(4)]
    sent.append(n.call("send", {"from": "dev0", "to": "dev8", "amount": COIN})["txid"])  # dev0's second nonce
    _, raw = signed_transfer_hex(n, 7, 2, COIN)
    sent.append(n.call("submit_tx", [raw])["txid"])
    pool_before = sorted(t["txid"] for t in n.call("mempool"))
    assert pool_before == sorted(sent)
    head_before = n.call("status")["head"]

    assert n.stop(signal.SIGTERM) == 0
    assert not (d / "node.json").exists()
    assert not (d / ".cookie").exists()

    again = start_node(d)
    assert again.cookie != n.cookie  # a fresh cookie per run
    assert sorted(t["txid"] for t in again.call("mempool")) == pool_before
    assert again.call("status")["head"] == head_before
    assert again.call("account", ["dev0"])["next_nonce"] == 2  # lanes rebuilt in nonce order
    mined = again.call("mine", [1])
    assert sorted(again.call("block", [mined["blocks"][0]])["txs"]) == pool_before
    assert again.stop(signal.SIGINT) == 0
    assert not (d / "node.json").exists()


def test_rpc_stop_method_shuts_down_cleanly(tmp_path, start_node):
    d = tmp_path / "chain"
    init_regtest(d)
    n = start_node(d)
    assert n.call("stop") == {"stopping": True}
    assert n.proc.wait(20) == 0
    assert not (d / "node.json").exists() and not (d / ".cookie").exists()


def test_sigterm_with_an_event_stream_open_still_exits_promptly(tmp_path, start_node):
    d = tmp_path / "chain"
    init_regtest(d)
    n = start_node(d, "--traffic", "20")
    r = SseReader(n)
    try:
        r.wait_for(lambda name, e: name == "TxAdded")
        t0 = time.monotonic()
        assert n.stop(signal.SIGTERM, timeout=15) == 0
        assert time.monotonic() - t0 < 10
        assert not (d / "node.json").exists() and not (d / ".cookie").exists()
        r.thread.join(10)
        assert not r.thread.is_alive(), "the event stream did not end when the node stopped"
    finally:
        r.close()


def _strict_json(data: bytes):
    def reject(const):
        raise ValueError(f"not JSON: {const}")

    return json.loads(data, parse_constant=reject)


@pytest.mark.parametrize("rate", ["NaN", "-Infinity"])
def test_traffic_rate_must_be_a_real_number(shared, rate):
    # Python's json module reads NaN/Infinity; a rate that is not a number must be refused like -1 is,
    # and the reply must stay strict JSON that any client can parse.
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "traffic_set", "params": {"rate": ' + rate.encode() + b"}}"
    try:
        status, data = shared.post(body)
        assert status == 200
        try:
            reply = _strict_json(data)
        except ValueError as e:
            raise AssertionError(f"traffic_set({rate}) answered with invalid JSON ({e}): {data!r}") from None
        assert "error" in reply, f"traffic_set({rate}) was accepted: {data!r}"
        assert reply["error"]["code"] in (-32602, -32000)
    finally:
        shared.call("traffic_set", {"rate": 0})
    assert shared.call("mining_get")["traffic"] == 0


def test_rpc_port_in_use_is_a_clear_error(tmp_path, start_node):
    a, b = tmp_path / "a", tmp_path / "b"
    init_regtest(a)
    init_regtest(b)
    first = start_node(a)
    p = cli(b, "node", "--mining", "manual", "--rpc-port", str(first.port))
    assert "Traceback" not in p.stderr, f"a busy port gives a traceback:\n{p.stderr[-600:]}"
    assert p.returncode == 1, p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(first.port) in lines[0], p.stderr
    # the failed start leaves no runtime files that would point CLI commands at a node that is not there
    assert not (b / "node.json").exists() and not (b / ".cookie").exists()
    assert first.call("status")["network"] == "regtest"
