"""A keystore file is data (issue 14): a missing label, non-hex fields, unbounded scrypt parameters or a
password that is not UTF-8 give one house error line, never a traceback or a KDF that never ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chain.crypto import KeyPair
from chain.errors import WalletError
from wallet.keystore import Keystore

ROOT = Path(__file__).resolve().parents[2]
PW = "pw"


def _chaintop(datadir: Path, *args: str, password: bytes | None = None) -> subprocess.CompletedProcess:
    env = {k.encode(): v.encode() for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
    if password is not None:
        env[b"CHAINTOP_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "cli.main", "--datadir", str(datadir), *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
                          stdin=subprocess.DEVNULL)


def _refused(p: subprocess.CompletedProcess, code: str) -> None:
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr and f"({code})" in p.stderr, p.stderr


@pytest.fixture
def keystore(tmp_path) -> Keystore:
    ks = Keystore(tmp_path)
    ks.add("alice", KeyPair.from_seed(bytes(range(32))), PW)
    return ks


def _edit(ks: Keystore, change) -> None:
    data = json.loads(ks.path.read_text())
    change(data["keys"][0])
    ks.path.write_text(json.dumps(data))


def test_non_utf8_password_from_the_environment(tmp_path):
    _refused(_chaintop(tmp_path, "keys", "new", "bob", password=b"caf\xe9"), "bad-password")
    assert not (tmp_path / "keystore.json").exists()


def test_entry_without_a_label_is_damage_not_a_traceback(keystore, tmp_path):
    _edit(keystore, lambda k: k.pop("label"))
    _refused(_chaintop(tmp_path, "keys", "list"), "keystore-damaged")


@pytest.mark.parametrize("section,field,value", [
    ("kdf", "salt", "not hex"),
    ("cipher", "nonce", "00"),  # hex, but not the 12 bytes ChaCha20-Poly1305 takes
    ("cipher", "ciphertext", 7),
])
def test_non_hex_fields_are_damage(keystore, section, field, value):
    _edit(keystore, lambda k: k[section].update({field: value}))
    with pytest.raises(WalletError) as e:
        keystore.unlock("alice", PW)
    assert e.value.code == "keystore-damaged" and field in e.value.message


@pytest.mark.parametrize("params", [
    {"n": 2**24},  # 16 GiB, minutes: what a hostile file would ask
    {"n": 2**15, "r": 8, "p": 2**20},
    {"n": 3000},  # not a power of two
    {"n": 0}, {"r": -1}, {"p": True}, {"n": "32768"},
])
def test_kdf_parameters_from_the_file_are_bounded(keystore, params):
    _edit(keystore, lambda k: k["kdf"].update(params))
    with pytest.raises(WalletError) as e:
        keystore.unlock("alice", PW)
    assert e.value.code == "bad-kdf-params"


def test_deeply_nested_keystore_file(tmp_path):
    (tmp_path / "keystore.json").write_text("[" * 100_000 + "]" * 100_000)
    _refused(_chaintop(tmp_path, "keys", "list"), "keystore-damaged")


def test_an_intact_keystore_still_unlocks(keystore):
    assert keystore.unlock("alice", PW).seed() == bytes(range(32))
