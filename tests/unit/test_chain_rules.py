"""The rules split out of the chain state are plain functions: ancestry and clock come in as arguments."""

from __future__ import annotations

import pytest

from chain import crypto
from chain.abc import BlockIndex
from chain.block import ENGINE_POW, HEADER_VERSION, Header, PowSeal
from chain.cache import MISSING, BoundedCache
from chain.consensus import pow as pow_rules
from chain.consensus.schedule import (
    SlotOrigin,
    compute_current_slot,
    compute_slot_start_time,
    get_slot_origin,
)
from chain.params import get_preset, with_overrides
from node.sigcheck import PARALLEL_FROM, verify_many_parallel


def make_branch(timestamps: list[int], bits: int) -> list[BlockIndex]:
    """A chain of indexes (heights 0..n-1) whose headers carry these timestamps and bits."""
    out, parent = [], bytes(32)
    for height, ts in enumerate(timestamps):
        header = Header(HEADER_VERSION, height, parent, ts, bytes(32), bytes(32), bytes(32), bytes(20),
                        ENGINE_POW, PowSeal(bits, 0))
        out.append(BlockIndex(header, height + 1))
        parent = header.hash
    return out


def accessors(branch: list[BlockIndex]):
    def get_parent(idx: BlockIndex) -> BlockIndex | None:
        return branch[idx.height - 1] if idx.height > 0 else None

    def get_ancestor(idx: BlockIndex, height: int) -> BlockIndex:
        return branch[height]

    return get_parent, get_ancestor


def test_median_time_past_is_the_median_of_the_window_through_the_accessor():
    params = get_preset("devnet")
    assert params.mtp_window == 11
    timestamps = [1000 + 10 * i for i in range(30)]
    timestamps[25] = 5  # one wild clock in the window does not move the median
    branch = make_branch(timestamps, params.genesis_bits)
    get_parent, _ = accessors(branch)
    window = sorted(timestamps[19:30])
    assert pow_rules.get_median_time_past(get_parent, branch[29], params) == window[5]
    assert pow_rules.get_median_time_past(get_parent, branch[2], params) == timestamps[1], \
        "fewer blocks than the window"


def test_next_bits_retargets_only_at_the_interval_boundary():
    params = with_overrides(get_preset("devnet"), pow_no_retarget=False)
    interval, spacing = params.retarget_interval, params.target_spacing
    bits = pow_rules.target_to_bits(pow_rules.bits_to_target(params.pow_limit_bits) // 1024)
    branch = make_branch([i * spacing // 2 for i in range(interval)], bits)  # blocks came twice as fast
    _, get_ancestor = accessors(branch)
    assert pow_rules.get_next_bits(get_ancestor, branch[interval - 2], params) == bits
    expected = pow_rules.retarget(bits, (interval - 1) * spacing // 2, params.target_timespan,
                                  pow_rules.bits_to_target(params.pow_limit_bits))
    assert pow_rules.get_next_bits(get_ancestor, branch[interval - 1], params) == expected
    assert pow_rules.bits_to_target(expected) < pow_rules.bits_to_target(bits), \
        "faster blocks: a harder target"


def test_the_slot_clock_is_a_function_of_origin_and_now():
    params = with_overrides(get_preset("pos-devnet"), genesis_time=1_000, slot_time=2.0)
    origin = get_slot_origin(params, lambda idx, h: pytest.fail("pos counts from genesis"), None)
    assert origin == SlotOrigin(1000.0, 0)
    assert compute_slot_start_time(origin, 5, params) == 1010.0
    assert compute_current_slot(origin, 1010.0, params) == 5
    assert compute_current_slot(origin, 1011.9, params) == 5
    assert compute_current_slot(origin, 900.0, params) == 0, "before genesis: slot 0"


def test_the_merge_slot_clock_counts_from_the_last_pow_block():
    params = with_overrides(get_preset("merge-devnet"), merge_height=4, slot_time=2.0)
    branch = make_branch([100, 110, 120, 130, 140, 150], params.genesis_bits)
    _, get_ancestor = accessors(branch)
    assert get_slot_origin(params, get_ancestor, branch[5]) == SlotOrigin(130.0, 3)
    assert get_slot_origin(params, get_ancestor, branch[1]) == SlotOrigin(110.0, 1), \
        "before the merge: the tip"


def test_bounded_cache_empties_when_full_and_tells_none_from_absent():
    cache = BoundedCache(3)
    for k in "abc":
        cache.put(k, k.upper())
    cache.put("a", "A2")  # an update of a present key does not count as growth
    assert len(cache) == 3 and cache.get("a") == "A2"
    cache.put("d", None)
    assert len(cache) == 1 and "a" not in cache and cache.get("d", MISSING) is None
    assert cache.get("zz", MISSING) is MISSING
    assert cache.pop("d", MISSING) is None and len(cache) == 0
    with pytest.raises(ValueError):
        BoundedCache(0)


def test_the_pooled_verifier_gives_the_sequential_answers_in_order():
    keys = [crypto.dev_keypair(i) for i in range(4)]
    items = []
    for i in range(PARALLEL_FROM * 3):
        key = keys[i % 4]
        msg = i.to_bytes(4, "big")
        sig = key.sign(msg)
        items.append((key.pubkey, sig if i % 7 else bytes(64), msg))  # every 7th is forged
    expected = crypto.verify_many(items)
    assert expected == [bool(i % 7) for i in range(len(items))]
    assert verify_many_parallel(items) == expected
    assert verify_many_parallel(items[:3]) == expected[:3]


def test_a_preverified_signature_answers_the_admission_once_and_only_for_the_same_check():
    from dataclasses import replace

    from chain.tx import make_transfer
    from node import sigcheck

    key, other = crypto.dev_keypair(0), crypto.dev_keypair(1)
    good = make_transfer(7, 0, 10, key.pubkey, other.address, 5).signed(key)
    forged = replace(good, signature=other.sign(good.txid))  # signed by the wrong key
    assert good.has_valid_signature() and not forged.has_valid_signature()
    sigcheck.preverify([good.encode().hex(), forged.encode().hex(), "not hex", 42])
    assert (good.sender, good.signature, good.txid) in sigcheck._checked
    assert sigcheck.check_signature(good) is True
    assert sigcheck.check_signature(forged) is False
    assert (good.sender, good.signature, good.txid) not in sigcheck._checked  # each answer is taken once
    assert sigcheck.check_signature(good) is True  # checked anew
    assert sigcheck.check_signature(forged) is False


def test_the_node_checks_signatures_with_the_pooled_verifier(tmp_path):
    from node.node import Node

    with Node.create(tmp_path / "node", "regtest") as node:
        assert node.chain.verify_batch is verify_many_parallel, "the node verifies blocks on every core"
