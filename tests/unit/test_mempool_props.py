"""Mempool properties (hypothesis): lane order, fee-rate order, replacement, the byte bound, waiting -> ready.

The pool is the pure `Mempool` with a dict for committed state (the node passes the store's reader in the
same place); one test at the end checks the same ordering through a real Node's block template.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain import crypto
from chain.errors import InvalidTx
from chain.mempool import Mempool, PoolPolicy
from chain.params import COIN, REGTEST
from chain.state import Account
from chain.tx import Tx, make_transfer
from node.node import Node

CHAIN_ID = REGTEST.chain_id
MIN_FEE = REGTEST.min_fee
KEYS = [crypto.dev_keypair(i) for i in range(6)]
SINK = crypto.dev_keypair(9).address
RICH = 10**6 * COIN
PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def transfer(sender: int, nonce: int, fee: int, amount: int = 1_000) -> Tx:
    """A signed transfer (cached: hypothesis asks for the same ones again while shrinking)."""
    key = KEYS[sender]
    return make_transfer(CHAIN_ID, nonce, fee, key.pubkey, SINK, amount).signed(key)


SIZE = transfer(0, 0, MIN_FEE).size  # every transfer has the same size, so fee order is fee-rate order


class World:
    """Committed accounts in a dict, and a pool reading them."""

    def __init__(self, max_bytes: int = 10**9, nonces: dict[int, int] | None = None,
                 balance: int = RICH) -> None:
        self.accounts = {k.address: Account(balance, (nonces or {}).get(i, 0)) for i, k in enumerate(KEYS)}
        self.pool = Mempool(PoolPolicy(CHAIN_ID, MIN_FEE, REGTEST.min_fee_rate, max_bytes, 3600.0),
                            self.accounts.get, lambda txid: False)

    def snapshot(self):
        p = self.pool
        return ({txid: (e.tx, e.added) for txid, e in p.entries.items()},
                {s: dict(lane) for s, lane in p.lanes.items()}, p.total_bytes)


def tails(pool: Mempool) -> list[Tx]:
    return [pool.get(lane[max(lane)]) for lane in pool.lanes.values()]


def assert_consistent(pool: Mempool) -> None:
    assert pool.total_bytes == sum(e.tx.size for e in pool.entries.values())
    indexed = {txid for lane in pool.lanes.values() for txid in lane.values()}
    assert indexed == set(pool.entries)
    for sender, lane in pool.lanes.items():
        assert lane, "an empty lane was left behind"
        for nonce, txid in lane.items():
            tx = pool.get(txid)
            assert tx.sender_address == sender and tx.nonce == nonce


def code_of(fn) -> str:
    with pytest.raises(InvalidTx) as info:
        fn()
    return info.value.code


# -- fee-rate order and nonce lanes ------------------------------------------------------------------

lane_spec = st.tuples(st.integers(0, 3),  # the account's committed nonce
                      # pending nonces, as offsets from it
                      st.sets(st.integers(0, 9), min_size=1, max_size=7),
                      st.lists(st.integers(MIN_FEE, 30_000), min_size=10, max_size=10))  # a fee per offset


@PROPS
@given(lanes=st.lists(lane_spec, min_size=1, max_size=len(KEYS)), order=st.randoms(use_true_random=False))
def test_iter_by_fee_rate_is_lane_ordered_ready_only_and_greedy(lanes, order):
    base = {i: committed for i, (committed, _, _) in enumerate(lanes)}
    world = World(nonces=base)
    txs = [transfer(i, base[i] + off, fees[off])
           for i, (_, offsets, fees) in enumerate(lanes) for off in offsets]
    order.shuffle(txs)
    present: dict[int, set[int]] = {i: set() for i in base}
    for tx in txs:
        i = next(j for j, k in enumerate(KEYS) if k.pubkey == tx.sender)
        present[i].add(tx.nonce)
        result = world.pool.add(tx)
        expect_ready = all(n in present[i] for n in range(base[i], tx.nonce + 1))
        assert result.ready is expect_ready, (tx.nonce, sorted(present[i]), base[i])
        assert result.evicted == [] and result.replaced is None
    assert_consistent(world.pool)

    # the model's ready set: each lane from the committed nonce up to its first gap
    ready: dict[int, list[Tx]] = {}
    for i, (committed, offsets, fees) in enumerate(lanes):
        run = []
        off = 0
        while off in offsets:
            run.append(transfer(i, committed + off, fees[off]))
            off += 1
        ready[i] = run

    yielded = list(world.pool.iter_by_fee_rate())
    assert len({t.txid for t in yielded}) == len(yielded), "a tx was yielded twice"
    assert {t.txid for t in yielded} == {t.txid for run in ready.values() for t in run}, \
        "not exactly the ready txs"
    # greedy over lane heads: every step takes a head, and one with the highest fee rate
    cursor = {i: 0 for i in ready}
    for t in yielded:
        heads = {i: run[cursor[i]] for i, run in ready.items() if cursor[i] < len(run)}
        owner = next((i for i, h in heads.items() if h.txid == t.txid), None)
        assert owner is not None, f"nonce {t.nonce} came before its predecessor"
        assert t.fee_rate == max(h.fee_rate for h in heads.values()), "a richer lane head was passed over"
        cursor[owner] += 1


@PROPS
@given(committed=st.integers(0, 5), n=st.integers(2, 8), data=st.data())
def test_waiting_txs_become_ready_when_the_gap_fills(committed, n, data):
    gap = data.draw(st.integers(0, n - 1), label="missing offset")
    fees = data.draw(st.lists(st.integers(MIN_FEE, 9_000), min_size=n, max_size=n), label="fees")
    world = World(nonces={0: committed})
    lane = [transfer(0, committed + k, fees[k]) for k in range(n)]
    for k, tx in enumerate(lane):
        if k != gap:
            assert world.pool.add(tx).ready is (k < gap)
    assert [t.nonce for t in world.pool.iter_by_fee_rate()] == [committed + k for k in range(gap)]
    assert world.pool.get_next_nonce(KEYS[0].address) == committed + gap
    assert world.pool.add(lane[gap]).ready is True
    assert [t.nonce for t in world.pool.iter_by_fee_rate()] == [committed + k for k in range(n)]
    assert world.pool.get_next_nonce(KEYS[0].address) == committed + n

    # a block takes a prefix of the lane: the rest stays, still ready, after revalidation
    taken = data.draw(st.integers(0, n), label="included")
    world.pool.remove(t.txid for t in lane[:taken])
    world.accounts[KEYS[0].address] = Account(RICH, committed + taken)
    assert world.pool.revalidate() == []
    assert [t.nonce for t in world.pool.iter_by_fee_rate()] == [committed + k for k in range(taken, n)]
    assert_consistent(world.pool)


# -- replacement ---------------------------------------------------------------------------------------


def bump(fee: int) -> int:
    """At least 10% more, rounded up — computed independently of the pool's integer arithmetic."""
    return fee + math.ceil(Fraction(fee * 10, 100))


@PROPS
@given(fee=st.one_of(st.integers(MIN_FEE, 10**7),
                     st.sampled_from([1_000, 1_001, 1_009, 1_010, 1_011, 9_999, 10_000])),
       lane_len=st.integers(1, 4), data=st.data())
def test_replacement_needs_ten_percent_more_fee_exactly(fee, lane_len, data):
    at = data.draw(st.integers(0, lane_len - 1), label="replaced nonce")
    world = World()
    lane = [transfer(1, k, fee if k == at else MIN_FEE + 7 * k) for k in range(lane_len)]
    for tx in lane:
        world.pool.add(tx)
    old = lane[at]
    before = world.snapshot()

    too_low = transfer(1, at, bump(fee) - 1, amount=2_000)
    assert code_of(lambda: world.pool.add(too_low, now=5.0)) == "replacement-fee-too-low"
    assert world.snapshot() == before
    same_fee = transfer(1, at, fee, amount=3_000)
    assert code_of(lambda: world.pool.add(same_fee, now=5.0)) == "replacement-fee-too-low"
    assert world.snapshot() == before

    enough = transfer(1, at, bump(fee), amount=2_000)
    result = world.pool.add(enough, now=6.0)
    assert result.replaced is not None and result.replaced.txid == old.txid
    assert old.txid not in world.pool and enough.txid in world.pool
    assert world.pool.lanes[KEYS[1].address][at] == enough.txid
    assert len(world.pool) == lane_len and world.pool.total_bytes == lane_len * SIZE
    assert ([t.nonce for t in world.pool.iter_by_fee_rate() if t.sender == KEYS[1].pubkey]
            == list(range(lane_len)))
    assert_consistent(world.pool)


def test_replacement_keeps_the_lane_affordable():
    """A replacement is checked only against the nonces before it; the ones after must stay payable too.

    dev1 holds 100 coins: nonce 0 pays 10, nonce 1 pays 85 (95 in all). Replacing nonce 0 by a transfer of 20
    coins (fee +10%) leaves nonce 1 unpayable — yet both stay pooled as ready, so the template has to skip
    nonce 1 and, after the next block, a nonce-2 transfer the user sends meanwhile waits behind a gap.
    Either refusing the replacement (insufficient-balance) or dropping nonce 1 with it keeps the pool minable.
    """
    world = World(balance=100 * COIN)
    world.pool.add(transfer(1, 0, 2_000, amount=10 * COIN))
    world.pool.add(transfer(1, 1, 2_000, amount=85 * COIN))
    try:
        world.pool.add(transfer(1, 0, 2_200, amount=20 * COIN))
    except InvalidTx as e:
        assert e.code == "insufficient-balance"
    spent = 0
    for tx in world.pool.ready_lanes().get(KEYS[1].address, []):
        spent += tx.fee + int.from_bytes(tx.payload[-8:], "big")
        assert spent <= 100 * COIN, (f"nonce {tx.nonce} is pooled as ready but the lane needs {spent} base "
                                     f"units and the account holds {100 * COIN}")


# -- the byte bound ----------------------------------------------------------------------------------


@PROPS
@given(cap=st.integers(1, 6),
       ops=st.lists(st.integers(0, 3), min_size=1, max_size=18),
       fees=st.lists(st.integers(MIN_FEE, 60_000), min_size=18, max_size=18, unique=True))
def test_eviction_takes_the_lowest_tail_and_never_leaves_a_gap(cap, ops, fees):
    """Each op appends the next nonce to one sender's lane; fees are distinct, so "lowest" is unambiguous."""
    max_bytes = cap * SIZE + SIZE // 2  # room for `cap` transfers, not one more
    world = World(max_bytes=max_bytes)
    pool = world.pool
    for step, (sender, fee) in enumerate(zip(ops, fees, strict=False)):
        address = KEYS[sender].address
        tx = transfer(sender, pool.get_next_nonce(address), fee)
        before = world.snapshot()
        # the model: after inserting tx as its lane's new tail, if the bound is exceeded the lowest tail
        # leaves
        candidates = [t for t in tails(pool) if t.sender_address != address] + [tx]
        over = pool.total_bytes + tx.size > max_bytes
        lowest = min(candidates, key=lambda t: t.fee_rate)
        try:
            result = pool.add(tx, now=float(step))
        except InvalidTx as e:
            assert e.code == "mempool-full", e.code
            assert over and lowest is tx, "refused although it was not the lowest tail of a full pool"
            assert world.snapshot() == before, "a refused tx changed the pool"
        else:
            assert not (over and lowest is tx), "the lowest-fee-rate tx got into a full pool"
            assert result.evicted == ([lowest] if over else [])
            assert result.ready is True
            assert tx.txid in pool
            for gone in result.evicted:
                assert gone.txid not in pool
        assert pool.total_bytes <= max_bytes
        assert_consistent(pool)
        # every lane is still gap-free from the committed nonce
        for sender_address, lane in pool.lanes.items():
            committed = world.accounts[sender_address].nonce
            assert sorted(lane) == list(range(committed, committed + len(lane)))
        assert len(list(pool.iter_by_fee_rate())) == len(pool)  # so everything pooled is ready


@PROPS
@given(fees=st.lists(st.integers(2 * MIN_FEE, 50_000), min_size=3, max_size=5, unique=True), data=st.data())
def test_lowest_fee_rate_is_refused_and_the_pool_is_unchanged(fees, data):
    world = World(max_bytes=len(fees) * SIZE)
    for i, fee in enumerate(fees):
        world.pool.add(transfer(i, 0, fee), now=100.0 + i)
    before = world.snapshot()
    cheap = data.draw(st.integers(MIN_FEE, min(fees) - 1), label="cheaper fee")
    sender = data.draw(st.integers(0, len(KEYS) - 1), label="sender")
    tx = transfer(sender, world.pool.get_next_nonce(KEYS[sender].address), cheap)
    assert code_of(lambda: world.pool.add(tx, now=999.0)) == "mempool-full"
    assert world.snapshot() == before


def test_a_gap_filling_tx_with_the_lowest_fee_rate_does_not_push_out_a_better_one():
    """
    Full pool (3 transfers): dev0 nonce 1 (fee 4500, waiting for nonce 0), dev1 nonce 0 (3000), dev2 nonce 0
    (4000). dev0 nonce 0 arrives paying 1000: the lowest fee rate of all, and its package (nonces 0+1) pays
    2750 per transfer, still less than anything else. It must be refused with mempool-full. Today it is
    admitted and dev1's 3000 leaves, because only lane tails are candidates and the newcomer is not a tail.
    """
    world = World(max_bytes=3 * SIZE)
    world.pool.add(transfer(0, 1, 4_500))
    world.pool.add(transfer(1, 0, 3_000))
    world.pool.add(transfer(2, 0, 4_000))
    before = world.snapshot()
    newcomer = transfer(0, 0, 1_000)
    try:
        result = world.pool.add(newcomer)
    except InvalidTx as e:
        assert e.code == "mempool-full"
        assert world.snapshot() == before
    else:
        better = [t for t in result.evicted if t.fee_rate > newcomer.fee_rate]
        assert not better, (f"admitting a {newcomer.fee_rate:.2f}/byte tx evicted "
                            f"{[round(t.fee_rate, 2) for t in better]}/byte")


def test_an_equal_fee_rate_does_not_evict():
    """A newcomer paying exactly the lowest pooled fee rate gains the miner nothing: it must not churn the
    pool."""
    world = World(max_bytes=2 * SIZE)
    world.pool.add(transfer(0, 0, 2_000))
    world.pool.add(transfer(1, 0, 3_000))
    before = world.snapshot()
    assert code_of(lambda: world.pool.add(transfer(2, 0, 2_000))) == "mempool-full"
    assert world.snapshot() == before


# -- through a real node -----------------------------------------------------------------------------


def test_node_template_follows_the_pool_order(tmp_path):
    with Node.create(tmp_path / "chain", "regtest") as node:
        sent = [
            node.send("dev0", "dev9", COIN, fee=1_000),
            node.send("dev0", "dev9", COIN, fee=9_000),  # rich, but behind dev0's cheap nonce 0
            node.send("dev1", "dev9", COIN, fee=5_000),
            node.send("dev2", "dev9", COIN, fee=3_000),
            node.send("dev3", "dev9", COIN, fee=7_000, nonce=1),  # waits for nonce 0: not in the template
        ]
        assert [s["ready"] for s in sent] == [True, True, True, True, False]
        template = node.template_view()
        assert template["txs"] == [t.txid.hex() for t in node.mempool.iter_by_fee_rate()]
        assert template["txs"] == [sent[2]["txid"], sent[3]["txid"], sent[0]["txid"], sent[1]["txid"]]
        assert template["pending"] == 5
        mined = node.mine(1)
        assert node.block(mined["blocks"][0])["txs"] == template["txs"]
        assert [t["txid"] for t in node.mempool_view()] == [sent[4]["txid"]]
