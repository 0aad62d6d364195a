"""What users of bitcoind -regtest, anvil and Ganache reach for, from the CLI: `send --nonce`, queued
transactions behind a nonce gap, `mempool drop`, "replaced by", account history, block paging and
`rpc help`. Each runs on a data dir the CLI opens itself and on one a `chaintop node` holds (over RPC)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from node.api import METHODS
from node.client import RpcClient
from tests.cli.nodeproc import held_by_node

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("chaintop")
CHAINTOP = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "cli.main"]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
    env.update(PYTHONUNBUFFERED="1", COLUMNS="160")
    return env


def run(datadir: Path | None, *args: str) -> subprocess.CompletedProcess:
    cmd = [*CHAINTOP, *(["--datadir", str(datadir)] if datadir is not None else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=60)


def ok(datadir: Path | None, *args: str) -> str:
    p = run(datadir, *args)
    assert p.returncode == 0, f"chaintop {' '.join(args)} exited {p.returncode}: {p.stderr}"
    assert "Traceback" not in p.stdout + p.stderr
    return p.stdout


def js(datadir: Path, *args: str):
    return json.loads(ok(datadir, *args, "--json"))


def fails(datadir: Path | None, *args: str, code: str) -> str:
    p = run(datadir, *args)
    assert p.returncode == 1 and "Traceback" not in p.stderr, (p.returncode, p.stderr)
    assert f"({code})" in p.stderr, p.stderr
    return p.stderr


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(params=["embedded", "running-node"])
def chain(request, tmp_path):
    """A regtest data dir with 3 mined blocks; opened by each command, or held by `chaintop node`."""
    d = tmp_path / "c"
    ok(d, "init", "--network", "regtest")
    ok(d, "mine", "--blocks", "3")
    if request.param == "embedded":
        yield d
        return
    with held_by_node(CHAINTOP, d, tmp_path / "node.log", _env(), ROOT):
        yield d


def test_nonce_gap_drop_and_replace(chain):
    d = chain
    late = js(d, "send", "--from", "dev0", "--to", "dev1", "--amount", "1", "--nonce", "2")
    assert late["ready"] is False
    (row,) = js(d, "mempool")
    assert (row["ready"], row["waiting_for_nonce"]) == (False, 0)
    assert "queued (nonce gap: waiting for nonce 0)" in flat(ok(d, "mempool"))
    assert "pending, queued (nonce gap: waiting for nonce 0)" in flat(ok(d, "tx", late["txid"]))

    first = js(d, "send", "--from", "dev0", "--to", "dev1", "--amount", "1")  # nonce 0: the next one
    pool = {t["nonce"]: t for t in js(d, "mempool")}
    assert pool[0]["ready"] and pool[2]["waiting_for_nonce"] == 1
    replaced = ok(d, "send", "--from", "dev0", "--to", "dev1", "--amount", "1", "--fee", "0.00002",
                  "--nonce", "0")
    assert f"(replaced {first['txid']})" in replaced
    new = re.search(r"txid ([0-9a-f]{64})", replaced).group(1)
    old = js(d, "tx", first["txid"])
    assert (old["status"], old["removed_reason"], old["replaced_by"]) == ("removed", "replaced", new)
    assert f"replaced by {new}" in flat(ok(d, "tx", first["txid"]))

    dropped = ok(d, "mempool", "drop", new)
    assert f"dropped: txid {new} (nonce 0)" in dropped and "1 later transaction(s)" in dropped
    assert [t["txid"] for t in js(d, "mempool")] == [late["txid"]]
    assert "removed from the mempool: dropped" in flat(ok(d, "tx", new))
    fails(d, "mempool", "drop", new, code="tx-not-pending")
    assert js(d, "mempool", "drop", late["txid"])["queued"] == []
    assert js(d, "mempool") == []


def test_account_history_and_block_paging(chain):
    d = chain
    sent = js(d, "send", "--from", "dev0", "--to", "dev1", "--amount", "1.5")
    ok(d, "mine", "--blocks", "1")
    back = js(d, "send", "--from", "dev1", "--to", "dev0", "--amount", "0.5")
    ok(d, "mine", "--blocks", "1")
    history = js(d, "account", "dev1", "--history")
    assert [(t["txid"], t["height"]) for t in history] == [(back["txid"], 5), (sent["txid"], 4)]
    text = flat(ok(d, "account", "dev1", "--history"))
    assert "sent to" in text and "-0.5" in text and "received from" in text and "+1.5" in text
    assert [t["txid"] for t in js(d, "account", "dev1", "--history", "--limit", "1")] == [back["txid"]]
    fails(d, "account", "dev1", "--history", "--limit", "0", code="bad-limit")

    assert [b["height"] for b in js(d, "blocks", "--last", "2", "--from", "2")] == [2, 1]
    assert "blocks 1–2 of the main chain" in ok(d, "blocks", "--last", "2", "--from", "2")
    assert [b["height"] for b in js(d, "blocks", "--last", "3")] == [5, 4, 3]


def test_rpc_help_lists_every_method_with_its_params(chain):
    text = ok(None, "rpc", "help")  # the method table itself: no node needed
    for name in [*METHODS, "help"]:
        assert re.search(rf"^ *{name}\b", text, re.M), f"rpc help does not list {name}:\n{text}"
    assert "blocks [last=10] [start]" in text and "mempool_drop txid" in text
    one = ok(None, "rpc", "help", "send")
    assert "chaintop rpc send from to amount [fee] [nonce]" in one
    assert re.search(r"nonce\s+int, optional", one)
    fails(None, "rpc", "help", "nope", code="unknown-method")
    client = RpcClient.for_datadir(chain)
    if client is None:
        return  # embedded: the JSON-RPC side is for the running node
    (tx,) = client.raw_call("help", {"method": "tx"})["result"]
    assert tx["params"] == [{"name": "txid", "type": "str", "required": True, "default": None}]
    assert (tx["method"], tx["usage"]) == ("tx", "tx txid") and "transaction" in tx["description"]
    assert len(client.raw_call("help")["result"]) == len(METHODS) + 1
    assert client.raw_call("help", ["nope"])["error"]["code"] == -32601
    sent = js(chain, "send", "--from", "dev2", "--to", "dev3", "--amount", "1")["txid"]
    assert client.call("mempool_drop", txid=sent) == {"txid": sent, "sender": js(chain, "account", "dev2")[
        "address"], "nonce": 0, "queued": []}
