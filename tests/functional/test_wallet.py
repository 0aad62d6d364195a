"""The keystore and offline signing, driven through the `chaintop` CLI as a user would."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chain import crypto
from chain.params import COIN, REGTEST
from node.node import Node

ROOT = Path(__file__).resolve().parents[2]
PW = "correct horse battery staple"


def _env(password: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
    env["PYTHONUNBUFFERED"] = "1"
    if password is not None:
        env["CHAINTOP_PASSWORD"] = password
    return env


def run(datadir: Path, *args: str, password: str | None = PW,
        stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", "--datadir", str(datadir), *args],
                          capture_output=True, text=True, cwd=ROOT, env=_env(password), timeout=60,
                          input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL)


def ok(datadir: Path, *args: str, **kw) -> str:
    p = run(datadir, *args, **kw)
    assert p.returncode == 0, f"chaintop {' '.join(args)} exited {p.returncode}: {p.stderr}"
    assert "Traceback" not in p.stderr
    return p.stdout


def js(datadir: Path, *args: str, **kw):
    return json.loads(ok(datadir, *args, **kw))


def fails(datadir: Path, *args: str, code: str, **kw) -> str:
    p = run(datadir, *args, **kw)
    assert p.returncode == 1, f"chaintop {' '.join(args)}: exit {p.returncode}, stderr {p.stderr!r}"
    assert "Traceback" not in p.stdout + p.stderr, p.stderr
    if "--json" in args:  # the error is JSON on stderr
        assert json.loads(p.stderr)["error"]["reason"] == code, p.stderr
    else:
        assert f"({code})" in p.stderr, p.stderr
    return p.stderr


def init_regtest(datadir: Path) -> None:
    Node.create(datadir, "regtest").close()


def fund_and_mine(datadir: Path, to: str, coins: int) -> None:
    """Scenario setup done in-process (faster than two CLI runs): dev0 pays `to`, one block confirms it."""
    with Node.open(datadir) as node:
        node.send("dev0", to, coins * COIN)
        node.mine(1)


def mine(datadir: Path) -> None:
    with Node.open(datadir) as node:
        node.mine(1)


def account(datadir: Path, address: str) -> dict:
    with Node.open(datadir) as node:
        return node.account(address)


def regtest_address(pubkey_hex: str) -> str:
    return crypto.encode_address(REGTEST.hrp, crypto.compute_address(bytes.fromhex(pubkey_hex)))


# -- the keystore ---------------------------------------------------------------------------------


def test_new_list_export_import_round_trip(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    init_regtest(a)
    init_regtest(b)
    new = js(a, "keys", "new", "alice", "--json")
    assert new["label"] == "alice" and new["dev"] is False
    assert new["address"] == regtest_address(new["pubkey"])

    listed = js(a, "keys", "list", "--json")
    mine = [k for k in listed if k["label"] == "alice"]
    assert len(mine) == 1 and mine[0]["dev"] is False and mine[0]["address"] == new["address"]
    assert all(k["dev"] is True for k in listed if k["label"].startswith("dev"))

    exported = js(a, "keys", "export", "alice", "--json")
    assert exported["pubkey"] == new["pubkey"]
    assert crypto.KeyPair.from_seed(bytes.fromhex(exported["seed"])).pubkey.hex() == new["pubkey"]

    # into another data dir, once by --seed and once on stdin, under a different password
    by_option = js(b, "keys", "import", "alice2", "--seed", exported["seed"], "--json", password="other pw")
    assert by_option["pubkey"] == new["pubkey"] and by_option["address"] == new["address"]
    fails(b, "keys", "import", "alice3", "--json", stdin=exported["seed"] + "\n", code="key-exists")
    c = tmp_path / "c"
    init_regtest(c)
    by_stdin = js(c, "keys", "import", "carol", "--json", stdin=exported["seed"] + "\n")
    assert by_stdin["pubkey"] == new["pubkey"]
    again = js(b, "keys", "export", "alice2", "--json", password="other pw")
    assert again["seed"] == exported["seed"]


def test_keystore_file_is_private_and_holds_no_seed(tmp_path):
    d = tmp_path / "a"
    init_regtest(d)
    js(d, "keys", "new", "alice", "--json")
    seed = js(d, "keys", "export", "alice", "--json")["seed"]
    imported_seed = "11" * 32
    js(d, "keys", "import", "bob", "--seed", imported_seed, "--json")
    path = d / "keystore.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    for s in (seed, imported_seed):
        assert s.lower() not in text.lower()  # neither case of the hex
        assert bytes.fromhex(s).decode("latin-1") not in text  # nor the raw bytes
    assert PW not in path.read_text()
    assert not list(d.glob("keystore.json.tmp"))


def test_wrong_password_is_a_clear_error(tmp_path):
    d = tmp_path / "a"
    init_regtest(d)
    js(d, "keys", "new", "alice", "--json")
    err = fails(d, "keys", "export", "alice", "--json", password="not the password", code="wrong-password")
    assert "alice" in err
    p = run(d, "keys", "export", "alice", "--json", password="not the password")
    assert p.stdout == ""  # nothing secret, nothing half-printed
    # signing with the wrong password fails the same way and submits nothing
    fails(d, "send", "--from", "alice", "--to", "dev1", "--amount", "1", password="nope",
          code="wrong-password")


@pytest.mark.parametrize(("label", "code"), [("dev3", "bad-label"), ("1abc", "bad-label"),
                                             ("x" * 40, "bad-label")])
def test_bad_labels_are_refused(tmp_path, label, code):
    d = tmp_path / "a"
    init_regtest(d)
    fails(d, "keys", "new", label, code=code)
    assert not (d / "keystore.json").exists()


def test_no_password_without_a_terminal(tmp_path):
    d = tmp_path / "a"
    init_regtest(d)
    fails(d, "keys", "new", "alice", password=None, code="password-required")


# -- spending with keystore keys ------------------------------------------------------------------


def test_offline_signing_with_a_keystore_only_datadir(tmp_path):
    """create on the node's data dir -> sign on a data dir that holds only the keystore -> broadcast ->
    mine."""
    node_dir, signer_dir = tmp_path / "node", tmp_path / "signer"
    init_regtest(node_dir)
    signer_dir.mkdir()
    key = js(signer_dir, "keys", "new", "cold", "--json")
    assert sorted(p.name for p in signer_dir.iterdir()) == ["keystore.json"]  # no chain there
    cold_address = regtest_address(key["pubkey"])

    fund_and_mine(node_dir, cold_address, 10)

    # the node's data dir knows nothing of the key: the sender is named by its public key
    unsigned = js(node_dir, "tx", "create", "--from", key["pubkey"], "--to", "dev1", "--amount", "2.5")
    assert unsigned["sender"] == key["pubkey"] and unsigned["amount"] == 250_000_000
    assert unsigned["nonce"] == 0
    doc = tmp_path / "unsigned.json"
    doc.write_text(json.dumps(unsigned))

    signed = js(signer_dir, "tx", "sign", str(doc))
    assert signed["txid"] == unsigned["txid"]  # the txid does not cover the signature
    assert sorted(p.name for p in signer_dir.iterdir()) == ["keystore.json"]  # signing opened no chain
    fails(signer_dir, "tx", "sign", str(doc), password="wrong", code="wrong-password")
    signed_file = tmp_path / "signed.json"
    signed_file.write_text(json.dumps(signed))

    before = account(node_dir, "dev1")["balance"]
    sent = js(node_dir, "tx", "broadcast", str(signed_file), "--json")
    assert sent["txid"] == signed["txid"]
    mine(node_dir)
    t = js(node_dir, "tx", signed["txid"], "--json")
    assert t["status"] == "confirmed" and t["confirmations"] == 1
    assert account(node_dir, "dev1")["balance"] == before + 250_000_000
    cold = account(node_dir, cold_address)
    assert cold["balance"] == 10 * COIN - 250_000_000 - REGTEST.min_fee and cold["nonce"] == 1
    # the raw hex form of broadcast refuses a replay with the reason code
    fails(node_dir, "tx", "broadcast", signed["raw"], code="txn-already-known")


def test_offline_signing_against_a_running_node(tmp_path):
    """The same flow while a node holds the data dir: create and broadcast go over RPC."""
    node_dir, signer_dir = tmp_path / "node", tmp_path / "signer"
    init_regtest(node_dir)
    key = js(signer_dir, "keys", "new", "cold", "--json")
    cold_address = regtest_address(key["pubkey"])
    node = subprocess.Popen([sys.executable, "-m", "cli.main", "--datadir", str(node_dir), "node", "--mining",
                             "manual"], cwd=ROOT, env=_env(None), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not (node_dir / "node.json").exists():
            assert node.poll() is None and time.monotonic() < deadline, "node did not start"
            time.sleep(0.03)
        js(node_dir, "send", "--from", "dev0", "--to", cold_address, "--amount", "5", "--json")
        js(node_dir, "mine", "--blocks", "1", "--json")
        unsigned = js(node_dir, "tx", "create", "--from", key["pubkey"], "--to", "dev2", "--amount", "1")
        signed = json.loads(ok(signer_dir, "tx", "sign", "-", stdin=json.dumps(unsigned)))
        assert js(node_dir, "tx", "broadcast", signed["raw"], "--json")["txid"] == unsigned["txid"]
        js(node_dir, "mine", "--blocks", "1", "--json")
        assert js(node_dir, "tx", unsigned["txid"], "--json")["status"] == "confirmed"
    finally:
        node.terminate()
        try:
            assert node.wait(20) == 0
        finally:
            if node.poll() is None:
                node.kill()
                node.wait(10)


def test_funded_keystore_key_can_send(tmp_path):
    d = tmp_path / "a"
    init_regtest(d)
    bob = js(d, "keys", "new", "bob", "--json")
    js(d, "send", "--from", "dev0", "--to", "bob", "--amount", "7", "--json")  # a keystore label as recipient
    mine(d)
    assert account(d, bob["address"])["balance"] == 7 * COIN

    sent = js(d, "send", "--from", "bob", "--to", "dev2", "--amount", "1.25", "--fee", "0.0001", "--json")
    # next nonce, still pending
    second = js(d, "send", "--from", "bob", "--to", "dev3", "--amount", "1", "--json")
    assert js(d, "tx", second["txid"], "--json")["nonce"] == 1
    mine(d)
    for txid in (sent["txid"], second["txid"]):
        t = js(d, "tx", txid, "--json")
        assert t["status"] == "confirmed" and t["from"] == bob["address"]
    acct = account(d, bob["address"])
    assert acct["nonce"] == 2
    assert acct["balance"] == 7 * COIN - 125_000_000 - 10_000 - COIN - REGTEST.min_fee
    # more than it holds: refused with the reason code, nothing pending
    fails(d, "send", "--from", "bob", "--to", "dev2", "--amount", "100", code="insufficient-balance")
    with Node.open(d) as node:
        assert len(node.mempool) == 0


def test_account_accepts_a_keystore_label(tmp_path):
    # `chaintop account --help` says ADDRESS is an "Address or key label", `keys list` shows keystore labels
    # and `send --to LABEL` accepts them, so `account LABEL` must too (today it only knows dev labels).
    d = tmp_path / "a"
    init_regtest(d)
    bob = js(d, "keys", "new", "bob", "--json")
    fund_and_mine(d, bob["address"], 2)
    by_label = run(d, "account", "bob", "--json")
    assert by_label.returncode == 0, f"`chaintop account bob` failed: {by_label.stderr.strip()}"
    acct = json.loads(by_label.stdout)
    assert acct["address"] == bob["address"] and acct["balance"] == 2 * COIN
