"""Helpers for the proof-of-stake functional tests: a fake clock, slot driving, supply accounting, block
forging.

Every PoS test runs a real node (LevelDB in tmp_path) on a deterministic clock: a slot's duties run when the
test sets the clock to the slot's start and calls `node.on_slot(slot)`, so a run is the same every time.
Expected numbers in the tests come from the spec formulas below and the params, not from the node's answers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pytest

from chain import crypto, merkle
from chain.block import ENGINE_POS, HEADER_VERSION, Block, Header, PosSeal
from chain.consensus import pos
from chain.consensus.beacon import EMPTY_OPS, Attestation, AttestationData, BlockOps, Checkpoint, Validator
from chain.consensus.staking import dev_validator_key
from chain.errors import InvalidBlock, InvalidTx
from chain.state import TAG_ACCOUNT, TAG_CONSENSUS, TAG_VALIDATOR, Account
from chain.template import build_block
from node.node import Node

COIN = 10**8
# the presets' fixed genesis (pos-devnet takes "now" at init: the fake clock's start)
GENESIS_TIME = 1_767_225_600
# Altair's flag weights (of 64) and the proposer's share, as the design names them (modelled on Ethereum).
SOURCE_W, TARGET_W, HEAD_W, PROPOSER_W, WEIGHT_DEN = 14, 26, 14, 8, 64
# A fee recipient / miner that is no dev account, so its balance is exactly what blocks paid it.
OUTSIDER = crypto.sha256(b"chaintop pos test outsider")[:20]


class FakeClock:
    """Returns `now` until a test moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class EventLog:
    """Every event the node emits, kept in order; `of("CheckpointFinalized")` filters by type name."""

    def __init__(self, node: Node) -> None:
        self.events: list = []
        node.events.subscribe(self.events.append)

    def of(self, *names: str) -> list:
        return [e for e in self.events if type(e).__name__ in names]

    def mark(self) -> int:
        return len(self.events)

    def since(self, mark: int, *names: str) -> list:
        return [e for e in self.events[mark:] if type(e).__name__ in names]


# -- nodes ----------------------------------------------------------------------------------------
_OPEN: list[Node] = []


@pytest.fixture(autouse=True)
def close_pos_nodes():
    """Import into a test module (autouse) to close every node the helpers opened when the test ends."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def pos_node(tmp_path: Path, name: str = "pos", network: str = "pos-devnet", **overrides) -> Node:
    """A pos-devnet node (16 genesis validators, 8 slots per epoch, 1 s slots) on a fake clock at
    GENESIS_TIME."""
    clock = FakeClock(GENESIS_TIME)
    overrides.setdefault("slot_time", 1.0)
    node = Node.create(tmp_path / name, network, clock=clock, **overrides)
    _OPEN.append(node)
    return node


def pow_node(tmp_path: Path, name: str, network: str, **overrides) -> Node:
    """A hybrid or merge node: instant PoW (no retarget), clock a little past the fixed genesis time."""
    clock = FakeClock(GENESIS_TIME + 100)
    overrides.setdefault("pow_no_retarget", True)
    overrides.setdefault("slot_time", 1.0)
    node = Node.create(tmp_path / name, network, clock=clock, **overrides)
    _OPEN.append(node)
    return node


def slot_start(node: Node, slot: int) -> float:
    """When `slot` starts, from the params alone: genesis + slot * slot_time under PoS from genesis; after a
    merge the slot clock counts on from the last PoW block (height merge_height - 1, slot = its height)."""
    p = node.params
    if p.consensus == "merge":
        last_pow = node.chain.get_block_at(p.merge_height - 1)
        assert last_pow is not None, "the merge's slot clock needs the last PoW block"
        return last_pow.header.timestamp + (slot - (p.merge_height - 1)) * p.slot_time
    return p.genesis_time + slot * p.slot_time


def set_slot(node: Node, slot: int) -> None:
    node.clock.now = slot_start(node, slot)


def drive_slots(node: Node, first: int, last: int, after_slot=None) -> list[Block]:
    """Run every slot's duties from `first` to `last` inclusive; returns the blocks proposed (in order)."""
    blocks = []
    for slot in range(first, last + 1):
        set_slot(node, slot)
        block = node.on_slot(slot)
        if block is not None:
            blocks.append(block)
        if after_slot is not None:
            after_slot(slot)
    return blocks


def drive_epochs(node: Node, first_epoch: int, last_epoch: int) -> list[Block]:
    spe = node.params.slots_per_epoch
    return drive_slots(node, max(1, first_epoch * spe), last_epoch * spe + spe - 1)


def mine(node: Node, n: int, to: str | None = None, step: int = 10) -> None:
    """n PoW blocks, one at a time, the clock `step` seconds on before each (hybrid votes follow each
    block)."""
    for _ in range(n):
        node.clock.now += step
        node.mine(1, to=to)


# -- state, read straight from the committed records -----------------------------------------------
def records(node: Node) -> dict[bytes, bytes]:
    return dict(node.store.iter_state())


def validator_records(node: Node) -> list[Validator]:
    out = {}
    for key, raw in node.store.iter_state(TAG_VALIDATOR):
        out[int.from_bytes(key[1:], "big")] = Validator.decode(raw)
    return [out[i] for i in range(len(out))]


def supply(node: Node) -> dict:
    """Totals over the committed state: account balances, validator balances, and what validators were paid
    on top of their deposits (rewards - penalties = balance + withdrawn - deposited, summed)."""
    accounts = sum(Account.decode(raw).balance for _, raw in node.store.iter_state(TAG_ACCOUNT))
    vals = validator_records(node)
    return {
        "accounts": accounts,
        "validators": sum(v.balance for v in vals),
        "deposited": sum(v.deposited for v in vals),
        "withdrawn": sum(v.withdrawn for v in vals),
        "validator_net_rewards": sum(v.balance + v.withdrawn - v.deposited for v in vals),
        "total": accounts + sum(v.balance for v in vals),
    }


def genesis_supply(params) -> int:
    """Dev accounts' prefunds plus the genesis validators' bonded max_effective_balance each."""
    return params.dev_accounts * params.dev_balance + params.genesis_validators * params.max_effective_balance


def base_reward(effective_balance: int, total_active: int, params) -> int:
    """Altair: increments * (increment * base_reward_factor // isqrt(total active balance))."""
    inc = params.effective_balance_increment
    return effective_balance // inc * (inc * params.base_reward_factor // math.isqrt(total_active))


def missed_vote_penalty(effective_balance: int, total_active: int, params) -> int:
    """A validator with no source and no target vote loses the source and target weights of its base
    reward."""
    b = base_reward(effective_balance, total_active, params)
    return b * SOURCE_W // WEIGHT_DEN + b * TARGET_W // WEIGHT_DEN


def inclusion_reward(effective_balance: int, total_active: int, params,
                     weights: int = SOURCE_W + TARGET_W + HEAD_W) -> int:
    """Altair's proposer reward for including one vote that earned flags worth `weights`."""
    b = base_reward(effective_balance, total_active, params)
    return b * weights // ((WEIGHT_DEN - PROPOSER_W) * WEIGHT_DEN // PROPOSER_W)


# -- snapshots for "a rejection changes nothing" ------------------------------------------------------
def snapshot(node: Node) -> dict:
    chain, store = node.chain, node.store
    return {
        "head": chain.head.hash,
        "height": chain.head.height,
        "stored_head": store.get_meta("head"),
        "muhash_live": chain.muhash.to_bytes(),
        "muhash_stored": store.get_meta("muhash"),
        "state": records(node),
        "mempool": sorted(node.mempool.entries),
        "pool_records": sorted(txid for txid, _ in store.iter_pool()),
        "validators": node.validators(),
    }


def reject_block(node: Node, block: Block, code: str) -> InvalidBlock:
    """`block` must be refused with exactly `code`, leaving head, state, accumulator, pool and validators as
    they were."""
    before = snapshot(node)
    with pytest.raises(InvalidBlock) as info:
        result = node.accept_block(block)
        pytest.fail(f"block was not refused (expected {code}); it was accepted as {result.status}")
    assert info.value.code == code, f"expected {code}, got {info.value.code}: {info.value}"
    assert snapshot(node) == before
    assert node.store.get_block(block.hash) is None
    return info.value


def reject_tx(node: Node, tx, code: str) -> InvalidTx:
    before = snapshot(node)
    with pytest.raises(InvalidTx) as info:
        result = node.submit_tx(tx)
        pytest.fail(f"transaction was not refused (expected {code}); the mempool took it: {result}")
    assert info.value.code == code, f"expected {code}, got {info.value.code}: {info.value}"
    assert snapshot(node) == before
    return info.value


# -- building blocks and votes by hand ----------------------------------------------------------------
def validator_key(index: int) -> crypto.KeyPair:
    """Genesis validator i runs on dev validator key i (what the node holds)."""
    return dev_validator_key(index)


def key_of(node: Node, index: int) -> crypto.KeyPair:
    pub = validator_records(node)[index].pubkey
    for n in range(256):
        k = dev_validator_key(n)
        if k.pubkey == pub:
            return k
    raise AssertionError(f"validator {index} runs on no dev validator key")


def proposer_of(node: Node, slot: int) -> int:
    return node.chain.get_proposer(slot)


def build_pos_block(node: Node, slot: int, txs: Iterable = (), ops: BlockOps = EMPTY_OPS,
                    beneficiary: bytes = OUTSIDER) -> Block:
    """A fully valid block for `slot` by its proposer (the node's template builder drops invalid ops and
    txs)."""
    key = key_of(node, proposer_of(node, slot))
    block, _ = build_block(node.chain, beneficiary, list(txs), ops=ops, pos_slot=slot, proposer_key=key)
    return block


def forge_pos_block(node: Node, slot: int, *, txs: Iterable = (), ops: BlockOps = EMPTY_OPS,
                    proposer: int | None = None, signer: crypto.KeyPair | None = None,
                    randao_key: crypto.KeyPair | None = None, state_root: bytes = bytes(32),
                    beneficiary: bytes = OUTSIDER, timestamp: int | None = None) -> Block:
    """A PoS block on the head assembled field by field, for rules checked before the state root:
    roots match the body, the timestamp is the slot's start, RANDAO reveal and signature by `signer`
    (default: the key of `proposer`, itself defaulting to the slot's due proposer)."""
    p = node.params
    chain = node.chain
    txs = tuple(txs)
    if proposer is None:
        proposer = proposer_of(node, slot)
    if signer is None:
        signer = key_of(node, proposer)
    randao_key = randao_key or signer
    epoch = slot // p.slots_per_epoch
    reveal = randao_key.sign(pos.randao_message(p.chain_id, epoch))
    ts = int(slot_start(node, slot)) if timestamp is None else timestamp
    header = Header(HEADER_VERSION, chain.head.height + 1, chain.head.hash, ts,
                    merkle.merkle_root([t.txid for t in txs]), ops.root(), state_root, beneficiary,
                    ENGINE_POS, PosSeal(slot, proposer, reveal, bytes(64)))
    sig = signer.sign(pos.proposal_message(p.chain_id, header.hash))
    return Block(header.replace(seal=PosSeal(slot, proposer, reveal, sig)), txs, ops)


def committee(node: Node, slot: int) -> list[int]:
    epoch = slot // node.params.slots_per_epoch
    return node.committees(epoch)["slots"][slot % node.params.slots_per_epoch]["committee"]


def sign_vote(node: Node, index: int, data: AttestationData,
              key: crypto.KeyPair | None = None) -> Attestation:
    key = key or key_of(node, index)
    return Attestation(data, index, key.sign(pos.attestation_message(node.params.chain_id, data)))


def honest_vote_data(node: Node, slot: int) -> AttestationData:
    """What an honest committee member of `slot` signs on the current head: (slot, head, source, target)."""
    head, source, target = node.chain.vote_for_slot(slot)
    return AttestationData(slot, head, source, target)


def checkpoint(epoch: int, root: bytes) -> Checkpoint:
    return Checkpoint(epoch, root)


def consensus_record(node: Node):
    from chain.consensus.beacon import ConsensusState

    return ConsensusState.decode(node.store.get_state(TAG_CONSENSUS))
