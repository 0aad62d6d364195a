"""The `chaintop` console script as a user runs it: JSON shapes, consistent values, and clean errors."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chain import crypto, merkle
from chain.errors import StoreError
from chain.params import COIN, REGTEST
from storage.lock import read_holder
from storage.store import ChainStore
from tests.cli.nodeproc import held_by_node

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("chaintop")
CHAINTOP = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "cli.main"]
HEX64 = re.compile(r"^[0-9a-f]{64}$")
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
MINED_LINE = re.compile(r"^mined block (\d+) ([0-9a-f]{64}) txs=(\d+)$")
MIN_FEE = REGTEST.min_fee


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run(datadir: Path | None, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [*CHAINTOP, *(["--datadir", str(datadir)] if datadir is not None else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env or _env(), timeout=60)


def ok(datadir: Path, *args: str) -> str:
    p = run(datadir, *args)
    assert p.returncode == 0, f"chaintop {' '.join(args)} exited {p.returncode}: {p.stderr}"
    assert "Traceback" not in p.stdout + p.stderr
    return p.stdout


def js(datadir: Path, *args: str):
    out = ok(datadir, *args, "--json")
    return json.loads(out)


def fails(datadir: Path | None, *args: str, code: str) -> str:
    """A user mistake: exit 1, one `error: ... (code)` line on stderr, nothing on stdout, no traceback."""
    p = run(datadir, *args)
    assert "Traceback" not in p.stdout + p.stderr, p.stderr
    assert p.returncode == 1, f"chaintop {' '.join(args)}: exit {p.returncode}, stderr {p.stderr!r}"
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one error line, got {p.stderr!r}"
    assert f"({code})" in lines[0], f"expected reason ({code}) in {lines[0]!r}"
    assert lines[0].startswith("error"), lines[0]
    assert p.stdout.strip() == "", p.stdout
    return lines[0]


def assert_snake_keys(obj: dict) -> None:
    bad = [k for k in obj if not SNAKE.match(k)]
    assert not bad, f"keys not snake_case: {bad}"


def init(datadir: Path) -> dict:
    return js(datadir, "init", "--network", "regtest")


def mistype(address: str) -> str:
    """Change one data character (after the separator), staying inside the bech32 alphabet."""
    i = address.rindex("1") + 5
    return address[:i] + ("q" if address[i] != "q" else "p") + address[i + 1 :]


@pytest.fixture(scope="module")
def chain_dir(tmp_path_factory) -> Path:
    """A regtest chain with one mined block; tests on it only read or fail (they never change it)."""
    d = tmp_path_factory.mktemp("cli") / "chain"
    init(d)
    ok(d, "mine", "--blocks", "1")
    return d


# -- shapes and a transaction's life ------------------------------------------------------


def test_init_and_status_json(tmp_path):
    d = tmp_path / "c"
    created = init(d)
    assert created["network"] == "regtest"
    status = js(d, "status")
    assert_snake_keys(status)
    assert {"network", "consensus", "height", "head"} <= status.keys()
    assert status["network"] == "regtest"
    assert status["consensus"] == "pow"
    assert status["height"] == 0
    assert HEX64.match(status["head"])
    assert status["head"] == created["head"]
    genesis = js(d, "block", "0")
    assert genesis["hash"] == status["head"]
    assert genesis["height"] == 0 and genesis["txs"] == []
    # the env var names the same data dir as --datadir
    env = _env() | {"CHAINTOP_DATADIR": str(d)}
    p = run(None, "status", "--json", env=env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["head"] == status["head"]


def test_keys_list_json(chain_dir):
    keys = js(chain_dir, "keys", "list")
    assert isinstance(keys, list) and len(keys) >= 2
    for k in keys:
        assert {"label", "address", "dev"} <= k.keys()
        assert_snake_keys(k)
        assert k["address"].startswith(REGTEST.hrp + "1")
        assert k["dev"] is True
    labels = [k["label"] for k in keys]
    assert labels[:2] == ["dev0", "dev1"]
    assert len({k["address"] for k in keys}) == len(keys)
    # an account looked up by label and by address is the same account
    by_label = js(chain_dir, "account", "dev1")
    by_address = js(chain_dir, "account", keys[1]["address"])
    assert by_label == by_address
    assert by_label["address"] == keys[1]["address"]


@pytest.fixture(params=["embedded", "running-node"])
def fresh_chain(request, tmp_path):
    """A new regtest data dir; opened by each command itself, or held by `chaintop node` (commands go over
    RPC)."""
    d = tmp_path / "c"
    init(d)
    if request.param == "embedded":
        yield d
        return
    with held_by_node(CHAINTOP, d, tmp_path / "node.log", _env(), ROOT):
        yield d


def test_send_mine_confirm_and_balances(fresh_chain):
    d = fresh_chain
    keys = {k["label"]: k["address"] for k in js(d, "keys", "list")}
    before = {label: js(d, "account", label) for label in ("dev0", "dev1", "dev2", "dev3")}
    for a in before.values():
        assert {"address", "balance", "nonce"} <= a.keys()
        assert_snake_keys(a)
        assert isinstance(a["balance"], int)

    # three transfers so the block's tx tree has more than one leaf and proofs have a path
    sent1 = js(d, "send", "--from", "dev0", "--to", keys["dev1"], "--amount", "1.5")
    assert set(sent1) >= {"txid"} and HEX64.match(sent1["txid"])
    sent2 = js(d, "send", "--from", "dev0", "--to", "dev1", "--amount", "0.25", "--fee", "0.0001")
    sent3 = js(d, "send", "--from", "dev3", "--to", "dev1", "--amount", "2")
    txids = [sent1["txid"], sent2["txid"], sent3["txid"]]
    assert len(set(txids)) == 3

    pending = js(d, "tx", sent1["txid"])
    assert_snake_keys(pending)
    assert {"txid", "status", "block", "confirmations"} <= pending.keys()
    assert pending["txid"] == sent1["txid"]
    assert pending["status"] == "pending"
    assert pending["block"] is None
    assert pending["confirmations"] == 0
    pool = js(d, "mempool")
    assert {t["txid"] for t in pool} == set(txids)
    fail_proof = fails(d, "proof", sent1["txid"], code="tx-not-confirmed")
    assert "pending" in fail_proof

    mined = js(d, "mine", "--blocks", "1", "--to", "dev2")
    assert list(mined["blocks"]) == mined["blocks"] and len(mined["blocks"]) == 1
    block_hash = mined["blocks"][0]
    assert HEX64.match(block_hash)

    for txid in txids:
        t = js(d, "tx", txid)
        assert t["status"] == "confirmed"
        assert t["block"] == block_hash
        assert t["confirmations"] == 1
    status = js(d, "status")
    assert status["height"] == 1 and status["head"] == block_hash

    block = js(d, "block", "1")
    assert_snake_keys(block)
    assert {"height", "hash", "parent", "timestamp", "txs"} <= block.keys()
    assert block["height"] == 1
    assert block["hash"] == block_hash
    assert block["parent"] == js(d, "block", "0")["hash"]
    assert isinstance(block["timestamp"], int)
    assert sorted(block["txs"]) == sorted(txids)
    assert js(d, "block", block_hash) == block  # by hash, the same block

    after = {label: js(d, "account", label) for label in before}
    assert after["dev0"]["balance"] == (before["dev0"]["balance"] - (150_000_000 + MIN_FEE)
                                        - (25_000_000 + 10_000))
    assert after["dev0"]["nonce"] == before["dev0"]["nonce"] + 2
    assert after["dev3"]["balance"] == before["dev3"]["balance"] - (2 * COIN + MIN_FEE)
    assert after["dev3"]["nonce"] == before["dev3"]["nonce"] + 1
    assert after["dev1"]["balance"] == before["dev1"]["balance"] + 150_000_000 + 25_000_000 + 2 * COIN
    assert after["dev1"]["nonce"] == before["dev1"]["nonce"]
    fees = 2 * MIN_FEE + 10_000
    assert after["dev2"]["balance"] == before["dev2"]["balance"] + REGTEST.block_reward(1) + fees
    assert js(d, "mempool") == []

    for txid in txids:
        p = js(d, "proof", txid)
        assert p["verified"] is True
        assert p["txid"] == txid and p["block"] == block_hash
        leaf, root = bytes.fromhex(txid), bytes.fromhex(p["tx_root"])
        path = [bytes.fromhex(h) for h in p["proof"]]
        assert p["tree_size"] == 3 and len(path) >= 1
        assert p["tx_root"] == block["tx_root"]
        assert merkle.verify_inclusion(leaf, p["index"], p["tree_size"], path, root)
        # the independent check can fail: the same path does not prove another leaf
        assert not merkle.verify_inclusion(bytes(32), p["index"], p["tree_size"], path, root)

    js(d, "mine", "--blocks", "2")
    assert js(d, "tx", sent1["txid"])["confirmations"] == 3
    recent = js(d, "blocks", "--last", "3")
    assert [b["height"] for b in recent] == [3, 2, 1]
    assert recent[2]["hash"] == block_hash
    assert recent[0]["parent"] == recent[1]["hash"] and recent[1]["parent"] == recent[2]["hash"]
    assert recent[0]["hash"] == js(d, "status")["head"]

    fails(d, "block", "99", code="block-not-found")
    fails(d, "account", mistype(keys["dev1"]), code="bad-address-checksum")
    fails(d, "send", "--from", "dev0", "--to", "dev1", "--amount", "2000000", code="insufficient-balance")
    fails(d, "send", "--from", "nobody", "--to", "dev1", "--amount", "1", code="unknown-key")


def test_mine_prints_one_line_per_block_off_a_tty(tmp_path):
    d = tmp_path / "c"
    init(d)
    out = ok(d, "mine", "--blocks", "3")
    lines = out.splitlines()
    assert len(lines) == 3, out
    parsed = [MINED_LINE.match(ln) for ln in lines]
    assert all(parsed), lines
    recent = {b["height"]: b["hash"] for b in js(d, "blocks", "--last", "3")}
    for m in parsed:
        assert recent[int(m.group(1))] == m.group(2)


# -- user mistakes: exit 1, one line with the reason code, no traceback -------------------


def _keys(d: Path) -> dict[str, str]:
    return {k["label"]: k["address"] for k in js(d, "keys", "list")}


@pytest.mark.parametrize(("args", "code"), [
    (("block", "99"), "block-not-found"),
    (("block", "zz"), "bad-hash"),
    (("block", "ab" * 31), "bad-hash"),
    (("tx", "not-a-txid"), "bad-hash"),
    (("tx", "00" * 32), "tx-not-found"),
    (("proof", "00" * 32), "tx-not-found"),
    (("send", "--from", "dev0", "--to", "dev1", "--amount", "-1"), "bad-amount"),
    (("send", "--from", "dev0", "--to", "dev1", "--amount", "0"), "bad-amount"),
    (("send", "--from", "dev0", "--to", "dev1", "--amount", "abc"), "bad-amount"),
    (("send", "--from", "dev0", "--to", "dev1", "--amount", "1.123456789"), "bad-amount"),
    (("send", "--from", "dev0", "--to", "dev1", "--amount", "2000000"), "insufficient-balance"),
    (("send", "--from", "dev0", "--to", "dev1", "--amount", "1", "--fee", "0"), "fee-too-low"),
    (("blocks", "--last", "0"), "bad-count"),
    (("mine", "--blocks", "0"), "bad-count"),
])
def test_user_mistakes(chain_dir, args, code):
    fails(chain_dir, *args, code=code)


def test_mistakes_do_not_change_the_chain(chain_dir):
    before = js(chain_dir, "status")
    fails(chain_dir, "send", "--from", "dev0", "--to", "dev1", "--amount", "2000000",
          code="insufficient-balance")
    assert js(chain_dir, "status") == before
    assert js(chain_dir, "mempool") == []


def test_unknown_block_height_names_the_head(chain_dir):
    line = fails(chain_dir, "block", "99", code="block-not-found")
    assert "99" in line


def test_mistyped_address(chain_dir):
    good = _keys(chain_dir)["dev1"]
    bad = mistype(good)
    assert bad != good and len(bad) == len(good)
    fails(chain_dir, "account", bad, code="bad-address-checksum")
    fails(chain_dir, "send", "--from", "dev0", "--to", bad, "--amount", "1", code="bad-address-checksum")
    assert js(chain_dir, "mempool") == []


def test_address_of_another_network(chain_dir):
    raw = crypto.decode_address(REGTEST.hrp, _keys(chain_dir)["dev1"])
    devnet_address = crypto.encode_address("ctdev", raw)
    assert not devnet_address.startswith(REGTEST.hrp)
    fails(chain_dir, "account", devnet_address, code="wrong-network")
    fails(chain_dir, "send", "--from", "dev0", "--to", devnet_address, "--amount", "1", code="wrong-network")


def test_unknown_key_for_from_given_as_an_address(chain_dir):
    stranger = crypto.encode_address(REGTEST.hrp, crypto.KeyPair.generate().address)
    fails(chain_dir, "send", "--from", stranger, "--to", "dev1", "--amount", "1", code="unknown-key")


@pytest.mark.parametrize("label", ["dev99", "alice"])
def test_unknown_key_label_for_from(chain_dir, label):
    # `--from` takes "Address or key label"; a label the node does not hold must say so, not complain
    # about bech32 ("address has no '1' separator (bad-address-format)").
    line = fails(chain_dir, "send", "--from", label, "--to", "dev1", "--amount", "1", code="unknown-key")
    assert label in line


def test_status_on_an_empty_datadir(tmp_path):
    d = tmp_path / "nothing-here"
    fails(d, "status", code="no-chain")
    fails(d, "block", "0", code="no-chain")
    assert not d.exists(), "a read command must not create the data dir"


def test_init_twice(tmp_path):
    d = tmp_path / "c"
    head = init(d)["head"]
    fails(d, "init", "--network", "regtest", code="already-initialized")
    assert js(d, "status")["head"] == head


def test_unknown_network(tmp_path):
    d = tmp_path / "c"
    line = fails(d, "init", "--network", "mainnet-please", code="unknown-network")
    assert "regtest" in line  # the message lists the choices
    assert not (d / "chain").exists()


def test_import_garbage_and_damaged_files(chain_dir, tmp_path):
    garbage = tmp_path / "garbage.blk"
    garbage.write_bytes(b"this is not a block export\n" * 10)
    fails(chain_dir, "import", str(garbage), code="bad-export-file")
    good = tmp_path / "good.blk"
    ok(chain_dir, "export", str(good))
    damaged = tmp_path / "damaged.blk"
    damaged.write_bytes(good.read_bytes()[:-7])
    fails(chain_dir, "import", str(damaged), code="bad-export-file")
    fails(chain_dir, "import", str(tmp_path / "missing.blk"), code="cannot-read")


# -- the data-dir lock --------------------------------------------------------------------

HOLDER = """
import sys, time
from node.node import Node
n = Node.open(sys.argv[1])
print('ready', flush=True)
time.sleep(30)
"""


def _wait_line(proc: subprocess.Popen, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            return proc.stdout.readline()
        assert proc.poll() is None, f"holder exited early: {proc.stderr.read()}"
    raise AssertionError("holder never became ready")


def test_datadir_lock_names_the_holder(tmp_path):
    d = tmp_path / "c"
    init(d)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(d)], cwd=ROOT, env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_line(holder).strip() == "ready"
        # not a `chaintop node` (no node.json, no RPC): the CLI cannot reach it and must say who holds the dir
        line = fails(d, "status", code="datadir-locked")
        assert str(holder.pid) in line
        # and below the CLI: the store itself refuses, naming the pid
        with pytest.raises(StoreError) as e:
            ChainStore.open(d)
        assert e.value.code == "datadir-locked"
        assert str(holder.pid) in e.value.message
        assert read_holder(d)["pid"] == holder.pid
    finally:
        holder.kill()
        holder.wait(timeout=10)
    # the lock dies with its holder, even on SIGKILL
    assert js(d, "status")["height"] == 0


def test_store_lock_in_process(tmp_path):
    d = tmp_path / "c"
    init(d)
    first = ChainStore.open(d)
    try:
        with pytest.raises(StoreError) as e:
            ChainStore.open(d)
        assert e.value.code == "datadir-locked"
        assert str(os.getpid()) in e.value.message
    finally:
        first.close()
    second = ChainStore.open(d)  # released on close
    second.close()


# -- a reorg through export and import ----------------------------------------------------


def test_reorg_by_import(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert init(a)["head"] == init(b)["head"], "same network, same genesis"
    # a transaction that only A's branch confirms: it must go back to A's mempool on the reorg
    sent = js(a, "send", "--from", "dev3", "--to", "dev4", "--amount", "3")
    a_blocks = js(a, "mine", "--blocks", "2")["blocks"]
    # B pays another beneficiary so its blocks can never equal A's, even in the same second
    b_blocks = js(b, "mine", "--blocks", "4", "--to", "dev5")["blocks"]
    assert js(a, "tx", sent["txid"])["status"] == "confirmed"
    old_head = js(a, "status")["head"]
    assert old_head == a_blocks[-1]
    b_status = js(b, "status")
    assert b_status["height"] == 4 and b_status["head"] == b_blocks[-1]

    export = tmp_path / "b.blk"
    ok(b, "export", str(export))
    result = js(a, "import", str(export))
    assert result["blocks"] == 4
    # B1 (less work) and B2 (equal work: first seen wins) wait on a side branch; B3 takes over; B4 extends it
    assert (result["side"], result["reorg"], result["connected"], result["duplicate"]) == (2, 1, 1, 0)
    assert len(result["reorgs"]) == 1
    reorg = result["reorgs"][0]
    assert reorg["depth"] == 2
    assert reorg["old_head"] == old_head
    assert reorg["new_head"] == b_blocks[2]

    a_status = js(a, "status")
    assert a_status["head"] == b_status["head"] and a_status["height"] == 4
    assert result["head"] == b_status["head"]
    old = js(a, "block", a_blocks[0])
    assert old["main_chain"] is False
    assert js(a, "block", "1")["hash"] == b_blocks[0]
    back = js(a, "tx", sent["txid"])
    assert back["status"] == "pending" and back["confirmations"] == 0
    assert sent["txid"] in {t["txid"] for t in js(a, "mempool")}

    for d in (a, b):
        v = js(d, "db", "verify")
        assert v["ok"] is True, v["errors"]
        assert v["height"] == 4
