"""Bitcoin Core's MuHash3072 rolling set hash (src/crypto/muhash.cpp), on Python ints."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from chain.errors import DecodeError

_BITS = 3072
_C = 1103717
MODULUS = (1 << _BITS) - _C
BYTE_SIZE = _BITS // 8
# digest() needs a 3072-bit modular inverse: ~0.8 ms with Python's pow, ~17 us with GMP (gmpy2), which every
# block pays for its state root. The same state is digested twice per block (the template's
# state root, then the check of it when the block connects), so the last few answers are kept.
_DIGESTS: dict[tuple[int, int], bytes] = {}
_DIGESTS_KEPT = 8


def _invert(value: int) -> int:
    return pow(value, -1, MODULUS)


try:
    import gmpy2
except ImportError:  # the same answers, fifty times slower
    pass
else:
    _MODULUS_MPZ = gmpy2.mpz(MODULUS)

    def _invert(value: int) -> int:  # noqa: F811 — GMP's, when it is installed
        return int(gmpy2.invert(value, _MODULUS_MPZ))
_LOW_MASK = (1 << _BITS) - 1
_ZERO_KEYSTREAM_INPUT = bytes(BYTE_SIZE)
# cryptography's 16-byte ChaCha20 nonce is the 32-bit block counter then the 96-bit
# nonce, both zero here as in Core's ChaCha20Aligned with its default nonce.
_CHACHA_NONCE = bytes(16)


def _reduce(x: int) -> int:
    """x mod p for 0 <= x < 2**6144, folding with 2**3072 = C (mod p); ~3x faster than %."""
    while x >> _BITS:
        x = (x & _LOW_MASK) + (x >> _BITS) * _C
    if x >= MODULUS:
        x -= MODULUS
    return x


# A record a block inserts is often the one the next block removes (the beneficiary's account, the consensus
# record): the last few elements are kept, keyed by their bytes.
_ELEMENTS: dict[bytes, int] = {}
_ELEMENTS_KEPT = 64


def _element(data: bytes) -> int:
    """Core's ToNum3072: SHA-256(data) keys ChaCha20, whose first 384 bytes read little-endian."""
    found = _ELEMENTS.get(data)
    if found is not None:
        return found
    key = hashlib.sha256(data).digest()
    encryptor = Cipher(algorithms.ChaCha20(key, _CHACHA_NONCE), mode=None).encryptor()
    # Core keeps the raw 3072-bit value and reduces lazily; reducing now is the same class.
    value = _reduce(int.from_bytes(encryptor.update(_ZERO_KEYSTREAM_INPUT), "little"))
    if len(_ELEMENTS) >= _ELEMENTS_KEPT:
        _ELEMENTS.pop(next(iter(_ELEMENTS)), None)
    _ELEMENTS[bytes(data)] = value
    return value


def _product(data_items: Iterable[bytes]) -> int:
    acc = 1
    for data in data_items:
        acc = _reduce(acc * _element(data))
    return acc


class MuHash3072:
    """A multiset of byte strings hashed as numerator / denominator in the group mod 2**3072 - 1103717.

    Both halves stay separate until digest(), so insert and remove each cost one
    modular multiplication and only digest() pays for an inverse.
    """

    __slots__ = ("_numerator", "_denominator")

    def __init__(self, data: bytes | None = None) -> None:
        """The empty set, or, like Core's MuHash3072(Span) constructor, the set {data}."""
        self._numerator = 1 if data is None else _element(data)
        self._denominator = 1

    def insert(self, data: bytes) -> MuHash3072:
        self._numerator = _reduce(self._numerator * _element(data))
        return self

    def remove(self, data: bytes) -> MuHash3072:
        self._denominator = _reduce(self._denominator * _element(data))
        return self

    def insert_many(self, data_items: Iterable[bytes]) -> MuHash3072:
        self._numerator = _reduce(self._numerator * _product(data_items))
        return self

    def remove_many(self, data_items: Iterable[bytes]) -> MuHash3072:
        self._denominator = _reduce(self._denominator * _product(data_items))
        return self

    def __imul__(self, other: MuHash3072) -> MuHash3072:
        """Set union, as Core's operator*=."""
        self._numerator = _reduce(self._numerator * other._numerator)
        self._denominator = _reduce(self._denominator * other._denominator)
        return self

    def __itruediv__(self, other: MuHash3072) -> MuHash3072:
        """Set difference, as Core's operator/=: multiply by the other's inverse."""
        self._numerator = _reduce(self._numerator * other._denominator)
        self._denominator = _reduce(self._denominator * other._numerator)
        return self

    def copy(self) -> MuHash3072:
        clone = MuHash3072()
        clone._numerator = self._numerator
        clone._denominator = self._denominator
        return clone

    def digest(self) -> bytes:
        """Core's Finalize: SHA-256 of numerator/denominator as 384 little-endian bytes.

        Returned in SHA-256 output order; Core prints the same bytes reversed as a uint256.
        Unlike Finalize this leaves the accumulator untouched, so to_bytes() is stable.
        """
        key = (self._numerator, self._denominator)
        found = _DIGESTS.get(key)
        if found is None:
            value = _reduce(self._numerator * _invert(self._denominator))
            found = hashlib.sha256(value.to_bytes(BYTE_SIZE, "little")).digest()
            if len(_DIGESTS) >= _DIGESTS_KEPT:
                _DIGESTS.pop(next(iter(_DIGESTS)), None)
            _DIGESTS[key] = found
        return found

    def to_bytes(self) -> bytes:
        """Numerator then denominator, 384 little-endian bytes each, as Core serializes them."""
        return self._numerator.to_bytes(BYTE_SIZE, "little") + self._denominator.to_bytes(BYTE_SIZE, "little")

    @classmethod
    def from_bytes(cls, raw: bytes) -> MuHash3072:
        """Inverse of to_bytes; unlike Core it accepts only fully reduced, non-zero halves."""
        if len(raw) != 2 * BYTE_SIZE:
            raise DecodeError(message=f"muhash state must be {2 * BYTE_SIZE} bytes, got {len(raw)}")
        numerator = int.from_bytes(raw[:BYTE_SIZE], "little")
        denominator = int.from_bytes(raw[BYTE_SIZE:], "little")
        # Values >= p alias smaller ones, so accepting them would give one set two
        # encodings; zero cannot arise from real elements and has no inverse.
        for name, value in (("numerator", numerator), ("denominator", denominator)):
            if value >= MODULUS:
                raise DecodeError(message=f"muhash {name} is not reduced modulo 2**3072 - 1103717")
            if value == 0:
                raise DecodeError(message=f"muhash {name} is zero")
        state = cls()
        state._numerator = numerator
        state._denominator = denominator
        return state

    def __eq__(self, other: object) -> bool:
        """Equal when they hash the same set, whatever the numerator/denominator split."""
        if not isinstance(other, MuHash3072):
            return NotImplemented
        return (self._numerator * other._denominator - other._numerator * self._denominator) % MODULUS == 0

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MuHash3072(digest={self.digest().hex()})"
