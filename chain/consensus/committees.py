"""Committees and proposer selection from the swap-or-not shuffle, with phase0's semantics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from hashlib import sha256

from chain.consensus.shuffle import SHUFFLE_ROUND_COUNT, compute_shuffled_index, shuffle_list

MAX_RANDOM_BYTE = 2**8 - 1


def _committee_bounds(length: int, index: int, count: int) -> tuple[int, int]:
    if count <= 0:
        raise ValueError(f"committee count must be positive, got {count}")
    if not 0 <= index < count:
        raise ValueError(f"committee index {index} out of range for count {count}")
    return length * index // count, length * (index + 1) // count


def compute_epoch_committees(
    active_indices: Sequence[int],
    seed: bytes,
    slots_per_epoch: int,
    committees_per_slot: int,
    rounds: int = SHUFFLE_ROUND_COUNT,
) -> list[list[list[int]]]:
    """Every committee of an epoch, as result[slot][committee], from one whole-list shuffle.

    Committee (slot, c) is phase0's compute_committee with index = slot * committees_per_slot + c
    and count = slots_per_epoch * committees_per_slot, as get_beacon_committee numbers them.
    """
    if slots_per_epoch <= 0 or committees_per_slot <= 0:
        raise ValueError("slots_per_epoch and committees_per_slot must be positive")
    shuffled = shuffle_list(list(active_indices), seed, rounds)
    count = slots_per_epoch * committees_per_slot
    epoch: list[list[list[int]]] = []
    for slot in range(slots_per_epoch):
        committees = []
        for c in range(committees_per_slot):
            start, end = _committee_bounds(len(shuffled), slot * committees_per_slot + c, count)
            committees.append(shuffled[start:end])
        epoch.append(committees)
    return epoch


def compute_committee(
    indices: Sequence[int], seed: bytes, index: int, count: int, rounds: int = SHUFFLE_ROUND_COUNT
) -> list[int]:
    """Phase0's compute_committee: the index-th of `count` equal slices of the shuffled indices.

    Equal to [indices[compute_shuffled_index(i, len(indices), seed)] for i in range(start, end)],
    computed by shuffling the whole list once: cheaper than per-index as soon as the slice
    holds more than a few dozen members, and callers wanting every committee use
    compute_epoch_committees so the shuffle is shared.
    """
    start, end = _committee_bounds(len(indices), index, count)
    if start == end:
        return []
    return shuffle_list(list(indices), seed, rounds)[start:end]


def compute_proposer_index(
    active_indices: Sequence[int],
    effective_balances: Mapping[int, int] | Sequence[int],
    seed: bytes,
    max_effective_balance: int,
    rounds: int = SHUFFLE_ROUND_COUNT,
) -> int:
    """Phase0's compute_proposer_index: walk the shuffled indices, accept by effective-balance roll.

    `effective_balances[v]` is validator v's effective balance (a list indexed by validator
    index, or a dict). A candidate is accepted when balance * 255 >= max_effective_balance *
    random_byte, so acceptance is proportional to stake.

    One deliberate difference: a zero-balance candidate is never accepted. Phase0 would
    accept it when random_byte == 0, which Ethereum never meets because an active validator
    always holds at least the ejection balance; here devnet params can leave a zero-balance
    validator active, and giving it a slot would hand block production to someone with
    nothing at stake. With any positive balances the result is phase0's exactly.
    """
    total = len(active_indices)
    if total == 0:
        raise ValueError("no active validators to choose a proposer from")
    if max_effective_balance <= 0:
        raise ValueError(f"max_effective_balance must be positive, got {max_effective_balance}")
    if all(effective_balances[v] <= 0 for v in active_indices):
        # Otherwise the walk below would never end.
        raise ValueError("every active validator has zero effective balance")
    i = 0
    random_bytes = b""
    while True:
        candidate = active_indices[compute_shuffled_index(i % total, total, seed, rounds)]
        if i % 32 == 0:
            random_bytes = sha256(seed + (i // 32).to_bytes(8, "little")).digest()
        random_byte = random_bytes[i % 32]
        balance = effective_balances[candidate]
        if balance > 0 and balance * MAX_RANDOM_BYTE >= max_effective_balance * random_byte:
            return candidate
        i += 1
