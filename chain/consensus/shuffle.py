"""Swap-or-not shuffle: Ethereum phase0's compute_shuffled_index and a one-pass whole-list shuffle."""

from __future__ import annotations

from hashlib import sha256

SHUFFLE_ROUND_COUNT = 90
MAX_INDEX_COUNT = 2**40
# current_round is encoded as a uint8, so no more rounds than that can name.
MAX_ROUNDS = 256

# Byte value -> its 8 bits, least significant first, one byte each: a whole round's
# source hashes expand to a 0/1 byte per position with one C-level join.
_BITS_OF_BYTE = [bytes((b >> k) & 1 for k in range(8)) for b in range(256)]


def _check_seed_and_rounds(seed: bytes, rounds: int) -> None:
    if len(seed) != 32:
        raise ValueError(f"seed must be 32 bytes, got {len(seed)}")
    if not 0 <= rounds <= MAX_ROUNDS:
        raise ValueError(f"rounds must be in [0, {MAX_ROUNDS}], got {rounds}")


def compute_shuffled_index(index: int, index_count: int, seed: bytes,
                           rounds: int = SHUFFLE_ROUND_COUNT) -> int:
    """Return the position `index` moves to in the seed's permutation of range(index_count).

    Line for line the phase0 spec function (consensus-specs specs/phase0/beacon-chain.md),
    with SHUFFLE_ROUND_COUNT as a parameter so the minimal preset (10 rounds) is reachable.
    """
    if not 0 < index_count <= MAX_INDEX_COUNT:
        raise ValueError(f"index_count must be in [1, 2**40], got {index_count}")
    if not 0 <= index < index_count:
        raise ValueError(f"index {index} out of range for index_count {index_count}")
    _check_seed_and_rounds(seed, rounds)
    for current_round in range(rounds):
        round_byte = current_round.to_bytes(1, "little")
        pivot = int.from_bytes(sha256(seed + round_byte).digest()[0:8], "little") % index_count
        flip = (pivot + index_count - index) % index_count
        position = max(index, flip)
        source = sha256(seed + round_byte + (position // 256).to_bytes(4, "little")).digest()
        byte = source[(position % 256) // 8]
        bit = (byte >> (position % 8)) % 2
        index = flip if bit else index
    return index


def _round_bits(seed: bytes, round_byte: bytes, n: int) -> bytes:
    """The round's decision bit for every position 0..n-1, one 0/1 byte each."""
    prefix = seed + round_byte
    chunks = range((n + 255) // 256)
    source = b"".join(sha256(prefix + chunk.to_bytes(4, "little")).digest() for chunk in chunks)
    return b"".join(map(_BITS_OF_BYTE.__getitem__, source))[:n]


def _segment_mask(bits: bytes, start: int, stop: int) -> bytes:
    """Swap flags for the mirrored segment [start, stop): each pair decides by the bit at its larger position.

    In a segment, x pairs with start + stop - 1 - x; the first half of the segment takes
    its partner's bit (read from the reversed slice), the second half its own.
    """
    half = (stop - start + 1) // 2
    segment = bits[start:stop]
    return segment[::-1][:half] + segment[half:]


def shuffle_list(indices: list[int], seed: bytes, rounds: int = SHUFFLE_ROUND_COUNT) -> list[int]:
    """Shuffle a whole list at once: result[i] == indices[compute_shuffled_index(i, len(indices), seed)].

    Costs rounds * (n/256 + 1) hashes instead of 2 * rounds * n. Each round of the spec
    function is an involution that swaps the pairs {x, pivot - x mod n} whose bit (at the
    pair's larger position) is set. Applying a round to the array as `a[x] = a[f(x)]`
    composes on the right, so to get indices o f_last o ... o f_first the rounds must be
    applied last-first, which is the loop below (clients call this direction "backwards").
    """
    _check_seed_and_rounds(seed, rounds)
    n = len(indices)
    if n > MAX_INDEX_COUNT:
        raise ValueError(f"list length must be at most 2**40, got {n}")
    out = list(indices)
    if n <= 1:
        return out
    for current_round in reversed(range(rounds)):
        round_byte = current_round.to_bytes(1, "little")
        pivot = int.from_bytes(sha256(seed + round_byte).digest()[0:8], "little") % n
        bits = _round_bits(seed, round_byte, n)
        # Positions split into two mirrored segments: [0, pivot] (x <-> pivot - x) and
        # [pivot + 1, n) (x <-> pivot + n - x). Reversing each segment lines every
        # element up with its partner, so one comprehension applies the whole round.
        mask = _segment_mask(bits, 0, pivot + 1) + _segment_mask(bits, pivot + 1, n)
        partners = out[pivot::-1] + out[:pivot:-1]
        out = [partner if swap else own for own, partner, swap in zip(out, partners, mask, strict=True)]
    return out
