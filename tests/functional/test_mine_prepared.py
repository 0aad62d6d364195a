"""A block mined through the template's kept post-state (chain/template.py PreparedState) is byte for byte the
block the slow path makes (template, nonce search, then the full transition again at acceptance), and the
store holds the same records after it: state, undo, indexes, supply ledger, head and accumulator.

Two nodes on one network and one fake clock get the same transactions; one mines with `Node.mine` (the fast
path), the other as mining did before it, so every expected value comes from the slow path's own result."""

from __future__ import annotations

import pytest

import chain.chainstate as chainstate
from chain.block import Block
from chain.tx import make_transfer
from node.node import Node
from storage import schema
from tests.functional.helpers import DEV, DEV_KEYS, MIN_FEE, FakeClock

BLOCKS = 6


def slow_mine_block(node: Node, beneficiary: bytes) -> None:
    """Mining without the kept post-state: accept_block validates the sealed block from scratch."""
    template = node.build_template(beneficiary)
    header = node._get_miner().mine(template.header)
    node.accept_block(Block(header, template.txs, template.ops))


def transfers(chain_id: int, count: int, nonces: dict[int, int]) -> list:
    """`count` signed transfers from dev0-dev2 in nonce order (`nonces`: each sender's next one, advanced)."""
    out = []
    for i in range(count):
        sender = i % 3
        out.append(make_transfer(chain_id, nonces.get(sender, 0), MIN_FEE + i, DEV_KEYS[sender].pubkey,
                                 DEV[5 + i % 4], 1_000 + i).signed(DEV_KEYS[sender]))
        nonces[sender] = nonces.get(sender, 0) + 1
    return out


def store_records(node: Node) -> dict[bytes, bytes]:
    """Every record but the energy ledger's (CPU seconds measured while mining differ run to run)."""
    return {k: v for k, v in node.store.iter_records() if not k.startswith(schema.ENERGY)}


@pytest.mark.parametrize("network", ["regtest", "hybrid-devnet"])
def test_fast_mining_stores_what_the_slow_path_stores(tmp_path, network, monkeypatch):
    clocks = {}
    nodes = {}
    for name in ("fast", "slow"):
        from chain.params import get_preset

        clocks[name] = FakeClock(get_preset(network).genesis_time + 1_000)
        nodes[name] = Node.create(tmp_path / name, network, clock=clocks[name])
    fast, slow = nodes["fast"], nodes["slow"]
    runs = {"apply_block": 0}
    real_apply = chainstate.apply_block

    def counted(*args, **kwargs):
        runs["apply_block"] += 1
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(chainstate, "apply_block", counted)
    try:
        beneficiary = DEV[1]
        nonces: dict[int, int] = {}
        for round_ in range(BLOCKS):
            for tx in transfers(fast.params.chain_id, 3 * (round_ % 3), nonces):  # 0, 3, 6, 0, ... a block
                for node in (fast, slow):
                    node.submit_tx(tx)
            before = runs["apply_block"]
            fast.mine(1, to="dev1")
            fast_runs = runs["apply_block"] - before
            slow_mine_block(slow, beneficiary)
            # The slow path ran the transition at acceptance; the fast one only when its block carried votes.
            assert runs["apply_block"] - before - fast_runs == 1
            f_block = fast.chain.get_block_raw_at(fast.chain.head.height)
            if not Block.decode(f_block).ops:
                assert fast_runs == 0, "the fast path ran the block's transition a second time"
            slow_block = slow.chain.get_block_raw_at(slow.chain.head.height)
            assert f_block == slow_block, f"block {round_ + 1} differs"
            assert len(fast.mempool) == len(slow.mempool)
        assert fast.chain.head.height == slow.chain.head.height == BLOCKS
        assert fast.chain.muhash.to_bytes() == slow.chain.muhash.to_bytes()
        assert sum(len(Block.decode(fast.chain.get_block_raw_at(h)).txs) for h in range(1, BLOCKS + 1)) > 0
        assert store_records(fast) == store_records(slow)
        assert fast.supply() == slow.supply()
    finally:
        for node in nodes.values():
            node.close()


def test_a_kept_post_state_never_applies_to_another_block(tmp_path):
    """A template's post-state is for its own parent state and body: for a block with other transactions
    accept_block runs the full transition (and connects that block with its own state root); once the head
    moved, the post-state's epoch is gone."""
    from chain.template import prepare_block

    node = Node.create(tmp_path / "n", "regtest", clock=FakeClock(1_767_225_600 + 1_000))
    try:
        empty, _, prepared = prepare_block(node.chain, DEV[1], [])
        tx = transfers(node.params.chain_id, 1, {})[0]
        with_tx, _, _ = prepare_block(node.chain, DEV[1], [tx])
        miner = node._get_miner()
        sealed_empty = Block(miner.mine(empty.header), empty.txs)
        sealed_tx = Block(miner.mine(with_tx.header), with_tx.txs)
        assert prepared.applies_to(sealed_empty)
        assert not prepared.applies_to(sealed_tx), "another body"
        result = node.chain.accept_block(sealed_tx, prepared=prepared)  # ignored: the full transition runs
        assert result.status == "connected"
        assert node.chain.muhash.digest() == sealed_tx.header.state_root != sealed_empty.header.state_root
        assert node.chain.get_account(DEV[5]).balance == node.params.dev_balance + 1_000
        assert prepared.state_epoch != node.chain.state_epoch  # the head moved on
        assert node.chain.accept_block(sealed_empty, prepared=prepared).status == "side"
    finally:
        node.close()
