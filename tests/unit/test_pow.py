"""Compact-target, retarget and proof-of-work checks against Bitcoin Core's published vectors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain.consensus.pow import (
    bits_to_target,
    check_proof_of_work,
    expected_hashes,
    retarget,
    target_to_bits,
    target_to_bytes,
    work_from_bits,
)

MAINNET_POW_LIMIT = 0x00000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
TARGET_TIMESPAN = 14 * 24 * 60 * 60

# bitcoin/bitcoin src/test/arith_uint256_tests.cpp, BOOST_AUTO_TEST_CASE(bignum_SetCompact):
# (nCompact, GetHex() of the decoded value, GetCompact() of it).
SET_COMPACT_VECTORS = [
    (0x00000000, "0000000000000000000000000000000000000000000000000000000000000000", 0),
    (0x00123456, "0000000000000000000000000000000000000000000000000000000000000000", 0),
    (0x01003456, "0000000000000000000000000000000000000000000000000000000000000000", 0),
    (0x02000056, "0000000000000000000000000000000000000000000000000000000000000000", 0),
    (0x03000000, "0000000000000000000000000000000000000000000000000000000000000000", 0),
    (0x04000000, "0000000000000000000000000000000000000000000000000000000000000000", 0),
    (0x00923456, "0000000000000000000000000000000000000000000000000000000000000000", 0),
    (0x01803456, "0000000000000000000000000000000000000000000000000000000000000000", 0),
    (0x02800056, "0000000000000000000000000000000000000000000000000000000000000000", 0),
    (0x03800000, "0000000000000000000000000000000000000000000000000000000000000000", 0),
    (0x04800000, "0000000000000000000000000000000000000000000000000000000000000000", 0),
    (0x01123456, "0000000000000000000000000000000000000000000000000000000000000012", 0x01120000),
    (0x02123456, "0000000000000000000000000000000000000000000000000000000000001234", 0x02123400),
    (0x03123456, "0000000000000000000000000000000000000000000000000000000000123456", 0x03123456),
    (0x04123456, "0000000000000000000000000000000000000000000000000000000012345600", 0x04123456),
    (0x05009234, "0000000000000000000000000000000000000000000000000000000092340000", 0x05009234),
    (0x20123456, "1234560000000000000000000000000000000000000000000000000000000000", 0x20123456),
]

# Same test case: these set fNegative (0x01fedcba, 0x04923456) or fOverflow (0xff123456).
REJECTED_COMPACTS = [0x01FEDCBA, 0x04923456, 0xFF123456]


@pytest.mark.parametrize(("bits", "hex_target", "compact"), SET_COMPACT_VECTORS)
def test_set_compact_vectors(bits: int, hex_target: str, compact: int) -> None:
    target = bits_to_target(bits)
    assert target == int(hex_target, 16)
    assert target_to_bytes(target).hex() == hex_target
    assert target_to_bits(target) == compact


@pytest.mark.parametrize("bits", REJECTED_COMPACTS)
def test_negative_or_overflowing_compacts_raise(bits: int) -> None:
    with pytest.raises(ValueError):
        bits_to_target(bits)


def test_get_compact_never_sets_the_sign_bit() -> None:
    # arith_uint256_tests.cpp: "Make sure that we don't generate compacts with the 0x00800000 bit set".
    assert target_to_bits(0x80) == 0x02008000


def test_target_to_bits_rejects_out_of_range() -> None:
    with pytest.raises(ValueError):
        target_to_bits(-1)
    with pytest.raises(ValueError):
        target_to_bits(1 << 256)


# bitcoin/bitcoin src/test/pow_tests.cpp: (name, nLastRetargetTime, pindexLast.nTime, nBits, expected).
RETARGET_VECTORS = [
    ("get_next_work", 1261130161, 1262152739, 0x1D00FFFF, 0x1D00D86A),
    ("get_next_work_pow_limit", 1231006505, 1233061996, 0x1D00FFFF, 0x1D00FFFF),
    ("get_next_work_lower_limit_actual", 1279008237, 1279297671, 0x1C05A3F4, 0x1C0168FD),
    ("get_next_work_upper_limit_actual", 1263163443, 1269211443, 0x1C387F6F, 0x1D00E1FD),
]


@pytest.mark.parametrize(
    ("first_time", "last_time", "bits", "expected"),
    [v[1:] for v in RETARGET_VECTORS],
    ids=[v[0] for v in RETARGET_VECTORS],
)
def test_retarget_vectors(first_time: int, last_time: int, bits: int, expected: int) -> None:
    assert retarget(bits, last_time - first_time, TARGET_TIMESPAN, MAINNET_POW_LIMIT) == expected


def test_retarget_near_a_regtest_limit_caps_instead_of_wrapping() -> None:
    regtest_limit = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
    bits = target_to_bits(regtest_limit)
    assert retarget(bits, TARGET_TIMESPAN * 4, TARGET_TIMESPAN, regtest_limit) == bits


def test_work_from_bits() -> None:
    # Mainnet genesis (bits 0x1d00ffff): Bitcoin Core reports chainwork 0x100010001 for it.
    assert work_from_bits(0x1D00FFFF) == 0x100010001
    # Regtest's 0x207fffff gives 2 per block, as GetBlockProof's (~t / (t+1)) + 1.
    assert work_from_bits(0x207FFFFF) == 2
    for bits in REJECTED_COMPACTS + [0]:
        assert work_from_bits(bits) == 0


@given(st.integers(min_value=1, max_value=(1 << 256) - 1))
def test_work_matches_get_block_proof_formula(target: int) -> None:
    bits = target_to_bits(target)
    t = bits_to_target(bits)
    if t == 0:
        return
    assert work_from_bits(bits) == (((1 << 256) - 1 - t) // (t + 1)) + 1


@given(st.integers(min_value=0, max_value=(1 << 256) - 1))
def test_compact_round_trip_is_idempotent(target: int) -> None:
    bits = target_to_bits(target)
    rounded = bits_to_target(bits)
    assert rounded <= target
    assert target_to_bits(rounded) == bits


def test_check_proof_of_work() -> None:
    bits = 0x1D00FFFF
    target = bits_to_target(bits)
    assert check_proof_of_work(target_to_bytes(target), bits, MAINNET_POW_LIMIT)
    assert not check_proof_of_work(target_to_bytes(target + 1), bits, MAINNET_POW_LIMIT)
    assert check_proof_of_work(bytes(32), bits, MAINNET_POW_LIMIT)
    # Leading zeros first: a hash that is small only when read little-endian must fail.
    assert check_proof_of_work(bytes(31) + b"\x01", bits, MAINNET_POW_LIMIT)
    assert not check_proof_of_work(b"\x01" + bytes(31), bits, MAINNET_POW_LIMIT)


def test_mainnet_genesis_meets_its_target() -> None:
    # bitcoin/bitcoin src/kernel/chainparams.cpp asserts this genesis hash (display order).
    genesis = bytes.fromhex("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f")
    assert check_proof_of_work(genesis, 0x1D00FFFF, MAINNET_POW_LIMIT)
    assert not check_proof_of_work(genesis[::-1], 0x1D00FFFF, MAINNET_POW_LIMIT)


def test_check_proof_of_work_rejects_bad_bits() -> None:
    zero_hash = bytes(32)
    assert not check_proof_of_work(zero_hash, 0, MAINNET_POW_LIMIT)  # zero target
    assert not check_proof_of_work(zero_hash, 0x01003456, MAINNET_POW_LIMIT)  # decodes to zero
    assert not check_proof_of_work(zero_hash, 0x04923456, MAINNET_POW_LIMIT)  # negative
    assert not check_proof_of_work(zero_hash, 0xFF123456, MAINNET_POW_LIMIT)  # overflow
    assert not check_proof_of_work(zero_hash, 0x1D010000, MAINNET_POW_LIMIT)  # above the limit
    with pytest.raises(ValueError):
        check_proof_of_work(bytes(31), 0x1D00FFFF, MAINNET_POW_LIMIT)


def test_expected_hashes() -> None:
    assert expected_hashes(0x1D00FFFF) == pytest.approx(float(0x100010001))
    assert expected_hashes(0x207FFFFF) == pytest.approx(2.0)
