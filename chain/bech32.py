"""BIP-350 bech32m strings carrying arbitrary bytes, with stable error codes for addresses."""

from __future__ import annotations

from chain.errors import InvalidAddress

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX = {c: i for i, c in enumerate(CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
# BIP-173's bech32 constant is kept only to tell a user that a string is bech32
# rather than mistyped bech32m; such strings are still rejected.
_BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3
MAX_LENGTH = 90
_CHECKSUM_LENGTH = 6

BAD_CHECKSUM = "bad-address-checksum"
WRONG_NETWORK = "wrong-network"
BAD_FORMAT = "bad-address-format"


def _table_entry(top: int) -> int:
    out = 0
    for i in range(5):
        if (top >> i) & 1:
            out ^= _GENERATOR[i]
    return out


# BIP-173's polymod, with the five conditional XORs of each step folded into one lookup of the top 5 bits.
_GENERATOR_TABLE = tuple(_table_entry(top) for top in range(32))


def _polymod(values: list[int], chk: int = 1) -> int:
    """BIP-173's checksum state after `values`, from `chk` (1: the start; or a state reached before)."""
    table = _GENERATOR_TABLE
    for v in values:
        chk = ((chk & 0x1FFFFFF) << 5 ^ v) ^ table[chk >> 25]
    return chk


_HRP_STATE: dict[str, int] = {}  # the polymod state after a prefix's expansion: a few prefixes, used forever


def _hrp_state(hrp: str) -> int:
    state = _HRP_STATE.get(hrp)
    if state is None:
        state = _HRP_STATE[hrp] = _polymod(_hrp_expand(hrp))
    return state


def _to_5bit_groups(data: bytes) -> list[int]:
    """_convert_bits(data, 8, 5, pad=True), done with one integer: zero-padded to whole 5-bit groups."""
    bits = 8 * len(data)
    pad = -bits % 5
    n = int.from_bytes(data, "big") << pad
    return [(n >> shift) & 31 for shift in range(bits + pad - 5, -1, -5)]


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _create_checksum(hrp: str, data: list[int]) -> list[int]:
    polymod = _polymod(data + [0] * _CHECKSUM_LENGTH, _hrp_state(hrp)) ^ BECH32M_CONST
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(_CHECKSUM_LENGTH)]


def _convert_bits(data: list[int] | bytes, from_bits: int, to_bits: int, pad: bool) -> list[int] | None:
    """Regroup bit strings; None when unpadded input leaves a partial group or non-zero pad bits."""
    acc = 0
    bits = 0
    out: list[int] = []
    max_value = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & max_value)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & max_value)
    elif bits >= from_bits or (acc << (to_bits - bits)) & max_value:
        return None
    return out


def _split(s: str) -> tuple[str, list[int], int] | str:
    """Parse BIP-173's string syntax: (hrp, 5-bit values with checksum, polymod), or why not."""
    if len(s) > MAX_LENGTH:
        return f"is {len(s)} characters long; at most {MAX_LENGTH} are allowed"
    if any(not 33 <= ord(c) <= 126 for c in s):
        return "contains a character outside printable ASCII"
    if s.lower() != s and s.upper() != s:
        return "mixes upper and lower case"
    s = s.lower()
    pos = s.rfind("1")
    if pos < 0:
        return "has no '1' separator"
    if pos == 0:
        return "has an empty prefix before the '1' separator"
    if pos + 1 + _CHECKSUM_LENGTH > len(s):
        return "is too short to hold a checksum"
    data: list[int] = []
    for c in s[pos + 1 :]:
        value = _CHARSET_INDEX.get(c)
        if value is None:
            return f"contains {c!r}, which is not a bech32 character"
        data.append(value)
    hrp = s[:pos]
    return hrp, data, _polymod(_hrp_expand(hrp) + data)


def bech32m_verify(s: str) -> tuple[str, list[int]] | None:
    """BIP-350's checksum-level decode: (lowercase hrp, 5-bit data without checksum), or None."""
    parsed = _split(s)
    if isinstance(parsed, str):
        return None
    hrp, data, polymod = parsed
    if polymod != BECH32M_CONST:
        return None
    return hrp, data[:-_CHECKSUM_LENGTH]


def encode(hrp: str, data: bytes) -> str:
    """A lowercase bech32m string of `data`'s bits in 5-bit groups, zero-padded at the end.

    Bad arguments are a caller's bug, so they raise ValueError, not InvalidAddress.
    """
    if not hrp or any(not 33 <= ord(c) <= 126 for c in hrp):
        raise ValueError("hrp must be 1 or more printable ASCII characters")
    if hrp.lower() != hrp:
        raise ValueError("hrp must be lowercase, the form its checksum is computed over")
    values = _to_5bit_groups(bytes(data))
    result = hrp + "1" + "".join([CHARSET[v] for v in values + _create_checksum(hrp, values)])
    if len(result) > MAX_LENGTH:
        raise ValueError(f"encoding is {len(result)} characters; bech32m allows at most {MAX_LENGTH}")
    return result


def decode(expected_hrp: str, address: str) -> bytes:
    """The bytes carried by a bech32m `address` whose prefix must be `expected_hrp`.

    Raises InvalidAddress with code bad-address-format, bad-address-checksum or
    wrong-network. The checksum is checked before the prefix: a mistyped address
    should be reported as a typo, while a well-formed one from another network
    should be reported as such.
    """
    parsed = _split(address)
    if isinstance(parsed, str):
        raise InvalidAddress(BAD_FORMAT, f"address {parsed}")
    hrp, data, polymod = parsed
    if polymod == _BECH32_CONST:
        raise InvalidAddress(
            BAD_CHECKSUM,
            "address has a bech32 (BIP-173) checksum; only bech32m (BIP-350) addresses are accepted",
        )
    if polymod != BECH32M_CONST:
        raise InvalidAddress(
            BAD_CHECKSUM,
            "address checksum does not match: it was likely mistyped or miscopied; check each character",
        )
    expected = expected_hrp.lower()
    if hrp != expected:
        raise InvalidAddress(
            WRONG_NETWORK,
            f"address has prefix {hrp!r} but this network uses {expected!r}: it belongs to another network",
        )
    payload = _convert_bits(data[:-_CHECKSUM_LENGTH], 5, 8, pad=False)
    if payload is None:
        raise InvalidAddress(BAD_FORMAT, "address data has invalid padding bits")
    return bytes(payload)
