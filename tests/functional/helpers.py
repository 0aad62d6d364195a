"""Scenario helpers for block-rule tests, in the style of Bitcoin Core's feature_block.py.

`ChainHarness` owns a real node (LevelDB in a tmp dir) with a fake clock. It builds blocks itself
(`next_block`) from an independent model of the account state, so a block's state root, tx root and
proof of work are what the rules require unless a test overrides one field on purpose; then
`accept` / `reject` submit the block and check the outcome, including that a rejection leaves the
head, the balances and the stored state accumulator exactly as they were.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from chain import crypto, merkle
from chain.abc import BlockIndex
from chain.block import ENGINE_POW, HEADER_VERSION, Block, Header, PowSeal
from chain.consensus.beacon import EMPTY_OPS_ROOT
from chain.consensus.pow import bits_to_target, check_proof_of_work
from chain.errors import InvalidBlock
from chain.muhash import MuHash3072
from chain.params import get_preset
from chain.tx import Tx, make_transfer
from node.node import Node

COIN = 10**8  # base units per coin, from the design ("1 coin = 10^8")
MIN_FEE = 1_000  # the presets' minimum relay fee
# A miner address that is not a dev account, so its balance is exactly rewards plus fees.
MINER = hashlib.sha256(b"chaintop test miner").digest()[:20]
DEV_KEYS = [crypto.dev_keypair(i) for i in range(10)]
DEV = [k.address for k in DEV_KEYS]

# An account in the model: (balance, nonce).
ModelState = dict[bytes, tuple[int, int]]


class FakeClock:
    """A deterministic clock: returns `now` until a test (or the harness) moves it."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance_to(self, t: int) -> None:
        self.now = max(self.now, t)


def account_record(address: bytes, balance: int, nonce: int) -> bytes:
    """The state record the root commits to: tag 'a' || address || u64 balance || u64 nonce (big-endian)."""
    return b"a" + address + balance.to_bytes(8, "big") + nonce.to_bytes(8, "big")


def model_state_root(state: ModelState) -> bytes:
    """MuHash3072 digest over every account record, recomputed from scratch (not rolled forward)."""
    acc = MuHash3072()
    for address, (balance, nonce) in state.items():
        acc.insert(account_record(address, balance, nonce))
    return acc.digest()


def transfer_fields(tx: Tx) -> tuple[bytes, int]:
    """(recipient, amount) read straight from the documented payload layout: 20-byte address, u64 amount."""
    return tx.payload[:20], int.from_bytes(tx.payload[20:28], "big")


def model_apply(state: ModelState, txs: Iterable[Tx], chain_id: int) -> tuple[ModelState, int]:
    """Apply the txs that a correct node would accept (signatures are not checked: a test that breaks
    a signature wants every other rule, including the state root, to hold). Returns (state, fees)."""
    state = dict(state)
    fees = 0
    for tx in txs:
        if tx.chain_id != chain_id or tx.kind != 0 or len(tx.payload) != 28:
            continue
        to, amount = transfer_fields(tx)
        sender = hashlib.sha256(tx.sender).digest()[:20]
        balance, nonce = state.get(sender, (0, 0))
        if tx.nonce != nonce or amount == 0 or amount + tx.fee > balance:
            continue
        state[sender] = (balance - amount - tx.fee, nonce + 1)
        to_balance, to_nonce = state.get(to, (0, 0))
        state[to] = (to_balance + amount, to_nonce)
        fees += tx.fee
    return state, fees


def grind(header: Header, pow_limit: int, valid: bool = True) -> Header:
    """The first nonce whose hash meets (valid=True) or misses (valid=False) the header's target."""
    for nonce in range(1_000_000):
        candidate = header.with_nonce(nonce)
        if check_proof_of_work(candidate.hash, candidate.bits, pow_limit) == valid:
            return candidate
    raise AssertionError(f"no nonce {'meets' if valid else 'misses'} bits {header.bits:#010x}")


class ChainHarness:
    """A node in `tmp_path/name` plus the block-building model that predicts its state."""

    def __init__(self, tmp_path: Path, network: str = "regtest", name: str = "node",
                 states: dict[bytes, ModelState] | None = None, **overrides) -> None:
        preset = get_preset(network)
        self.clock = FakeClock(preset.genesis_time + 1_000)
        self.datadir = tmp_path / name
        self.node = Node.create(self.datadir, network, clock=self.clock, **overrides)
        self.params = self.node.params
        self.pow_limit = bits_to_target(self.params.pow_limit_bits)
        self.genesis = self.chain.head
        # Model states by block hash; two harnesses on one network may share the dict (same genesis).
        self.states: dict[bytes, ModelState] = {} if states is None else states
        genesis_state = {DEV[i]: (self.params.dev_balance, 0) for i in range(self.params.dev_accounts)}
        assert model_state_root(genesis_state) == self.genesis.header.state_root, \
            "genesis state root is not the MuHash of the dev accounts' records"
        self.states.setdefault(self.genesis.hash, genesis_state)
        self.blocks: dict[bytes, Block] = {}

    def close(self) -> None:
        self.node.close()

    def reopen(self) -> Node:
        """Close the data dir and open it again, as a restarted process would."""
        self.node.close()
        self.node = Node.open(self.datadir, clock=self.clock)
        return self.node

    @property
    def chain(self):
        return self.node.chain

    # -- reading ------------------------------------------------------------------------
    @property
    def head(self) -> BlockIndex:
        return self.chain.head

    def balance(self, address: bytes | int) -> int:
        return self.chain.get_account(_addr(address)).balance

    def nonce(self, address: bytes | int) -> int:
        return self.chain.get_account(_addr(address)).nonce

    def model(self, block_hash: bytes | None = None) -> ModelState:
        return self.states[self.head.hash if block_hash is None else block_hash]

    def snapshot(self) -> dict:
        """Everything a rejected block must leave untouched."""
        store = self.node.store
        return {
            "head_hash": self.head.hash,
            "head_height": self.head.height,
            "stored_head": store.get_meta("head"),
            "accounts": [self.chain.get_account(a) for a in DEV + [MINER]],
            "muhash_stored": store.get_meta("muhash"),
            "muhash_live": self.chain.muhash.to_bytes(),
            "mempool": sorted(self.node.mempool.entries),
        }

    # -- transactions -------------------------------------------------------------------
    def transfer(self, i_from: int, i_to: int | bytes, amount: int, fee: int = MIN_FEE,
                 nonce: int | None = None, chain_id: int | None = None) -> Tx:
        """A signed transfer from dev account `i_from`; nonce defaults to the account's next at the head."""
        key = DEV_KEYS[i_from]
        if nonce is None:
            nonce = self.nonce(key.address)
        cid = self.params.chain_id if chain_id is None else chain_id
        return make_transfer(cid, nonce, fee, key.pubkey, _addr(i_to), amount).signed(key)

    # -- blocks -------------------------------------------------------------------------
    def _parent_index(self, parent: BlockIndex | Block | bytes | None) -> BlockIndex:
        if parent is None:
            return self.head
        h = parent if isinstance(parent, bytes) else parent.hash
        idx = self.chain.get_index(h)
        if idx is None and h in self.blocks:
            # Built here but not submitted yet: enough to stack another block on (work is unknown).
            idx = BlockIndex(self.blocks[h].header, 0)
        assert idx is not None, f"parent {h.hex()} is neither stored nor built by this harness"
        return idx

    def next_block(self, txs: Sequence[Tx] = (), parent: BlockIndex | Block | bytes | None = None, *,
                   beneficiary: bytes = MINER, solve: bool = True, pow_valid: bool = True,
                   **header_overrides) -> Block:
        """A block on the head (or on `parent`): roots recomputed from the model, nonce re-ground.

        `header_overrides` name Header fields (`timestamp`, `state_root`, `tx_root`, `height`,
        `version`, `engine`...), `parent_hash` (the header's parent field), or `bits` / `nonce`. With `nonce`
        given, or solve=False, the nonce is not ground; pow_valid=False grinds for a hash above the target
        instead.
        """
        pidx = self._parent_index(parent)
        height = header_overrides.get("height", pidx.height + 1)
        state, fees = model_apply(self.states.get(pidx.hash, self.model()), txs, self.params.chain_id)
        reward = self.params.block_reward(height)
        b_bal, b_nonce = state.get(beneficiary, (0, 0))
        if reward + fees:
            state[beneficiary] = (b_bal + reward + fees, b_nonce)
        default_ts = "timestamp" not in header_overrides
        fields = dict(
            version=HEADER_VERSION,
            height=height,
            parent=pidx.hash,
            timestamp=pidx.header.timestamp + self.params.target_spacing,
            tx_root=merkle.merkle_root([tx.txid for tx in txs]),
            ops_root=EMPTY_OPS_ROOT,
            state_root=model_state_root(state),
            beneficiary=beneficiary,
            engine=ENGINE_POW,
        )
        bits = header_overrides.pop("bits", None)
        nonce = header_overrides.pop("nonce", None)
        if "parent_hash" in header_overrides:
            header_overrides["parent"] = header_overrides.pop("parent_hash")
        fields.update(header_overrides)
        if bits is None:
            bits = self.chain.get_next_bits(pidx)
        header = Header(**fields, seal=PowSeal(bits, 0 if nonce is None else nonce))
        if nonce is None and solve:
            header = grind(header, self.pow_limit, pow_valid)
        if default_ts:
            # A miner stamps with its clock; keep the node's clock level with the chain it is fed.
            self.clock.advance_to(header.timestamp)
        block = Block(header, tuple(txs))
        self.states[block.hash] = state
        self.blocks[block.hash] = block
        return block

    def accept(self, block: Block, status: str | None = None):
        """Submit a block that must be accepted; when it becomes the head, check the state against the
        model."""
        result = self.node.accept_block(block)
        if status is not None:
            assert result.status == status, f"expected {status}, got {result.status}"
        if self.head.hash == block.hash:
            self.check_state_matches_model()
        return result

    def mine(self, n: int = 1, txs: Sequence[Tx] = ()) -> list[Block]:
        """n blocks on the head, the first carrying `txs`, each accepted as the new head."""
        out = []
        for i in range(n):
            block = self.next_block(txs if i == 0 else ())
            self.accept(block, "connected")
            out.append(block)
        return out

    def check_state_matches_model(self) -> None:
        state = self.states[self.head.hash]
        for address, (balance, nonce) in state.items():
            got = self.chain.get_account(address)
            assert (got.balance, got.nonce) == (balance, nonce), f"account {address.hex()}"
        assert self.chain.muhash.digest() == self.head.header.state_root
        assert (MuHash3072.from_bytes(self.node.store.get_meta("muhash")).digest()
                == self.head.header.state_root)

    def reject(self, block: Block, reason: str) -> InvalidBlock:
        """Submit a block that must fail with exactly `reason`, changing nothing a user could see."""
        before = self.snapshot()
        stored_before = self.node.store.get_block(block.hash) is not None
        with pytest.raises(InvalidBlock) as info:
            self.node.accept_block(block)
        assert info.value.code == reason, f"expected {reason}, got {info.value.code}: {info.value}"
        assert self.snapshot() == before
        assert (self.node.store.get_block(block.hash) is not None) == stored_before
        assert self.chain.get_hash_at(block.height) != block.hash
        return info.value


def _addr(x: int | bytes) -> bytes:
    return DEV[x] if isinstance(x, int) else x
