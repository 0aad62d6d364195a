"""Proof-of-work rules: Bitcoin's compact targets, retargeting, work and hash checks, and the two header
rules that read a block's ancestors (median time past, next bits) through an accessor passed in."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chain.abc import BlockIndex
    from chain.params import Params

# How the rules reach a block's ancestry (the chain state supplies both; a test may pass a list's lookups).
GetParent = Callable[["BlockIndex"], "BlockIndex | None"]  # None for genesis
# the block's ancestor at a height (itself at its own)
GetAncestor = Callable[["BlockIndex", int], "BlockIndex"]

_U256 = 1 << 256
_SIGN_BIT = 0x0080_0000
_MANTISSA_MASK = 0x007F_FFFF


def bits_to_target(bits: int) -> int:
    """Decode a compact target exactly like arith_uint256::SetCompact.

    Raises ValueError where SetCompact would set pfNegative or pfOverflow, since a
    header carrying such bits can never be valid and silently using the truncated
    value would hide the problem.
    """
    if not 0 <= bits <= 0xFFFF_FFFF:
        raise ValueError(f"compact bits out of uint32 range: {bits!r}")
    size = bits >> 24
    word = bits & _MANTISSA_MASK
    if size <= 3:
        word >>= 8 * (3 - size)
        target = word
    else:
        target = word << (8 * (size - 3))
    # Both flags test the mantissa after the small-size shift, as SetCompact does:
    # 0x01803456 shifts to 0 and so is neither negative nor overflowing.
    if word != 0 and bits & _SIGN_BIT:
        raise ValueError(f"compact bits {bits:#010x} encode a negative target")
    if word != 0 and (size > 34 or (word > 0xFF and size > 33) or (word > 0xFFFF and size > 32)):
        raise ValueError(f"compact bits {bits:#010x} overflow 256 bits")
    return target


def target_to_bits(target: int) -> int:
    """Encode a target exactly like arith_uint256::GetCompact(fNegative=false)."""
    if not 0 <= target < _U256:
        raise ValueError("target must be a non-negative 256-bit integer")
    size = (target.bit_length() + 7) // 8
    if size <= 3:
        compact = target << (8 * (3 - size))
    else:
        compact = target >> (8 * (size - 3))
    # A set 0x00800000 bit would read back as a sign, so move a byte into the exponent.
    if compact & _SIGN_BIT:
        compact >>= 8
        size += 1
    return compact | (size << 24)


def retarget(prev_bits: int, actual_timespan: int, target_timespan: int, pow_limit: int) -> int:
    """The next compact target, by CalculateNextWorkRequired's arithmetic."""
    if target_timespan <= 0:
        raise ValueError("target_timespan must be positive")
    actual = min(max(actual_timespan, target_timespan // 4), target_timespan * 4)
    # arith_uint256 would wrap if target * actual passed 2**256 (possible with a
    # regtest-sized limit); Python ints cannot, so the product is exact and the cap
    # below yields pow_limit, which is what the rule intends.
    new_target = bits_to_target(prev_bits) * actual // target_timespan
    return target_to_bits(min(new_target, pow_limit))


def work_from_bits(bits: int) -> int:
    """Expected hashes for one block at these bits, as GetBlockProof: 2**256 // (target + 1).

    Like GetBlockProof, bits that are negative, overflowing or zero contribute no work
    instead of raising, so a chain-work sum never aborts on one malformed header.
    """
    try:
        target = bits_to_target(bits)
    except ValueError:
        return 0
    if target == 0:
        return 0
    return _U256 // (target + 1)


def target_to_bytes(target: int) -> bytes:
    """A target as 32 big-endian bytes, the order in which this project shows hashes."""
    return target.to_bytes(32, "big")


def check_proof_of_work(block_hash: bytes, bits: int, pow_limit: int) -> bool:
    """Whether a 32-byte hash, read big-endian, meets the target that `bits` encodes."""
    if len(block_hash) != 32:
        raise ValueError(f"block hash must be 32 bytes, got {len(block_hash)}")
    try:
        target = bits_to_target(bits)
    except ValueError:
        return False
    if target == 0 or target > pow_limit:
        return False
    return int.from_bytes(block_hash, "big") <= target


def expected_hashes(bits: int) -> float:
    """The mean number of hash attempts to meet `bits`, as a float for display."""
    return _U256 / (bits_to_target(bits) + 1)


def get_median_time_past(get_parent: GetParent, idx: BlockIndex, params: Params) -> int:
    """Bitcoin's GetMedianTimePast: the median timestamp of the `mtp_window` blocks ending at `idx`."""
    times = []
    cur: BlockIndex | None = idx
    while cur is not None and len(times) < params.mtp_window:
        times.append(cur.header.timestamp)
        cur = get_parent(cur)
    times.sort()
    return times[len(times) // 2]


def get_next_bits(get_ancestor: GetAncestor, parent: BlockIndex, params: Params) -> int:
    """Bitcoin's GetNextWorkRequired for the child of `parent`, without testnet's min-difficulty exception."""
    interval = params.retarget_interval
    if params.pow_no_retarget or (parent.height + 1) % interval != 0:
        return parent.header.bits
    first = get_ancestor(parent, parent.height - (interval - 1))
    actual = parent.header.timestamp - first.header.timestamp
    return retarget(parent.header.bits, actual, params.target_timespan, bits_to_target(params.pow_limit_bits))
