"""The keystore: Ed25519 seeds encrypted at rest (scrypt + ChaCha20-Poly1305) in <datadir>/keystore.json,
mode 0600."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from chain.crypto import KeyPair
from chain.errors import WalletError

KEYSTORE_NAME = "keystore.json"
# ~32 MiB and ~0.1 s per unlock: slow for guessers, fine for people
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
LABEL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")
RESERVED = re.compile(r"^dev\d+$")  # dev0, dev1, ... name the public dev keys


def _kdf(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password.encode())


class Keystore:
    """A JSON list of encrypted keys. Every change rewrites the file atomically (temp file + rename)."""

    def __init__(self, datadir: str | Path) -> None:
        self.path = Path(datadir).expanduser() / KEYSTORE_NAME

    def _load(self) -> list[dict]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as e:
            raise WalletError("keystore-damaged", f"cannot read {self.path}: {e}") from None
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise WalletError("keystore-damaged", f"{self.path} is not a chaintop keystore")
        return data["keys"]

    def _save(self, keys: list[dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(KEYSTORE_NAME + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"version": 1, "keys": keys}, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)

    def entries(self) -> list[dict]:
        """Labels and public keys; no password needed."""
        return [{"label": k["label"], "pubkey": k["pubkey"]} for k in self._load()]

    def find(self, label_or_pubkey: str) -> dict | None:
        for k in self._load():
            if k["label"] == label_or_pubkey or k["pubkey"] == label_or_pubkey:
                return k
        return None

    def add(self, label: str, key: KeyPair, password: str) -> dict:
        if not LABEL_RE.match(label) or RESERVED.match(label):
            raise WalletError("bad-label", f"label {label!r}: 1-32 letters, digits, '_', '.', '-', starting "
                                           "with a letter; dev0, dev1, ... are reserved for the dev keys")
        if not password:
            raise WalletError("empty-password", "a keystore password may not be empty")
        keys = self._load()
        if any(k["label"] == label for k in keys):
            raise WalletError("label-exists", f"a key labelled {label!r} already exists")
        if any(k["pubkey"] == key.pubkey.hex() for k in keys):
            raise WalletError("key-exists", "this key is already in the keystore")
        salt, nonce = os.urandom(16), os.urandom(12)
        secret = _kdf(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        ct = ChaCha20Poly1305(secret).encrypt(nonce, key.seed(), key.pubkey)
        entry = {
            "label": label,
            "pubkey": key.pubkey.hex(),
            "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": salt.hex()},
            "cipher": {"name": "chacha20-poly1305", "nonce": nonce.hex(), "ciphertext": ct.hex()},
        }
        self._save(keys + [entry])
        return {"label": label, "pubkey": entry["pubkey"]}

    def unlock(self, label_or_pubkey: str, password: str) -> KeyPair:
        entry = self.find(label_or_pubkey)
        if entry is None:
            raise WalletError("unknown-key", f"no key {label_or_pubkey!r} in {self.path}")
        kdf, cipher = entry["kdf"], entry["cipher"]
        secret = _kdf(password, bytes.fromhex(kdf["salt"]), kdf["n"], kdf["r"], kdf["p"])
        try:
            seed = ChaCha20Poly1305(secret).decrypt(bytes.fromhex(cipher["nonce"]),
                                                    bytes.fromhex(cipher["ciphertext"]),
                                                    bytes.fromhex(entry["pubkey"]))
        except InvalidTag:
            raise WalletError("wrong-password", f"wrong password for key {entry['label']!r}") from None
        key = KeyPair.from_seed(seed)
        if key.pubkey.hex() != entry["pubkey"]:
            raise WalletError("keystore-damaged", f"key {entry['label']!r} does not match its public key")
        return key


def parse_seed(text: str) -> KeyPair:
    try:
        seed = bytes.fromhex(text.strip())
    except ValueError:
        raise WalletError("bad-seed", "a private key is 64 hex characters (a 32-byte Ed25519 seed)") from None
    if len(seed) != 32:
        raise WalletError("bad-seed", f"a private key is 32 bytes (64 hex characters), got {len(seed)}")
    return KeyPair.from_seed(seed)
