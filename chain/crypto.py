"""Ed25519 keys and signatures (cryptography) and bech32m account addresses."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from chain import bech32
from chain.cache import BoundedCache
from chain.errors import InvalidAddress

PUBKEY_SIZE = 32
SIGNATURE_SIZE = 64
ADDRESS_SIZE = 20
HASH_SIZE = 32
ZERO_HASH = bytes(HASH_SIZE)
ZERO_ADDRESS = bytes(ADDRESS_SIZE)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def compute_address(pubkey: bytes) -> bytes:
    """An account is named by the first 20 bytes of SHA-256 of its Ed25519 public key."""
    return sha256(pubkey)[:ADDRESS_SIZE]


_ADDRESS_TEXT = BoundedCache(65_536)
_PUBLIC_KEYS = BoundedCache(16_384)


def encode_address(hrp: str, address: bytes) -> str:
    """Cached: the same few thousand accounts are shown again and again, and bech32 is pure Python."""
    key = (hrp, address)
    text = _ADDRESS_TEXT.get(key)
    if text is None:
        text = bech32.encode(hrp, address)
        _ADDRESS_TEXT.put(key, text)
    return text


def decode_address(hrp: str, text: str) -> bytes:
    raw = bech32.decode(hrp, text.strip())
    if len(raw) != ADDRESS_SIZE:
        raise InvalidAddress("bad-address-format",
                             f"an address holds {ADDRESS_SIZE} bytes, this one {len(raw)}")
    return raw


def _public_key(pubkey: bytes) -> Ed25519PublicKey:
    """Loaded once per key: the same senders and validators sign again and again."""
    key = _PUBLIC_KEYS.get(pubkey)
    if key is None:
        key = Ed25519PublicKey.from_public_bytes(pubkey)
        _PUBLIC_KEYS.put(pubkey, key)
    return key


def verify(pubkey: bytes, signature: bytes, message: bytes) -> bool:
    """True if `signature` is a valid Ed25519 signature of `message` by `pubkey`."""
    try:
        _public_key(pubkey).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


BatchVerifier = Callable[[Sequence[tuple[bytes, bytes, bytes]]], list[bool]]


def verify_many(items: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
    """Verify (pubkey, signature, message) triples one after another.

    The core's default batch verifier; the node injects one that spreads a batch over every core
    (node/sigcheck.py), which is where threads belong.
    """
    return [verify(*it) for it in items]


@dataclass(frozen=True, slots=True)
class KeyPair:
    """An Ed25519 private key with its public key and account address."""

    private: Ed25519PrivateKey
    pubkey: bytes
    address: bytes

    @classmethod
    def from_seed(cls, seed: bytes) -> KeyPair:
        priv = Ed25519PrivateKey.from_private_bytes(seed)
        pub = priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return cls(priv, pub, compute_address(pub))

    @classmethod
    def generate(cls) -> KeyPair:
        priv = Ed25519PrivateKey.generate()
        return cls.from_seed(priv.private_bytes_raw())

    def seed(self) -> bytes:
        return self.private.private_bytes_raw()

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def dev_keypair(index: int) -> KeyPair:
    """Dev account `index`: derived from a fixed, public seed (like anvil's) — never for real value."""
    return KeyPair.from_seed(sha256(b"chaintop dev key " + index.to_bytes(4, "big")))


def parse_dev_label(text: str, count: int | None) -> int | None:
    """The index named by a dev label ("dev0" .. f"dev{count - 1}"), or None if `text` is not one.

    Only the canonical spelling counts (ASCII digits, no leading zero), so a label has exactly one form
    and compares equal to the labels `keys list` prints. `count` None checks the shape alone.
    """
    text = text.strip()
    digits = text[3:]
    if not text.startswith("dev") or not digits.isascii() or not digits.isdigit():
        return None
    if (len(digits) > 1 and digits[0] == "0") or len(digits) > 10:  # dev keys are numbered by a u32
        return None
    index = int(digits)
    return index if count is None or index < count else None
