"""Block and mempool rules on a real node: every rejection path by reason code, connects, reorgs,
retargets."""

from __future__ import annotations

import hashlib

import pytest

from chain import crypto
from chain.abc import STATUS_INVALID, STATUS_VALID
from chain.block import Block, Header
from chain.consensus.pow import bits_to_target, check_proof_of_work, retarget
from chain.errors import DecodeError, InvalidTx, UsageError
from chain.mempool import MAX_NONCE_GAP
from chain.params import DEVNET, REGTEST, parse_coins
from chain.tx import TRANSFER, Tx, make_transfer
from tests.functional.helpers import COIN, DEV, DEV_KEYS, MIN_FEE, MINER, ChainHarness, model_state_root

U64_MAX = 2**64 - 1
DEV_BALANCE = 1_000_000 * COIN  # each dev account's genesis balance, as the presets define it
REWARD = 50 * COIN  # the initial block reward, before the first halving
LIMIT_BITS = 0x207FFFFF
# Bitcoin's regtest limit written out: mantissa 0x7fffff, exponent 0x20 -> 0x7fffff * 256**(0x20 - 3).
LIMIT = 0x7FFFFF * 256 ** (0x20 - 3)


@pytest.fixture
def h(tmp_path):
    harness = ChainHarness(tmp_path)
    yield harness
    harness.close()


def flip_signature(tx: Tx) -> Tx:
    sig = bytearray(tx.signature)
    sig[10] ^= 0x01
    return Tx(tx.chain_id, tx.kind, tx.nonce, tx.fee, tx.sender, tx.payload, bytes(sig))


def work(bits: int) -> int:
    """GetBlockProof: expected hashes for one block at these bits."""
    return 2**256 // (bits_to_target(bits) + 1)


def fresh_key(name: bytes) -> crypto.KeyPair:
    return crypto.KeyPair.from_seed(hashlib.sha256(name).digest())


# -- transaction rules inside a block --------------------------------------------------------------


def test_bad_signature(h):
    h.reject(h.next_block([flip_signature(h.transfer(0, 1, COIN))]), "bad-signature")


def test_signature_by_another_key(h):
    tx = h.transfer(0, 1, COIN)
    forged = Tx(tx.chain_id, tx.kind, tx.nonce, tx.fee, tx.sender, tx.payload, DEV_KEYS[1].sign(tx.txid))
    h.reject(h.next_block([forged]), "bad-signature")


def test_sender_key_that_is_not_a_curve_point(h):
    # y = 2**255 - 1 is not below the field prime 2**255 - 19: no valid Ed25519 public key encodes it
    garbage = b"\xff" * 31 + b"\x7f"
    tx = make_transfer(REGTEST.chain_id, 0, MIN_FEE, garbage, DEV[1], COIN)
    tx = Tx(tx.chain_id, tx.kind, tx.nonce, tx.fee, tx.sender, tx.payload, bytes(64))
    h.reject(h.next_block([tx]), "bad-signature")


def test_wrong_chain_id(h):
    h.reject(h.next_block([h.transfer(0, 1, COIN, chain_id=DEVNET.chain_id)]), "wrong-chain-id")


def test_nonce_too_low(h):
    h.mine(1, [h.transfer(0, 1, COIN)])
    assert h.nonce(0) == 1
    h.reject(h.next_block([h.transfer(0, 1, 2 * COIN, nonce=0)]), "nonce-too-low")


def test_nonce_too_high(h):
    h.reject(h.next_block([h.transfer(0, 1, COIN, nonce=1)]), "nonce-too-high")


def test_nonce_gap_inside_block(h):
    # nonce 0 then nonce 2: the second skips ahead of the account's next nonce (1)
    h.reject(h.next_block([h.transfer(0, 1, COIN, nonce=0), h.transfer(0, 1, COIN, nonce=2)]),
             "nonce-too-high")


def test_insufficient_balance_by_one_unit(h):
    # amount + fee = balance + 1
    h.reject(h.next_block([h.transfer(0, 1, DEV_BALANCE - MIN_FEE + 1)]), "insufficient-balance")


def test_spending_exactly_the_whole_balance_connects(h):
    h.mine(1, [h.transfer(0, 1, DEV_BALANCE - MIN_FEE)])
    assert (h.balance(0), h.nonce(0)) == (0, 1)
    assert h.balance(1) == 2 * DEV_BALANCE - MIN_FEE


def test_spending_before_receiving_in_a_block(h):
    """Transactions apply in block order: a fresh account cannot spend coins it receives later in the
    block."""
    fresh = fresh_key(b"fresh account")
    fund = h.transfer(0, fresh.address, 10 * COIN)
    spend = make_transfer(REGTEST.chain_id, 0, MIN_FEE, fresh.pubkey, DEV[2], 4 * COIN).signed(fresh)
    h.reject(h.next_block([spend, fund]), "insufficient-balance")
    h.mine(1, [fund, spend])
    assert h.chain.get_account(fresh.address).balance == 10 * COIN - 4 * COIN - MIN_FEE
    assert h.chain.get_account(fresh.address).nonce == 1


def test_amount_plus_fee_overflows_u64(h):
    h.reject(h.next_block([h.transfer(0, 1, U64_MAX, fee=1)]), "amount-overflow")


def test_zero_amount(h):
    h.reject(h.next_block([h.transfer(0, 1, 0)]), "zero-amount")


def test_duplicate_tx_in_block(h):
    tx = h.transfer(0, 1, COIN)
    h.reject(h.next_block([tx, tx]), "duplicate-tx")


def test_confirmed_tx_included_again(h):
    tx = h.transfer(0, 1, COIN)
    h.mine(1, [tx])
    h.reject(h.next_block([tx]), "nonce-too-low")


# -- header and body rules -------------------------------------------------------------------------


def test_bad_tx_root(h):
    h.reject(h.next_block([h.transfer(0, 1, COIN)], tx_root=hashlib.sha256(b"not the root").digest()),
             "bad-tx-root")


def test_tx_root_commits_to_order(h):
    a, b = h.transfer(0, 1, COIN), h.transfer(2, 3, COIN)
    swapped = h.next_block([b, a]).header.tx_root
    h.reject(h.next_block([a, b], tx_root=swapped), "bad-tx-root")


def test_bad_state_root(h):
    """The header claims the parent's state, as if the transfer had not happened."""
    h.reject(h.next_block([h.transfer(0, 1, COIN)], state_root=h.head.header.state_root), "bad-state-root")


def test_state_root_missing_the_reward(h):
    without_reward = model_state_root(h.model())  # genesis accounts, no payout to the miner
    h.reject(h.next_block(state_root=without_reward), "bad-state-root")


def test_high_hash(h):
    block = h.next_block(pow_valid=False)
    assert int.from_bytes(block.hash, "big") > bits_to_target(block.header.bits)
    h.reject(block, "high-hash")


@pytest.mark.parametrize("bits", [0x207FFFFE, 0x2000FFFF], ids=["slightly-harder", "much-harder"])
def test_wrong_bits(h, bits):
    block = h.next_block(bits=bits)
    assert check_proof_of_work(block.hash, bits, LIMIT)  # the work is done; only the bits are wrong
    h.reject(block, "bad-diffbits")


def test_bad_version(h):
    h.reject(h.next_block(version=2), "bad-version")


def test_bad_engine(h):
    """Engine 2 names no consensus engine (0 is proof of work, 1 proof of stake)."""
    h.reject(h.next_block(engine=2), "bad-engine")


def test_timestamp_not_above_median_time_past(h):
    """MTP over the last 11 blocks; a timestamp equal to it is too old, one above it is fine even if
    it is earlier than the parent's."""
    h.mine(11)
    times = sorted(h.chain.get_index(h.chain.get_hash_at(i)).header.timestamp for i in range(1, 12))
    mtp = times[5]
    assert mtp == REGTEST.genesis_time + 6 * REGTEST.target_spacing
    h.reject(h.next_block(timestamp=mtp), "time-too-old")
    h.reject(h.next_block(timestamp=mtp - 1), "time-too-old")
    ok = h.next_block(timestamp=mtp + 1)
    assert ok.header.timestamp < h.head.header.timestamp
    h.accept(ok, "connected")


def test_timestamp_too_far_ahead_of_clock(h):
    now = h.clock.now
    late = h.next_block(timestamp=now + 2 * 60 * 60 + 1)
    h.reject(late, "time-too-new")
    # Not remembered as invalid: once the clock catches up the same block is accepted.
    h.clock.now = now + 1
    h.accept(late, "connected")


def test_timestamp_at_future_limit_accepted(h):
    h.accept(h.next_block(timestamp=h.clock.now + 2 * 60 * 60), "connected")


def test_unknown_parent(h):
    h.reject(h.next_block(parent_hash=hashlib.sha256(b"nowhere").digest()), "unknown-parent")


@pytest.mark.parametrize("offset", [0, 2])
def test_bad_height(h, offset):
    h.mine(1)
    h.reject(h.next_block(height=h.head.height + offset), "bad-height")


def test_oversized_block(tmp_path):
    # Wire sizes from the layout: header 4+8+32+8+32+32+32+20+1+4+8 = 181; tx count 4;
    # transfer tx 4+1+8+8+32+(4+20+8)+64 = 149; ops: three empty lists, 3*4 = 12. Two transfers: 495 bytes.
    limit = 181 + 4 + 2 * 149 + 12
    h = ChainHarness(tmp_path, max_block_bytes=limit)
    try:
        two = h.next_block([h.transfer(0, 1, COIN), h.transfer(2, 3, COIN)])
        assert len(two.encode()) == limit
        three = h.next_block([h.transfer(0, 1, COIN), h.transfer(2, 3, COIN), h.transfer(4, 5, COIN)])
        assert len(three.encode()) == limit + 149
        h.reject(three, "oversized-block")
        h.accept(two, "connected")
    finally:
        h.close()


def test_too_many_txs(tmp_path):
    h = ChainHarness(tmp_path, max_block_txs=2)
    try:
        h.reject(h.next_block([h.transfer(i, 9, COIN) for i in range(3)]), "too-many-txs")
        h.accept(h.next_block([h.transfer(i, 9, COIN) for i in range(2)]), "connected")
    finally:
        h.close()


def test_known_invalid_and_bad_parent(h):
    """A block that failed connecting is remembered: resubmitting it or building on it fails fast."""
    bad = h.next_block([h.transfer(0, 1, COIN)], state_root=h.head.header.state_root)
    h.reject(bad, "bad-state-root")
    h.reject(bad, "known-invalid")
    h.reject(h.next_block(parent=bad), "bad-parent")


def test_trailing_bytes_on_decode(h):
    tx = h.transfer(0, 1, COIN)
    block = h.next_block([tx])
    assert Block.decode(block.encode()) == block
    for decode, raw in ((Block.decode, block.encode()), (Tx.decode, tx.encode()),
                        (Header.decode, block.header.encode())):
        with pytest.raises(DecodeError) as info:
            decode(raw + b"\x00")
        assert info.value.code == "trailing-bytes"


# -- amounts outside u64 -------------------------------------------------------------------------------


def test_negative_amount_is_a_usage_error():
    with pytest.raises(UsageError) as info:
        parse_coins("-1")
    assert info.value.code == "bad-amount"


@pytest.mark.parametrize("amount", [2**64, -1])
def test_make_transfer_amount_out_of_range(amount):
    with pytest.raises(InvalidTx) as info:
        make_transfer(REGTEST.chain_id, 0, MIN_FEE, DEV_KEYS[0].pubkey, DEV[1], amount)
    assert info.value.code == "bad-amount"


@pytest.mark.parametrize("fee", [-1, 2**64])
def test_tx_fee_out_of_range(fee):
    with pytest.raises(InvalidTx) as info:
        Tx(REGTEST.chain_id, TRANSFER, 0, fee, DEV_KEYS[0].pubkey, DEV[1] + (1).to_bytes(8, "big"))
    assert info.value.code == "bad-fee"


# -- mempool ----------------------------------------------------------------------------------------


@pytest.fixture
def pool(h):
    """dev0 has one confirmed tx (nonce 0); dev2 has one pending tx (nonce 0)."""
    confirmed = h.transfer(0, 1, COIN)
    h.mine(1, [confirmed])
    pending = h.transfer(2, 3, COIN)
    h.node.submit_tx(pending)
    assert pending.txid in h.node.mempool
    return h, confirmed, pending


MEMPOOL_CASES = {
    "bad-signature": lambda h, c, p: flip_signature(h.transfer(4, 1, COIN)),
    "wrong-chain-id": lambda h, c, p: h.transfer(4, 1, COIN, chain_id=DEVNET.chain_id),
    "nonce-too-low": lambda h, c, p: h.transfer(0, 1, 3 * COIN, nonce=0),
    # a sender may queue a few nonces ahead (they wait for the gap), but not without bound
    "nonce-too-high": lambda h, c, p: h.transfer(4, 1, COIN, nonce=MAX_NONCE_GAP + 1),
    "insufficient-balance": lambda h, c, p: h.transfer(4, 1, DEV_BALANCE - MIN_FEE + 1),
    "fee-too-low": lambda h, c, p: h.transfer(4, 1, COIN, fee=MIN_FEE - 1),
    "txn-already-in-mempool": lambda h, c, p: p,
    "txn-already-known": lambda h, c, p: c,
    "amount-overflow": lambda h, c, p: h.transfer(4, 1, U64_MAX, fee=MIN_FEE),
    "zero-amount": lambda h, c, p: h.transfer(4, 1, 0),
    # dev2's pending tx already commits 1 coin + fee, so this one no longer fits
    "insufficient-balance-with-pending": lambda h, c, p: h.transfer(2, 3,
                                                                    DEV_BALANCE - COIN - 2 * MIN_FEE + 1,
                                                                    nonce=1),
    # same sender and nonce as the pending tx but no fee bump
    "replacement-fee-too-low": lambda h, c, p: h.transfer(2, 3, 2 * COIN, fee=MIN_FEE, nonce=0),
}


@pytest.mark.parametrize("case", list(MEMPOOL_CASES))
def test_mempool_rejects(pool, case):
    h, confirmed, pending = pool
    tx = MEMPOOL_CASES[case](h, confirmed, pending)
    before = (sorted(h.node.mempool.entries), sorted(h.node.store.iter_pool()), h.snapshot())
    with pytest.raises(InvalidTx) as info:
        h.node.submit_tx(tx)
    assert info.value.code == case.removesuffix("-with-pending")
    assert (sorted(h.node.mempool.entries), sorted(h.node.store.iter_pool()), h.snapshot()) == before


def test_mempool_accepts_lane_and_replacement(pool):
    h, _, pending = pool
    nxt = h.transfer(2, 3, COIN, nonce=1)
    h.node.submit_tx(nxt)
    bumped = h.transfer(2, 3, COIN, fee=MIN_FEE + MIN_FEE // 10, nonce=0)  # exactly +10%
    out = h.node.submit_tx(bumped)
    assert out["replaced"] == pending.txid.hex()
    assert set(h.node.mempool.entries) == {nxt.txid, bumped.txid}
    assert {txid for txid, _ in h.node.store.iter_pool()} == {nxt.txid, bumped.txid}


def test_mempool_queues_a_gapped_nonce_until_the_gap_fills(pool):
    h, _, _ = pool
    waiting = h.transfer(4, 1, COIN, nonce=MAX_NONCE_GAP)  # the furthest a sender may queue ahead
    assert h.node.submit_tx(waiting)["ready"] is False
    h.node.mine(1)
    assert h.nonce(4) == 0 and waiting.txid in h.node.mempool


def test_a_run_of_consecutive_nonces_is_not_bounded_by_the_gap_limit(pool):
    """geth's rule, not a cap on pending transactions: a sender may pool any run of consecutive nonces (its
    balance and the pool's bytes bound it); only a nonce more than MAX_NONCE_GAP past the run's end waits
    too far ahead."""
    h, _, _ = pool
    run = 2 * MAX_NONCE_GAP + 10
    for nonce in range(run):
        assert h.node.submit_tx(h.transfer(4, 1, COIN, nonce=nonce))["ready"] is True
    assert h.node.submit_tx(h.transfer(4, 1, COIN, nonce=run + MAX_NONCE_GAP))["ready"] is False
    with pytest.raises(InvalidTx) as info:
        h.node.submit_tx(h.transfer(4, 1, COIN, nonce=run + MAX_NONCE_GAP + 1))
    assert info.value.code == "nonce-too-high"


def lane_costs(h) -> dict[bytes, int]:
    """Each sender's pending total, amount + fee, read straight off the pooled transactions."""
    out: dict[bytes, int] = {}
    for entry in h.node.mempool.entries.values():
        tx = entry.tx
        out[tx.sender_address] = (out.get(tx.sender_address, 0) + int.from_bytes(tx.payload[20:28], "big")
                                  + tx.fee)
    return out


@pytest.mark.parametrize("how", ["gap-fill", "replacement"])
def test_mempool_never_holds_more_than_a_sender_can_pay(h, how):
    """Every pending tx must stay affordable after its predecessors. Admitting an earlier nonce
    (filling a gap, or replacing with a larger amount) must not leave a later one unpayable: either
    the newcomer is refused (insufficient-balance) or the successors it starves leave the pool."""
    big = DEV_BALANCE - 10 * COIN
    if how == "gap-fill":
        h.node.submit_tx(h.transfer(4, 1, big, nonce=1))  # waits for nonce 0
        newcomer = h.transfer(4, 1, big, nonce=0)
    else:
        h.node.submit_tx(h.transfer(4, 1, COIN, nonce=0))
        h.node.submit_tx(h.transfer(4, 1, big, nonce=1))
        newcomer = h.transfer(4, 1, 20 * COIN, fee=2 * MIN_FEE, nonce=0)
    try:
        h.node.submit_tx(newcomer)
    except InvalidTx as e:
        assert e.code == "insufficient-balance"
    assert lane_costs(h)[DEV[4]] <= h.balance(4)


# -- connecting ----------------------------------------------------------------------------------------


def test_chain_of_blocks_balances_add_up(h):
    """Three blocks: rewards and fees to the miner, amounts between dev accounts, nonces counted."""
    b1 = h.next_block([h.transfer(0, 1, 5 * COIN, fee=1_000), h.transfer(2, 3, 1 * COIN, fee=2_000)])
    h.accept(b1, "connected")
    b2 = h.next_block([h.transfer(0, 1, 7 * COIN, fee=3_000), h.transfer(1, 4, 20 * COIN, fee=1_500)])
    h.accept(b2, "connected")
    h.accept(h.next_block(), "connected")

    assert h.head.height == 3
    assert h.balance(0) == DEV_BALANCE - 5 * COIN - 1_000 - 7 * COIN - 3_000
    assert h.balance(1) == DEV_BALANCE + 5 * COIN + 7 * COIN - 20 * COIN - 1_500
    assert h.balance(2) == DEV_BALANCE - 1 * COIN - 2_000
    assert h.balance(3) == DEV_BALANCE + 1 * COIN
    assert h.balance(4) == DEV_BALANCE + 20 * COIN
    assert [h.nonce(i) for i in range(5)] == [2, 1, 1, 0, 0]
    assert h.balance(MINER) == 3 * REWARD + 1_000 + 2_000 + 3_000 + 1_500
    # No coins appear from nowhere: total supply = genesis + rewards.
    total = sum(h.balance(i) for i in range(10)) + h.balance(MINER)
    assert total == 10 * DEV_BALANCE + 3 * REWARD

    tx = b2.txs[1]
    view = h.node.tx(tx.txid.hex())
    assert (view["status"], view["block"], view["confirmations"]) == ("confirmed", b2.hash.hex(), 2)

    # Nothing lost across a close and reopen.
    head = h.head.hash
    reopened = h.reopen()
    assert reopened.chain.head.hash == head
    assert reopened.chain.get_account(DEV[1]).balance == DEV_BALANCE + 5 * COIN + 7 * COIN - 20 * COIN - 1_500
    assert reopened.chain.get_account(MINER).balance == 3 * REWARD + 7_500


def test_halving(tmp_path):
    h = ChainHarness(tmp_path, halving_interval=3)
    try:
        h.mine(7)  # heights 1,2 pay 50; 3,4,5 pay 25; 6,7 pay 12.5
        assert h.balance(MINER) == 2 * REWARD + 3 * (REWARD // 2) + 2 * (REWARD // 4)
    finally:
        h.close()


def test_duplicate_block_is_a_no_op(h):
    block = h.next_block()
    h.accept(block, "connected")
    assert h.node.accept_block(block).status == "duplicate"
    assert h.head.height == 1


# -- forks and reorgs --------------------------------------------------------------------------------


def test_reorg_to_more_work(h):
    """
        genesis -- a1 -- a2                  a1: dev0->dev1 (n0) + dev4->dev5 (n0); a2: dev6->dev7
               \\
                -- b1 -- b2 -- b3            b1: dev4->dev5 (same tx as in a1) + dev8->dev9
                                             b2 ties a2 (first seen wins); b3 takes over
    """
    shared = h.transfer(4, 5, 3 * COIN)
    only_a1 = h.transfer(0, 1, 2 * COIN)
    only_a2 = h.transfer(6, 7, 4 * COIN, fee=5_000)
    a1 = h.next_block([only_a1, shared])
    h.accept(a1, "connected")
    a2 = h.next_block([only_a2])
    h.accept(a2, "connected")

    only_b1 = h.transfer(8, 9, 6 * COIN)
    b1 = h.next_block([shared, only_b1], parent=h.genesis, beneficiary=DEV[9])
    assert h.accept(b1).status == "side"
    b2 = h.next_block(parent=b1, beneficiary=DEV[9])
    assert h.accept(b2).status == "side"
    assert h.head.hash == a2.hash

    result = h.accept(h.next_block(parent=b2, beneficiary=DEV[9]), "reorg")
    b3 = h.blocks[result.block_hash]
    assert h.head.hash == b3.hash and h.head.height == 3
    assert [b.hash for b in result.disconnected] == [a2.hash, a1.hash]
    assert [b.hash for b in result.connected] == [b1.hash, b2.hash, b3.hash]

    # Balances follow branch b (h.accept also compared every account with the model).
    assert h.balance(0) == DEV_BALANCE and h.nonce(0) == 0
    assert h.balance(4) == DEV_BALANCE - 3 * COIN - MIN_FEE
    assert h.balance(6) == DEV_BALANCE
    assert h.balance(8) == DEV_BALANCE - 6 * COIN - MIN_FEE
    assert h.balance(9) == DEV_BALANCE + 6 * COIN + 3 * REWARD + 2 * MIN_FEE
    assert h.balance(MINER) == 0

    # Disconnected txs that branch b did not include are pending again, in memory and on disk.
    assert set(h.node.mempool.entries) == {only_a1.txid, only_a2.txid}
    assert {txid for txid, _ in h.node.store.iter_pool()} == {only_a1.txid, only_a2.txid}
    assert h.node.tx(only_a1.txid.hex())["status"] == "pending"
    assert h.node.tx(shared.txid.hex())["block"] == b1.hash.hex()

    # The old branch stays stored as a valid side branch.
    for old in (a1, a2):
        idx = h.chain.get_index(old.hash)
        assert idx.status == STATUS_VALID and not h.chain.is_on_main_chain(idx)
        assert h.chain.get_block(old.hash) == old
        assert h.node.block(old.hash.hex())["main_chain"] is False


def test_reorg_returns_a_senders_txs_from_several_blocks(h):
    """
        genesis -- a1 -- a2          a1: dev0 nonce 0, a2: dev0 nonce 1
               \\
                -- b1 -- b2 -- b3    no dev0 transactions

    Both of dev0's transactions must be pending after the reorg, and the next block mines both.
    """
    tx0 = h.transfer(0, 1, COIN, nonce=0)
    tx1 = h.transfer(0, 1, COIN, nonce=1)
    h.accept(h.next_block([tx0]), "connected")
    h.accept(h.next_block([tx1]), "connected")
    b = h.genesis
    for _ in range(3):
        b = h.next_block(parent=b)
        h.accept(b)
    assert h.head.hash == b.hash
    assert set(h.node.mempool.entries) == {tx0.txid, tx1.txid}
    h.node.mine(1)
    assert h.nonce(0) == 2


def test_returned_txs_survive_a_restart(h):
    """
        genesis -- a1                a1: dev0->dev1
               \
                -- b1 -- b2          then close and reopen the data dir
    """
    tx = h.transfer(0, 1, COIN)
    h.accept(h.next_block([tx]), "connected")
    b1 = h.next_block(parent=h.genesis, beneficiary=DEV[9])
    h.accept(b1, "side")
    h.accept(h.next_block(parent=b1), "reorg")
    assert tx.txid in h.node.mempool
    h.reopen()
    assert h.node.mempool.get(tx.txid) == tx
    assert h.node.tx(tx.txid.hex())["status"] == "pending"


def test_two_nodes_converge_on_the_heavier_branch(tmp_path):
    """
        node A mines:  genesis -- a1 -- a2
        node B mines:  genesis -- b1 -- b2 -- b3
        after exchanging blocks both sit on b3; A keeps a1, a2 as a side branch.
    """
    a = ChainHarness(tmp_path, name="a")
    b = ChainHarness(tmp_path, name="b", states=a.states)
    try:
        assert a.genesis.hash == b.genesis.hash
        a_blocks = a.mine(2, [a.transfer(0, 1, COIN)])
        b_blocks = b.mine(3, [b.transfer(2, 3, COIN)])
        for blk in b_blocks:
            a.accept(blk)
        for blk in a_blocks:
            assert b.accept(blk).status == "side"
        assert a.head.hash == b.head.hash == b_blocks[-1].hash
        assert a.balance(1) == b.balance(1) == DEV_BALANCE
        assert a.balance(3) == b.balance(3) == DEV_BALANCE + COIN
        assert a.node.store.get_meta("muhash") == b.node.store.get_meta("muhash")
        assert a_blocks[0].txs[0].txid in a.node.mempool
    finally:
        a.close()
        b.close()


def test_invalid_ancestor_found_during_reorg_keeps_old_chain(h):
    """
        genesis -- a1 -- a2 -- a3                  head
               \\
                -- b1 -- b2* -- b3 -- b4           b2 overspends; stored unconnected as a side block
                                                   b4 has more work and triggers the (failing) reorg
    """
    h.mine(3)
    b1 = h.next_block(parent=h.genesis, beneficiary=DEV[9])  # another miner, so not a copy of a1
    b2 = h.next_block([h.transfer(0, 1, DEV_BALANCE)], parent=b1)  # amount + fee > balance
    b3 = h.next_block(parent=b2)
    for blk in (b1, b2, b3):
        assert h.accept(blk).status == "side"
    b4 = h.next_block(parent=b3)
    h.reject(b4, "bad-ancestor")
    assert h.head.height == 3
    assert h.chain.get_index(b1.hash).status == STATUS_VALID
    for blk in (b2, b3):
        assert h.chain.get_index(blk.hash).status == STATUS_INVALID
        assert h.node.store.get_index(blk.hash).status == STATUS_INVALID
    h.reject(b4, "known-invalid")
    h.reject(h.next_block(parent=b4), "bad-parent")
    h.check_state_matches_model()


def test_invalid_new_tip_during_reorg_keeps_old_chain(h):
    """
        genesis -- a1                head
               \\
                -- b1 -- b2*         b1 valid (side); b2 has a bad state root and would win on work
    """
    a1 = h.mine(1)[0]
    b1 = h.next_block([h.transfer(0, 1, COIN)], parent=h.genesis)
    assert h.accept(b1).status == "side"
    h.reject(h.next_block(parent=b1, state_root=b1.header.state_root), "bad-state-root")
    assert h.head.hash == a1.hash
    # The valid part of branch b can still win with a good block.
    b2 = h.next_block(parent=b1)
    h.accept(b2, "reorg")
    assert h.balance(1) == DEV_BALANCE + COIN


def test_reorg_to_a_shorter_branch_with_more_work(tmp_path):
    """
        genesis -- b1 .. b19 -- b20 -- b21 -- b22        slow: every block at the limit (work 2 each)
               \
                -- a1 .. a19 -- a20                      fast: a20 at 0x201fffff (work 8)

    a20 (20*2 + 8 = 48) outweighs b22 (23*2 = 46): the head moves down two heights, and what
    stood at heights 21 and 22 is no longer on the main chain.
    """
    h = ChainHarness(tmp_path, "pow-devnet")
    try:
        ts = DEVNET.genesis_time
        for _ in range(21):
            ts += 100
            h.accept(h.next_block(timestamp=ts), "connected")
        late_tx = h.transfer(0, 1, COIN)
        b22 = h.next_block([late_tx], timestamp=ts + 100)
        h.accept(b22, "connected")

        parent, ts = h.genesis, DEVNET.genesis_time
        for height in range(1, 21):
            ts += 1
            blk = h.next_block(parent=parent, timestamp=ts, bits=0x201FFFFF if height == 20 else LIMIT_BITS)
            result = h.accept(blk)
            parent = blk
        assert result.status == "reorg" and result.depth == 22
        assert h.head.hash == parent.hash and h.head.height == 20
        assert h.head.chain_work == 20 * work(LIMIT_BITS) + work(0x201FFFFF) == 48
        for height in (21, 22):
            assert h.chain.get_hash_at(height) is None
            assert h.node.store.get_hash_at(height) is None
        assert h.node.status()["height"] == 20
        assert h.balance(1) == DEV_BALANCE and late_tx.txid in h.node.mempool
        assert h.node.tx(late_tx.txid.hex())["status"] == "pending"
        assert not h.chain.is_on_main_chain(h.chain.get_index(b22.hash))
    finally:
        h.close()


# -- difficulty ----------------------------------------------------------------------------------------


def hand_compact(target: int) -> int:
    """Bitcoin's GetCompact for targets whose top byte is below 0x80: exponent = byte length, 3-byte
    mantissa."""
    size = (target.bit_length() + 7) // 8
    mantissa = target >> (8 * (size - 3))
    assert mantissa < 0x800000
    return (size << 24) | mantissa


def hand_retarget(actual: int) -> int:
    timespan = DEVNET.target_spacing * DEVNET.retarget_interval  # 10 s * 20 blocks = 200 s
    clamped = min(max(actual, timespan // 4), timespan * 4)
    return hand_compact(min(LIMIT * clamped // timespan, LIMIT))


@pytest.mark.parametrize(
    ("deltas", "expected_bits"),
    [
        ([5] * 18 + [10], 0x203FFFFF),  # 100 s for 200 s of target: the target halves
        ([1] * 19, 0x201FFFFF),  # 19 s: clamped to a quarter of the timespan
        ([100] * 19, LIMIT_BITS),  # 1900 s: clamped to 4x, then capped at the pow limit
    ],
    ids=["half", "clamp-quarter", "cap-at-limit"],
)
def test_devnet_retarget_at_height_20(tmp_path, deltas, expected_bits):
    h = ChainHarness(tmp_path, "pow-devnet")
    try:
        ts = DEVNET.genesis_time
        for delta in deltas:
            ts += delta
            h.accept(h.next_block(timestamp=ts), "connected")
        assert h.head.height == 19
        actual = ts - DEVNET.genesis_time
        assert actual == sum(deltas)
        assert hand_retarget(actual) == expected_bits
        assert retarget(LIMIT_BITS, actual, 200, LIMIT) == expected_bits
        assert h.chain.get_next_bits(h.head) == expected_bits
        # Heights 1..19 kept the genesis bits; the new bits at height 19 would have been wrong.
        assert {h.chain.get_index(h.chain.get_hash_at(i)).header.bits for i in range(20)} == {LIMIT_BITS}
        wrong = 0x207FFFFE if expected_bits == LIMIT_BITS else LIMIT_BITS
        h.reject(h.next_block(timestamp=ts + 10, bits=wrong), "bad-diffbits")
        b20 = h.next_block(timestamp=ts + 10, bits=expected_bits)
        h.accept(b20, "connected")
        assert h.chain.get_next_bits(h.head) == expected_bits  # unchanged until height 40
    finally:
        h.close()


def test_devnet_rejects_new_bits_before_the_boundary(tmp_path):
    h = ChainHarness(tmp_path, "pow-devnet")
    try:
        ts = DEVNET.genesis_time
        for _ in range(18):
            ts += 1
            h.accept(h.next_block(timestamp=ts), "connected")
        h.reject(h.next_block(timestamp=ts + 1, bits=0x201FFFFF), "bad-diffbits")
    finally:
        h.close()


def test_most_work_beats_most_blocks(tmp_path):
    """
        genesis -- a1 .. a19 -- a20 -- a21                   fast: a20, a21 at 0x201fffff (~4x work each)
               \\
                -- b1 .. b19 -- b20 .. b27 -- b28            slow: every block at the limit

    Work per block is GetBlockProof's 2**256 // (target + 1): 2 at the limit, 8 at 0x201fffff, so
    a21 holds 20*2 + 2*8 = 56. b27 is six blocks longer yet only ties it (first seen stays);
    b28 has 58, and the node reorganizes to it.
    """
    h = ChainHarness(tmp_path, "pow-devnet")
    try:
        ts = DEVNET.genesis_time
        for _ in range(19):
            ts += 1
            h.accept(h.next_block(timestamp=ts), "connected")
        for _ in range(2):
            ts += 1
            h.accept(h.next_block(timestamp=ts, bits=0x201FFFFF), "connected")
        a21 = h.head
        a_work = 20 * work(LIMIT_BITS) + 2 * work(0x201FFFFF)
        assert a21.chain_work == a_work

        parent, ts = h.genesis, DEVNET.genesis_time
        for height in range(1, 29):
            ts += 100
            blk = h.next_block(parent=parent, timestamp=ts, bits=LIMIT_BITS)
            result = h.accept(blk)
            parent = blk
            idx = h.chain.get_index(blk.hash)
            assert idx.chain_work == (height + 1) * work(LIMIT_BITS)
            if height <= 27:
                assert result.status == "side", height
                assert h.head.hash == a21.hash
        assert (work(LIMIT_BITS), work(0x201FFFFF)) == (2, 8)
        assert idx.chain_work == 58 > a_work == 56
        assert result.status == "reorg" and result.depth == 21
        assert h.head.hash == parent.hash and h.head.height == 28
    finally:
        h.close()
