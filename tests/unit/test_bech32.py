"""Bech32m checks against BIP-350's published test vectors, plus this project's error codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain.bech32 import CHARSET, _create_checksum, bech32m_verify, decode, encode
from chain.errors import InvalidAddress

# bitcoin/bips bip-0350.mediawiki, "Test vectors for Bech32m": valid strings.
VALID_BECH32M = [
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
]

# Same section: invalid strings with BIP-350's stated reason.
INVALID_BECH32M = [
    ("\x20" + "1xj0phk", "HRP character out of range"),
    ("\x7f" + "1g6xzxy", "HRP character out of range"),
    ("\x80" + "1vctc34", "HRP character out of range"),
    (
        "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
        "overall max length exceeded",
    ),
    ("qyrz8wqd2c9m", "No separator character"),
    ("1qyrz8wqd2c9m", "Empty HRP"),
    ("y1b0jsk6g", "Invalid data character"),
    ("lt1igcx5c0", "Invalid data character"),
    ("in1muywd", "Too short checksum"),
    ("mm1crxm3i", "Invalid character in checksum"),
    ("au1s5cgom", "Invalid character in checksum"),
    ("M1VUXWEZ", "checksum calculated with uppercase form of HRP"),
    ("16plkw9", "empty HRP"),
    ("1p2gdwpf", "empty HRP"),
]

# bip-0350.mediawiki's segwit list: valid addresses whose checksums are bech32 (v0), and
# ones BIP-350 calls "Invalid checksum (Bech32 instead of Bech32m)".
BECH32_NOT_M = [
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
]


@pytest.mark.parametrize("s", VALID_BECH32M)
def test_valid_bech32m(s: str) -> None:
    result = bech32m_verify(s)
    assert result is not None
    hrp, data = result
    assert hrp == s[: s.rfind("1")].lower()
    assert data == [CHARSET.index(c) for c in s.lower()[s.rfind("1") + 1 : -6]]


@pytest.mark.parametrize(("s", "reason"), INVALID_BECH32M)
def test_invalid_bech32m(s: str, reason: str) -> None:
    assert bech32m_verify(s) is None, reason


@pytest.mark.parametrize(("s", "reason"), INVALID_BECH32M)
def test_invalid_bech32m_decode_codes(s: str, reason: str) -> None:
    expected = "bad-address-checksum" if reason.startswith("checksum calculated") else "bad-address-format"
    hrp = s[: s.rfind("1")].lower() or "x"
    with pytest.raises(InvalidAddress) as err:
        decode(hrp, s)
    assert err.value.code == expected, reason


@pytest.mark.parametrize("s", BECH32_NOT_M)
def test_bech32_checksums_are_refused(s: str) -> None:
    assert bech32m_verify(s) is None
    with pytest.raises(InvalidAddress) as err:
        decode(s[: s.rfind("1")].lower(), s)
    assert err.value.code == "bad-address-checksum"
    assert "bech32m" in err.value.message


def test_valid_vectors_decode_to_bytes_that_reencode() -> None:
    for s in (
        "a1lqfn3a",
        "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
        "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
        "?1v759aa",
    ):
        hrp = s[: s.rfind("1")]
        assert encode(hrp, decode(hrp, s)) == s
    assert decode("a", "A1LQFN3A") == b""
    # BIP-350's 'abcdef' data is the 32 values 0..31, i.e. 160 bits: 20 whole bytes.
    assert len(decode("abcdef", "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx")) == 20


def test_non_zero_padding_is_a_format_error() -> None:
    # The '1' hrp vector holds 82 'l' (all-ones) values: 410 bits, whose 2 pad bits are set.
    s = VALID_BECH32M[4]
    with pytest.raises(InvalidAddress) as err:
        decode("1", s)
    assert err.value.code == "bad-address-format"


@given(st.binary(max_size=50))
def test_round_trip(payload: bytes) -> None:
    address = encode("ct", payload)
    assert address == address.lower()
    assert decode("ct", address) == payload
    assert decode("ct", address.upper()) == payload
    assert bech32m_verify(address) is not None


def test_one_character_typo_is_a_checksum_error() -> None:
    address = encode("ct", bytes(range(20)))
    for pos in range(3, len(address)):
        for c in "qpzr":
            if address[pos] == c:
                continue
            typo = address[:pos] + c + address[pos + 1 :]
            with pytest.raises(InvalidAddress) as err:
                decode("ct", typo)
            assert err.value.code == "bad-address-checksum"
            assert "checksum does not match" in err.value.message
            assert "mistyped" in err.value.message


def test_wrong_network_names_both_prefixes() -> None:
    address = encode("tct", b"\x01\x02\x03")
    with pytest.raises(InvalidAddress) as err:
        decode("ct", address)
    assert err.value.code == "wrong-network"
    assert "'tct'" in err.value.message and "'ct'" in err.value.message


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("ct1" + "q" * 10 + "Q", "mixed case"),
        ("ct1qqqqqqqbqqq", "bad character"),
        ("ctqqqqqqqqq", "missing separator"),
        ("ct1" + "q" * 88, "too long"),
        ("ct1qqqqq", "too short for a checksum"),
        ("ct1qq qqqqqq", "space"),
    ],
)
def test_format_errors(address: str, why: str) -> None:
    with pytest.raises(InvalidAddress) as err:
        decode("ct", address)
    assert err.value.code == "bad-address-format", why


def test_too_much_padding_is_a_format_error() -> None:
    # A one-byte payload plus a whole spare zero 5-bit group: 15 bits, 7 of them padding.
    values = [0, 0, 0]
    s = "ct1" + "".join(CHARSET[v] for v in values + _create_checksum("ct", values))
    assert bech32m_verify(s) is not None
    with pytest.raises(InvalidAddress) as err:
        decode("ct", s)
    assert err.value.code == "bad-address-format"


def test_encode_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        encode("", b"")
    with pytest.raises(ValueError):
        encode("CT", b"")
    with pytest.raises(ValueError):
        encode("c t", b"")
    with pytest.raises(ValueError):
        encode("ct", bytes(60))


def test_the_fast_5_bit_grouping_is_bip173s_convertbits_for_every_length():
    import os

    from chain.bech32 import _convert_bits, _to_5bit_groups

    for n in range(0, 41):
        for data in (bytes(n), b"\xff" * n, os.urandom(n)):
            assert _to_5bit_groups(data) == _convert_bits(data, 8, 5, pad=True)
