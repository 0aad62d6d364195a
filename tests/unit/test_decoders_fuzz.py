"""Every decoder against arbitrary bytes and mutated valid encodings: only DecodeError may escape."""

from __future__ import annotations

import hashlib
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain import bech32
from chain.abc import BlockIndex, TxLocation
from chain.block import Block, Header, PowSeal
from chain.crypto import decode_address, encode_address
from chain.errors import DecodeError, InvalidAddress
from chain.muhash import MuHash3072
from chain.state import Account, Undo
from chain.tx import Tx

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
QUICK = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

u8 = st.integers(0, 2**8 - 1)
u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**64 - 1)


def exactly(n: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=n, max_size=n)


txs = st.builds(Tx, chain_id=u32, kind=u8, nonce=u64, fee=u64, sender=exactly(32),
                payload=st.binary(max_size=256), signature=exactly(64))
headers = st.builds(Header, version=u32, height=u64, parent=exactly(32), timestamp=u64, tx_root=exactly(32),
                    ops_root=exactly(32), state_root=exactly(32), beneficiary=exactly(20), engine=st.just(0),
                    seal=st.builds(PowSeal, bits=u32, nonce=u64))
blocks = st.builds(Block, headers, st.lists(txs, max_size=4).map(tuple))
indexes = st.builds(BlockIndex, headers, st.integers(0, 2**320 - 1), u8, u32)
locations = st.builds(TxLocation, exactly(32), u32)
accounts = st.builds(Account, u64, u64)
undos = st.builds(Undo, st.lists(st.tuples(st.binary(min_size=1, max_size=64),
                                           st.none() | accounts.map(lambda a: a.encode())),
                                 max_size=5).map(tuple),
                  st.binary(max_size=1024))


@st.composite
def muhashes(draw) -> MuHash3072:
    acc = MuHash3072()
    for item in draw(st.lists(st.binary(max_size=16), max_size=3)):
        acc.insert(item)
    for item in draw(st.lists(st.binary(max_size=16), max_size=3)):
        acc.remove(item)
    return acc


@dataclass(frozen=True)
class Codec:
    decode: Callable[[bytes], Any]
    encode: Callable[[Any], bytes]
    objects: st.SearchStrategy
    canonical: bool = True  # every accepted encoding re-encodes to the same bytes


CODECS = {
    "tx": Codec(Tx.decode, Tx.encode, txs),
    "header": Codec(Header.decode, Header.encode, headers),
    "block": Codec(Block.decode, Block.encode, blocks),
    "block-index": Codec(BlockIndex.decode, BlockIndex.encode, indexes),
    "tx-location": Codec(TxLocation.decode, TxLocation.encode, locations),
    "account": Codec(Account.decode, Account.encode, accounts),
    # Undo's presence flag accepts any non-zero byte; test_undo_flag_must_be_canonical covers that alone.
    "undo": Codec(Undo.decode, Undo.encode, undos, canonical=False),
    "muhash": Codec(MuHash3072.from_bytes, MuHash3072.to_bytes, muhashes()),
}
NAMES = list(CODECS)


def decode_or_none(codec: Codec, raw: bytes):
    """The decoded object, or None for a DecodeError; any other exception fails the test."""
    try:
        return codec.decode(raw)
    except DecodeError:
        return None


@st.composite
def mutations(draw, data: bytes) -> bytes:
    """1-3 edits: bit flips, byte replacements, insertions, deletions, truncations, appended bytes."""
    raw = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "replace", "insert", "delete", "truncate", "append"]))
        if op in ("flip", "replace", "delete", "truncate") and not raw:
            op = "append"
        if op == "flip":
            i = draw(st.integers(0, len(raw) - 1))
            raw[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "replace":
            raw[draw(st.integers(0, len(raw) - 1))] = draw(u8)
        elif op == "insert":
            i = draw(st.integers(0, len(raw)))
            raw[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            i = draw(st.integers(0, len(raw) - 1))
            del raw[i : i + draw(st.integers(1, 8))]
        elif op == "truncate":
            del raw[draw(st.integers(0, len(raw) - 1)) :]
        else:
            raw += draw(st.binary(min_size=1, max_size=8))
    return bytes(raw)


# -- arbitrary and mutated bytes ------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(raw=st.binary(max_size=600))
def test_arbitrary_bytes(name, raw):
    codec = CODECS[name]
    obj = decode_or_none(codec, raw)
    if obj is not None and codec.canonical:
        assert codec.encode(obj) == raw


@FUZZ
@given(raw=exactly(768))
def test_arbitrary_muhash_state(raw):
    obj = decode_or_none(CODECS["muhash"], raw)
    if obj is not None:
        assert obj.to_bytes() == raw


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(data=st.data())
def test_mutated_encodings(name, data):
    codec = CODECS[name]
    valid = codec.encode(data.draw(codec.objects))
    raw = data.draw(mutations(valid))
    obj = decode_or_none(codec, raw)
    if obj is not None and codec.canonical:
        assert codec.encode(obj) == raw


@pytest.mark.parametrize("name", NAMES)
@QUICK
@given(data=st.data())
def test_strict_prefix_and_extension_are_rejected(name, data):
    """Every encoding is self-delimiting: no strict prefix decodes, nor anything with bytes after it."""
    codec = CODECS[name]
    valid = codec.encode(data.draw(codec.objects))
    cut = data.draw(st.integers(0, len(valid) - 1))
    assert decode_or_none(codec, valid[:cut]) is None
    extra = data.draw(st.binary(min_size=1, max_size=16))
    with pytest.raises(DecodeError):
        codec.decode(valid + extra)


# -- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@QUICK
@given(data=st.data())
def test_round_trip(name, data):
    codec = CODECS[name]
    obj = data.draw(codec.objects)
    raw = codec.encode(obj)
    back = codec.decode(raw)
    assert back == obj
    assert codec.encode(back) == raw


@QUICK
@given(tx=txs)
def test_tx_decode_keeps_txid(tx):
    raw = tx.encode()
    back = Tx.decode(raw)
    # txid = SHA-256 of the encoding without the 64-byte signature
    assert back.txid == tx.txid == hashlib.sha256(raw[:-64]).digest()


@QUICK
@given(block=blocks)
def test_block_decode_keeps_hashes(block):
    raw = block.encode()
    back = Block.decode(raw)
    # block id = double SHA-256 of the PoW header, which is the first 181 bytes of the block
    # (version 4, height 8, parent 32, time 8, tx root 32, ops root 32, state root 32, beneficiary 20,
    # engine 1, bits 4, nonce 8)
    expected = hashlib.sha256(hashlib.sha256(raw[:181]).digest()).digest()
    assert back.hash == block.hash == expected
    assert [t.txid for t in back.txs] == [t.txid for t in block.txs]
    assert back.size == len(raw)


@QUICK
@given(acc=muhashes())
def test_muhash_round_trip_keeps_digest(acc):
    back = MuHash3072.from_bytes(acc.to_bytes())
    assert back.digest() == acc.digest()


def test_undo_flag_must_be_canonical():
    """An undo entry's presence flag is 0 (absent) or 1 (a record follows); 2 is not an encoding of
    anything."""
    key = b"a" + bytes(range(20))
    prior = bytes(16)
    good = ((1).to_bytes(4, "big") + len(key).to_bytes(4, "big") + key + b"\x01"
            + len(prior).to_bytes(4, "big") + prior + bytes(4))
    assert Undo.decode(good) == Undo(((key, prior),), b"")
    flag_at = 4 + 4 + len(key)
    bad = good[:flag_at] + b"\x02" + good[flag_at + 1:]
    with pytest.raises(DecodeError):
        Undo.decode(bad)


def test_header_with_unknown_engine_is_a_decode_error():
    raw = bytearray(Header(1, 1, bytes(32), 0, bytes(32), bytes(32), bytes(32), bytes(20), 0,
                           PowSeal(0, 0)).encode())
    raw[4 + 8 + 32 + 8 + 32 + 32 + 32 + 20] = 7  # the engine byte, after version..beneficiary: no engine 7
    with pytest.raises(DecodeError):
        Header.decode(bytes(raw))


# -- addresses ------------------------------------------------------------------------------------

hrps = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12)


def decode_address_or_none(hrp: str, text: str) -> bytes | None:
    try:
        return decode_address(hrp, text)
    except DecodeError as e:
        assert isinstance(e, InvalidAddress)
        return None


@FUZZ
@given(hrp=hrps, text=st.text(max_size=100))
def test_arbitrary_address_text(hrp, text):
    raw = decode_address_or_none(hrp, text)
    if raw is not None:
        assert encode_address(hrp, raw) == text.strip().lower()


@st.composite
def mutated_addresses(draw) -> tuple[str, str]:
    hrp = draw(hrps)
    text = list(encode_address(hrp, draw(exactly(20))))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "append", "upper"]))
        alphabet = st.sampled_from(bech32.CHARSET) | st.characters()
        if op == "replace" and text:
            text[draw(st.integers(0, len(text) - 1))] = draw(alphabet)
        elif op == "insert":
            text.insert(draw(st.integers(0, len(text))), draw(alphabet))
        elif op == "delete" and text:
            del text[draw(st.integers(0, len(text) - 1))]
        elif op == "truncate" and text:
            del text[draw(st.integers(0, len(text) - 1)) :]
        elif op == "upper" and text:
            i = draw(st.integers(0, len(text) - 1))
            text[i] = text[i].upper()
        else:
            text.append(draw(alphabet))
    return hrp, "".join(text)


@FUZZ
@given(case=mutated_addresses())
def test_mutated_addresses(case):
    hrp, text = case
    raw = decode_address_or_none(hrp, text)
    if raw is not None:
        assert encode_address(hrp, raw) == text.strip().lower()


@FUZZ
@given(hrp=hrps, payload=exactly(20), data=st.data())
def test_up_to_four_substitutions_are_always_detected(hrp, payload, data):
    """BIP-350: bech32m detects any error affecting at most 4 characters (strings up to 89 characters)."""
    text = encode_address(hrp, payload)
    assert decode_address(hrp, text) == payload
    assert decode_address(hrp, text.upper()) == payload
    data_start = len(hrp) + 1
    positions = data.draw(st.sets(st.integers(data_start, len(text) - 1), min_size=1, max_size=4))
    chars = list(text)
    for i in positions:
        chars[i] = data.draw(st.sampled_from([c for c in bech32.CHARSET if c != chars[i]]))
    with pytest.raises(InvalidAddress):
        decode_address(hrp, "".join(chars))


def test_address_of_wrong_length_is_rejected():
    too_short = bech32.encode("ctdev", bytes(19))
    with pytest.raises(InvalidAddress):
        decode_address("ctdev", too_short)
    with pytest.raises(InvalidAddress) as info:
        decode_address("ctreg", encode_address("ctdev", bytes(20)))
    assert info.value.code == "wrong-network"
