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


# What a keystore file may ask of the KDF: the file is data, and n=2**24 would take minutes and 16 GiB
MAX_SCRYPT_MEMORY = 256 * 2**20  # bytes: scrypt uses 128 * r * n
MAX_SCRYPT_WORK = 2**15 * 8 * 16  # n * r * p: 16 times the default's work


def _kdf(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    try:
        secret = password.encode()
    except UnicodeEncodeError:  # bytes from the environment that are not UTF-8 (os.environ's surrogates)
        raise WalletError("bad-password", "the password is not valid UTF-8 text (CHAINTOP_PASSWORD holds "
                                          "other bytes); set it in a UTF-8 locale") from None
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(secret)


def check_kdf_params(n, r, p) -> None:
    """Refuse what no keystore we write holds: n a power of two, within memory and work bounds."""
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (n, r, p)):
        raise WalletError("bad-kdf-params", "the keystore's scrypt n, r and p must be positive integers")
    if n < 2 or n & (n - 1) or 128 * r * n > MAX_SCRYPT_MEMORY or n * r * p > MAX_SCRYPT_WORK:
        raise WalletError("bad-kdf-params", (
            f"the keystore asks scrypt for n={n}, r={r}, p={p}: more than chaintop allows (n a power of two, "
            f"memory 128*r*n at most {MAX_SCRYPT_MEMORY // 2**20} MiB, n*r*p at most {MAX_SCRYPT_WORK}); "
            "the file is damaged or not ours"))


def _hex(entry: dict, section: str | None, field: str, length: int | None = None) -> bytes:
    """A hex field of a keystore entry (in entry[section] when given), checked: the file is data."""
    where = entry.get(section) if section else entry
    value = where.get(field) if isinstance(where, dict) else None
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        raw = None
    if raw is None or (length is not None and len(raw) != length):
        name = f"{section}.{field}" if section else field
        size = f" of {length} bytes" if length is not None else ""
        raise WalletError("keystore-damaged", f"key {entry.get('label')!r}: {name} is not hex{size}")
    return raw


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
        except RecursionError:
            raise WalletError("keystore-damaged", f"{self.path} is not a chaintop keystore (JSON nested too "
                                                  "deep)") from None
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise WalletError("keystore-damaged", f"{self.path} is not a chaintop keystore")
        for i, k in enumerate(data["keys"]):
            if not isinstance(k, dict) or not isinstance(k.get("label"), str):
                raise WalletError("keystore-damaged", f"{self.path}: entry {i + 1} has no label "
                                                      "(edit the file or restore it from a backup)")
            _hex(k, None, "pubkey", 32)
        return data["keys"]

    def _save(self, keys: list[dict]) -> None:
        if not self.path.parent.exists():  # the data dir, private like the one the store creates
            self.path.parent.mkdir(mode=0o700, parents=True)
            os.chmod(self.path.parent, 0o700)
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
        kdf, cipher = entry.get("kdf"), entry.get("cipher")
        if not isinstance(kdf, dict) or kdf.get("name") != "scrypt" or not isinstance(cipher, dict) or \
                cipher.get("name") != "chacha20-poly1305":
            raise WalletError("keystore-damaged", f"key {entry['label']!r}: not scrypt + chacha20-poly1305")
        salt, nonce = _hex(entry, "kdf", "salt"), _hex(entry, "cipher", "nonce", 12)
        ciphertext, pubkey = _hex(entry, "cipher", "ciphertext", 48), _hex(entry, None, "pubkey", 32)
        check_kdf_params(kdf.get("n"), kdf.get("r"), kdf.get("p"))
        secret = _kdf(password, salt, kdf["n"], kdf["r"], kdf["p"])
        try:
            seed = ChaCha20Poly1305(secret).decrypt(nonce, ciphertext, pubkey)
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
