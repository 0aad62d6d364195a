"""Codec bounds, the transaction wire format, txids and signatures, and exact coin amounts."""

from __future__ import annotations

import hashlib
import struct

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import crypto
from chain.codec import Reader, Writer, check_u64
from chain.errors import DecodeError, InvalidTx, UsageError
from chain.params import DEVNET, REGTEST, format_coins, parse_coins
from chain.tx import TRANSFER, Tx, check_tx, get_transfer, make_transfer

U64_MAX = 2**64 - 1


# -- Writer / Reader -------------------------------------------------------------------------------


def test_writer_is_big_endian_fixed_width():
    raw = Writer().u8(0x01).u16(0x0203).u32(0x04050607).u64(0x08090A0B0C0D0E0F).getvalue()
    assert raw == bytes(range(1, 16))


@pytest.mark.parametrize(("method", "top"), [("u8", 2**8 - 1), ("u16", 2**16 - 1), ("u32", 2**32 - 1),
                                             ("u64", U64_MAX)])
def test_writer_and_reader_at_bounds(method, top):
    width = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}[method]
    for value in (0, 1, top):
        raw = getattr(Writer(), method)(value).getvalue()
        assert raw == value.to_bytes(width, "big")
        r = Reader(raw)
        assert getattr(r, method)() == value
        r.finish()


@pytest.mark.parametrize(("method", "top"), [("u8", 2**8 - 1), ("u16", 2**16 - 1), ("u32", 2**32 - 1),
                                             ("u64", U64_MAX)])
def test_writer_range_errors_are_value_errors(method, top):
    """The Writer's contract: range errors raise ValueError (a caller bug, not input)."""
    for value in (-1, top + 1):
        with pytest.raises(ValueError):
            getattr(Writer(), method)(value)


def test_writer_fixed_and_var_bounds():
    with pytest.raises(ValueError):
        Writer().fixed(b"abc", 4)
    with pytest.raises(ValueError):
        Writer().var(bytes(11), 10)
    assert Writer().fixed(b"abcd", 4).getvalue() == b"abcd"
    assert Writer().var(bytes(10), 10).getvalue() == (10).to_bytes(4, "big") + bytes(10)
    assert Writer().var(b"", 0).getvalue() == bytes(4)


@pytest.mark.parametrize(("method", "width"), [("u8", 1), ("u16", 2), ("u32", 4), ("u64", 8)])
def test_reader_short_reads(method, width):
    with pytest.raises(DecodeError) as info:
        getattr(Reader(bytes(width - 1)), method)()
    assert info.value.code == "truncated"


def test_reader_fixed_and_var():
    r = Reader(b"xy" + (3).to_bytes(4, "big") + b"abc")
    assert r.fixed(2) == b"xy"
    assert r.var(3) == b"abc"
    assert r.remaining() == 0 and r.pos == 9
    r.finish()

    with pytest.raises(DecodeError) as info:
        Reader((4).to_bytes(4, "big") + b"abcd").var(3)
    assert info.value.code == "length-out-of-bounds"
    with pytest.raises(DecodeError) as info:
        Reader((3).to_bytes(4, "big") + b"ab").var(3)
    assert info.value.code == "truncated"
    with pytest.raises(DecodeError) as info:
        Reader(b"ab").fixed(3)
    assert info.value.code == "truncated"


def test_reader_length_prefix_claiming_4gib_is_bounded_not_allocated():
    with pytest.raises(DecodeError) as info:
        Reader(b"\xff\xff\xff\xff").var(256)
    assert info.value.code == "length-out-of-bounds"


def test_reader_finish_and_types():
    r = Reader(b"\x00\x01\x02")
    r.u8()
    with pytest.raises(DecodeError) as info:
        r.finish()
    assert info.value.code == "trailing-bytes"
    assert Reader(bytearray(b"\x07")).u8() == 7
    assert Reader(memoryview(b"\x00\x08")).u16() == 8
    with pytest.raises(DecodeError) as info:
        Reader("not bytes")  # type: ignore[arg-type]
    assert info.value.code == "bad-type"


def test_reader_slice_from():
    r = Reader(b"abcdef")
    r.fixed(1)
    start = r.pos
    r.fixed(3)
    assert r.slice_from(start) == b"bcd"


def test_check_u64():
    assert check_u64(0, "x") == 0
    assert check_u64(U64_MAX, "x") == U64_MAX
    for bad in (-1, 2**64, True, 1.0, "1"):
        with pytest.raises(ValueError):
            check_u64(bad, "x")  # type: ignore[arg-type]


# -- transactions -----------------------------------------------------------------------------------

SEED = hashlib.sha256(b"codec test key").digest()


def raw_keypair(seed: bytes) -> tuple[Ed25519PrivateKey, bytes]:
    priv = Ed25519PrivateKey.from_private_bytes(seed)
    pub = priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return priv, pub


def hand_encoding(chain_id, kind, nonce, fee, sender, payload, signature=None) -> bytes:
    """The documented wire order: u32 chain_id, u8 kind, u64 nonce, u64 fee, 32-byte sender,
    u32 payload length + payload, then the 64-byte signature."""
    unsigned = (struct.pack(">IBQQ", chain_id, kind, nonce, fee) + sender + struct.pack(">I", len(payload))
                + payload)
    return unsigned if signature is None else unsigned + signature


def test_keypair_matches_cryptography_directly():
    _, pub = raw_keypair(SEED)
    key = crypto.KeyPair.from_seed(SEED)
    assert key.pubkey == pub
    assert key.address == hashlib.sha256(pub).digest()[:20]
    assert key.seed() == SEED


def test_dev_keys_come_from_the_public_seed():
    for i in (0, 9):
        _, pub = raw_keypair(hashlib.sha256(b"chaintop dev key " + i.to_bytes(4, "big")).digest())
        assert crypto.dev_keypair(i).pubkey == pub


def test_transfer_wire_format_txid_and_signature():
    priv, pub = raw_keypair(SEED)
    to = bytes(range(20))
    tx = make_transfer(REGTEST.chain_id, 7, 1_234, pub, to, 5 * 10**8)
    payload = to + (5 * 10**8).to_bytes(8, "big")
    unsigned = hand_encoding(REGTEST.chain_id, TRANSFER, 7, 1_234, pub, payload)
    assert tx.signing_bytes() == unsigned
    assert tx.txid == hashlib.sha256(unsigned).digest()

    signed = tx.signed(crypto.KeyPair.from_seed(SEED))
    assert signed.txid == tx.txid  # the signature is not part of the txid
    assert signed.encode() == unsigned + signed.signature
    assert signed.size == len(unsigned) + 64 == 149
    Ed25519PublicKey.from_public_bytes(pub).verify(signed.signature, hashlib.sha256(unsigned).digest())
    # Ed25519 is deterministic (RFC 8032): the same key and message give the same signature.
    assert signed.signature == priv.sign(tx.txid)
    assert signed.has_valid_signature()
    check_tx(signed, REGTEST.chain_id)
    assert get_transfer(signed).to == to and get_transfer(signed).amount == 5 * 10**8


def test_txid_covers_every_field_but_the_signature():
    _, pub = raw_keypair(SEED)
    base = dict(chain_id=1, kind=0, nonce=2, fee=3, sender=pub, payload=b"p")
    txid = Tx(**base).txid
    for field, value in (("chain_id", 9), ("kind", 1), ("nonce", 9), ("fee", 9), ("payload", b"q")):
        assert Tx(**{**base, field: value}).txid != txid, field
    assert Tx(**base, signature=bytes(range(64))).txid == txid


def test_tampered_fields_break_the_signature():
    key = crypto.KeyPair.from_seed(SEED)
    tx = make_transfer(REGTEST.chain_id, 0, 1_000, key.pubkey, bytes(20), 10).signed(key)
    tampered = Tx(tx.chain_id, tx.kind, tx.nonce, tx.fee + 1, tx.sender, tx.payload, tx.signature)
    with pytest.raises(InvalidSignature):
        Ed25519PublicKey.from_public_bytes(key.pubkey).verify(tampered.signature, tampered.txid)
    assert not tampered.has_valid_signature()
    with pytest.raises(InvalidTx) as info:
        check_tx(tampered, REGTEST.chain_id)
    assert info.value.code == "bad-signature"


def test_decode_matches_hand_encoding():
    _, pub = raw_keypair(SEED)
    sig = bytes(range(64))
    raw = hand_encoding(DEVNET.chain_id, TRANSFER, U64_MAX, U64_MAX, pub, b"\xaa" * 28, sig)
    tx = Tx.decode(raw)
    assert (tx.chain_id, tx.kind, tx.nonce, tx.fee, tx.sender, tx.payload, tx.signature) == (
        DEVNET.chain_id, TRANSFER, U64_MAX, U64_MAX, pub, b"\xaa" * 28, sig)
    assert tx.txid == hashlib.sha256(raw[:-64]).digest()
    assert tx.encode() == raw


def test_payload_bound_on_decode():
    _, pub = raw_keypair(SEED)
    ok = hand_encoding(1, 0, 0, 0, pub, bytes(256), bytes(64))
    assert len(Tx.decode(ok).payload) == 256
    with pytest.raises(DecodeError) as info:
        Tx.decode(hand_encoding(1, 0, 0, 0, pub, bytes(257), bytes(64)))
    assert info.value.code == "length-out-of-bounds"


def test_signing_with_another_key_is_refused():
    key = crypto.KeyPair.from_seed(SEED)
    tx = make_transfer(REGTEST.chain_id, 0, 1_000, key.pubkey, bytes(20), 10)
    with pytest.raises(InvalidTx) as info:
        tx.signed(crypto.dev_keypair(0))
    assert info.value.code == "wrong-key"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        (dict(fee=-1), "bad-fee"),
        (dict(fee=2**64), "bad-fee"),
        (dict(nonce=-1), "bad-nonce"),
        (dict(nonce=2**64), "bad-nonce"),
        (dict(chain_id=2**32), "bad-chain-id"),
        (dict(kind=256), "unknown-kind"),
        (dict(payload=bytes(257)), "bad-payload"),
        (dict(sender=bytes(31)), "bad-encoding"),
        (dict(signature=bytes(63)), "bad-encoding"),
    ],
)
def test_tx_field_bounds(fields, code):
    base = dict(chain_id=1, kind=0, nonce=0, fee=0, sender=bytes(32), payload=b"")
    with pytest.raises(InvalidTx) as info:
        Tx(**{**base, **fields})
    assert info.value.code == code


def test_tx_field_upper_bounds_accepted():
    tx = Tx(2**32 - 1, 255, U64_MAX, U64_MAX, bytes(32), bytes(256))
    assert Tx.decode(tx.encode()) == tx


@pytest.mark.parametrize("amount", [-1, 2**64])
def test_make_transfer_rejects_amount_out_of_range(amount):
    with pytest.raises(InvalidTx) as info:
        make_transfer(1, 0, 0, bytes(32), bytes(20), amount)
    assert info.value.code == "bad-amount"


def test_make_transfer_accepts_u64_max():
    tx = make_transfer(1, 0, 0, bytes(32), bytes(20), U64_MAX)
    assert tx.payload[20:] == b"\xff" * 8


# -- coins ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("0", 0),
        ("0.00000001", 1),
        ("1", 100_000_000),
        ("1.5", 150_000_000),
        ("21000000", 2_100_000_000_000_000),
        ("0.1", 10_000_000),
        ("12.34567891", 1_234_567_891),
        (" 2.5 ", 250_000_000),
        ("1e-8", 1),
        ("184467440737.09551615", U64_MAX),  # the largest amount, (2^64 - 1) base units
    ],
)
def test_parse_coins_exact(text, units):
    assert parse_coins(text) == units


@pytest.mark.parametrize(
    "text",
    [
        "-1",
        "-0.00000001",
        "1.123456789",  # nine decimals
        "0.000000001",
        "184467440737.09551616",  # 2^64 base units
        "abc",
        "",
        "NaN",
        "inf",
        "1,5",
        # Precise beyond 8 decimals, but only past the 28 significant digits of Decimal's default
        # context: must still be rejected, never rounded to a whole number of base units.
        "1.0000000000000000000000000001",
        "0.99999999999999999999999999999",
    ],
)
def test_parse_coins_rejects(text):
    with pytest.raises(UsageError) as info:
        parse_coins(text)
    assert info.value.code == "bad-amount"


def test_parse_coins_names_the_field():
    with pytest.raises(UsageError) as info:
        parse_coins("-1", "fee")
    assert info.value.code == "bad-fee"


@pytest.mark.parametrize(
    ("units", "text"),
    [
        (0, "0"),
        (1, "0.00000001"),
        (100_000_000, "1"),
        (150_000_000, "1.5"),
        (2_100_000_000_000_000, "21000000"),
        (1_234_567_891, "12.34567891"),
        (U64_MAX, "184467440737.09551615"),
    ],
)
def test_format_coins_exact(units, text):
    assert format_coins(units) == text


@settings(max_examples=200, deadline=None)
@given(units=st.integers(0, U64_MAX))
def test_format_then_parse_is_identity(units):
    text = format_coins(units)
    assert parse_coins(text) == units
    whole, _, frac = text.partition(".")
    assert int(whole) * 10**8 + int(frac.ljust(8, "0") or 0) == units
