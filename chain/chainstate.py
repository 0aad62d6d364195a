"""Chain state: header rules, connecting and disconnecting blocks, fork choice by work, reorgs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from chain import crypto
from chain.abc import STATUS_INVALID, STATUS_VALID, BlockIndex, ChainBatch, ChainDB, TxLocation
from chain.block import (
    ENGINE_POS,
    ENGINE_POW,
    HEADER_VERSION,
    Block,
    Header,
    PosSeal,
    PowSeal,
    check_block_body,
    compute_tx_root,
)
from chain.consensus import pos, staking
from chain.consensus import pow as pow_rules
from chain.consensus.beacon import EMPTY_OPS, EMPTY_OPS_ROOT, BlockOps, ConsensusState
from chain.consensus.epoch import process_slots
from chain.consensus.process import block_slot, pay_out, process_consensus_header, process_operations
from chain.consensus.schedule import is_pos_height, uses_validators
from chain.errors import ChaintopError, InvalidBlock, InvalidTx, StoreError
from chain.mempool import encode_pool_record
from chain.muhash import MuHash3072
from chain.notes import Note
from chain.params import Params
from chain.state import (
    TAG_CONSENSUS,
    Account,
    StateView,
    Undo,
    account_key,
    compute_state_muhash,
    decode_record,
    undo_block,
)
from chain.transition import apply_tx
from chain.tx import TRANSFER, Tx, check_tx, get_transfer

Clock = Callable[[], float]
_INDEX_CACHE_MAX = 50_000
_HEIGHT_CACHE_MAX = 500_000
_RECORD_CACHE_MAX = 200_000
_MISSING = object()


class _BranchInvalid(Exception):
    def __init__(self, idx: BlockIndex, error: InvalidBlock) -> None:
        super().__init__(error.message)
        self.idx, self.error = idx, error


@dataclass
class AcceptResult:
    """What accepting a block did: `status` is connected, reorg, side or duplicate."""

    status: str
    block_hash: bytes
    connected: list[Block] = field(default_factory=list)
    disconnected: list[Block] = field(default_factory=list)
    old_head: bytes = b""
    new_head: bytes = b""
    notes: list[Note] = field(default_factory=list)  # what the connected blocks did (chain/notes.py)

    @property
    def depth(self) -> int:
        return len(self.disconnected)


def genesis_records(params: Params) -> dict[bytes, object]:
    """Every state record genesis creates: the prefunded dev accounts (and, with PoS, the genesis validators)."""
    records: dict[bytes, object] = {
        account_key(crypto.dev_keypair(i).address): Account(params.dev_balance, 0) for i in range(params.dev_accounts)
    }
    for hook in GENESIS_HOOKS:
        records.update(hook(params))
    return records


# Modules that add state at genesis (proof of stake) register a function params -> {key: record} here.
GENESIS_HOOKS: list[Callable[[Params], dict[bytes, object]]] = [staking.genesis_records]
SLOT_TOLERANCE = 0.5  # seconds a PoS block may arrive before its slot starts (clock skew)


def make_genesis(params: Params) -> tuple[Block, MuHash3072]:
    """Deterministic: every node derives the same genesis from the same params."""
    acc = compute_state_muhash((k, v.encode()) for k, v in genesis_records(params).items())
    header = Header(
        HEADER_VERSION, 0, crypto.ZERO_HASH, params.genesis_time, compute_tx_root(()), EMPTY_OPS_ROOT, acc.digest(),
        crypto.ZERO_ADDRESS, ENGINE_POW, PowSeal(params.genesis_bits, 0),
    )
    pow_limit = pow_rules.bits_to_target(params.pow_limit_bits)
    nonce = 0
    while not pow_rules.check_proof_of_work(header.hash, header.bits, pow_limit):
        nonce += 1
        header = header.with_nonce(nonce)
    return Block(header, ()), acc


class ChainState:
    """The validated chain over a ChainDB. Every mutation is one atomic batch; memory follows the batch."""

    def __init__(self, db: ChainDB, params: Params, clock: Clock = time.time) -> None:
        self.db = db
        self.params = params
        self.clock = clock
        self.pow_limit = pow_rules.bits_to_target(params.pow_limit_bits)
        self._index: dict[bytes, BlockIndex] = {}
        self._heights: dict[int, bytes] = {}
        self._children: dict[bytes, set[bytes]] = {}  # blocks stored this session, for LMD-GHOST
        self._records: dict[bytes, object] = {}
        head_hash = db.get_meta("head")
        raw_acc = db.get_meta("muhash")
        if head_hash is None or raw_acc is None:
            raise StoreError("corrupt-datadir", "the data dir has no head; it was not initialised completely")
        head = self.get_index(head_hash)
        if head is None:
            raise StoreError("corrupt-datadir", f"the head block {head_hash.hex()} is missing from the index")
        self.head: BlockIndex = head
        self.muhash = MuHash3072.from_bytes(raw_acc)

    # -- creation --------------------------------------------------------------------------
    @staticmethod
    def initialize(db: ChainDB, params: Params) -> None:
        genesis, acc = make_genesis(params)
        index = BlockIndex(genesis.header, pow_rules.work_from_bits(genesis.header.bits), STATUS_VALID, 0)
        batch = ChainBatch()
        batch.blocks[genesis.hash] = genesis.encode()
        batch.index[genesis.hash] = index
        batch.heights[0] = genesis.hash
        batch.state.update(genesis_records(params))
        batch.meta.update(
            head=genesis.hash, muhash=acc.to_bytes(), genesis=genesis.hash,
            params=json.dumps(params.to_dict(), sort_keys=True).encode(),
        )
        db.commit(batch)

    # -- reads -----------------------------------------------------------------------------
    def get_index(self, block_hash: bytes) -> BlockIndex | None:
        idx = self._index.get(block_hash)
        if idx is None:
            idx = self.db.get_index(block_hash)
            if idx is not None:
                if len(self._index) >= _INDEX_CACHE_MAX:
                    self._index.clear()
                self._index[block_hash] = idx
        return idx

    def get_block(self, block_hash: bytes) -> Block | None:
        raw = self.db.get_block(block_hash)
        return Block.decode(raw) if raw is not None else None

    def get_hash_at(self, height: int) -> bytes | None:
        """Main-chain hash at `height`; remembered, since explorers page through heights again and again."""
        if height < 0 or height > self.head.height:
            return None
        h = self._heights.get(height)
        if h is None:
            h = self.db.get_hash_at(height)
            if h is not None:
                if len(self._heights) >= _HEIGHT_CACHE_MAX:
                    self._heights.clear()
                self._heights[height] = h
        return h

    def get_block_raw_at(self, height: int) -> bytes | None:
        h = self.get_hash_at(height)
        return self.db.get_block(h) if h is not None else None

    def get_block_at(self, height: int) -> Block | None:
        raw = self.get_block_raw_at(height)
        return Block.decode(raw) if raw is not None else None

    def load_record(self, key: bytes):
        """A committed state record, decoded once and shared (records are only changed on copies: get_mut)."""
        hit = self._records.get(key, _MISSING)
        if hit is not _MISSING:
            return hit
        raw = self.db.get_state(key)
        record = decode_record(key, raw) if raw is not None else None
        if len(self._records) >= _RECORD_CACHE_MAX:
            self._records.clear()
        self._records[key] = record
        return record

    def get_account(self, address: bytes) -> Account:
        return self.load_record(account_key(address)) or Account()

    def new_view(self) -> StateView:
        """A view over the committed state at the head."""
        return StateView(self.load_record, self.muhash.copy())

    def is_on_main_chain(self, idx: BlockIndex) -> bool:
        return self.db.get_hash_at(idx.height) == idx.hash

    def get_ancestor(self, idx: BlockIndex, height: int) -> BlockIndex:
        if height < 0 or height > idx.height:
            raise ValueError(f"no ancestor at height {height} of a block at {idx.height}")
        while idx.height > height:
            if self.is_on_main_chain(idx):
                found = self.get_index(self.db.get_hash_at(height))
                assert found is not None  # the main chain is indexed end to end
                return found
            parent = self.get_index(idx.parent)
            if parent is None:
                raise StoreError("corrupt-datadir", f"block {idx.hash.hex()} has no stored parent")
            idx = parent
        return idx

    def get_confirmations(self, block_hash: bytes) -> int:
        idx = self.get_index(block_hash)
        if idx is None or not self.is_on_main_chain(idx):
            return 0
        return self.head.height - idx.height + 1

    # -- header rules (PoW) ----------------------------------------------------------------
    def compute_median_time_past(self, idx: BlockIndex) -> int:
        times = []
        cur: BlockIndex | None = idx
        while cur is not None and len(times) < self.params.mtp_window:
            times.append(cur.header.timestamp)
            cur = self.get_index(cur.parent) if cur.height > 0 else None
        times.sort()
        return times[len(times) // 2]

    def compute_next_bits(self, parent: BlockIndex) -> int:
        """Bitcoin's GetNextWorkRequired, without testnet's min-difficulty exception."""
        interval = self.params.retarget_interval
        if self.params.pow_no_retarget or (parent.height + 1) % interval != 0:
            return parent.header.bits
        first = self.get_ancestor(parent, parent.height - (interval - 1))
        actual = parent.header.timestamp - first.header.timestamp
        return pow_rules.retarget(parent.header.bits, actual, self.params.target_timespan, self.pow_limit)

    def check_header(self, header: Header, parent: BlockIndex) -> None:
        if header.version != HEADER_VERSION:
            raise InvalidBlock("bad-version", f"header version {header.version}")
        if header.height != parent.height + 1:
            raise InvalidBlock("bad-height", f"height {header.height} does not follow its parent's {parent.height}")
        expected_engine = ENGINE_POS if is_pos_height(self.params, header.height) else ENGINE_POW
        if header.engine != expected_engine:
            kind = "proof of stake" if expected_engine == ENGINE_POS else "proof of work"
            raise InvalidBlock("bad-engine", f"height {header.height} on this network is produced by {kind}")
        if header.is_pos:
            self.check_pos_header(header, parent)
            return
        expected = self.compute_next_bits(parent)
        if header.bits != expected:
            raise InvalidBlock("bad-diffbits", f"bits {header.bits:#010x}, the rules require {expected:#010x}")
        mtp = self.compute_median_time_past(parent)
        if header.timestamp <= mtp:
            raise InvalidBlock("time-too-old", f"timestamp {header.timestamp} is not above the median time past {mtp}")
        limit = int(self.clock()) + self.params.max_future_time
        if header.timestamp > limit:
            raise InvalidBlock("time-too-new", f"timestamp {header.timestamp} is more than {self.params.max_future_time} s ahead")
        if not pow_rules.check_proof_of_work(header.hash, header.bits, self.pow_limit):
            raise InvalidBlock("high-hash", "the block hash is above the target: proof of work not met")

    def head_view_at_slot(self, slot: int) -> StateView:
        """The head's state advanced through empty slots to `slot` (epoch transitions included): what a
        proposer or voter at that slot sees."""
        view = self.new_view()
        if slot > block_slot(self.head.header):
            process_slots(view, self.params, slot, self.head.hash)
        return view

    def vote_for_slot(self, slot: int) -> tuple[bytes, object, object]:
        """(head, source, target) an honest validator votes for at `slot` on the current head."""
        from chain.consensus.beacon import Checkpoint

        view = self.head_view_at_slot(slot)
        cs = pos.get_consensus(view)
        epoch = slot // self.params.slots_per_epoch
        start = epoch * self.params.slots_per_epoch
        head_slot = block_slot(self.head.header)
        if head_slot <= start:
            target_root = self.head.hash
        else:
            target_root = pos.get_block_root_at_slot(pos.get_consensus(self.new_view_advanced()), start)
        return self.head.hash, cs.current_justified, Checkpoint(epoch, target_root)

    def new_view_advanced(self) -> StateView:
        """The head state one slot on: its root ring then covers every slot up to the head's."""
        return self.head_view_at_slot(block_slot(self.head.header) + 1)

    def get_proposer(self, slot: int) -> int:
        view = self.head_view_at_slot(slot)
        return pos.get_beacon_proposer(view, pos.get_consensus(view), slot, self.params)

    # -- the PoS slot clock ----------------------------------------------------------------
    def slot_origin(self, idx: BlockIndex) -> tuple[float, int]:
        """(time, slot) the PoS slot clock counts from on this branch: genesis, or the last PoW block (merge)."""
        if self.params.consensus == "merge":
            last_pow = self.get_ancestor(idx, self.params.merge_height - 1) if idx.height >= self.params.merge_height - 1 else idx
            return float(last_pow.header.timestamp), last_pow.height
        return float(self.params.genesis_time), 0

    def slot_start_time(self, slot: int, idx: BlockIndex | None = None) -> float:
        origin_time, origin_slot = self.slot_origin(idx or self.head)
        return origin_time + (slot - origin_slot) * self.params.slot_time

    def current_slot(self, now: float | None = None, idx: BlockIndex | None = None) -> int:
        origin_time, origin_slot = self.slot_origin(idx or self.head)
        now = self.clock() if now is None else now
        return origin_slot + max(0, int((now - origin_time) // self.params.slot_time))

    def check_pos_header(self, header: Header, parent: BlockIndex) -> None:
        slot, parent_slot = header.seal.slot, block_slot(parent.header)
        if slot <= parent_slot:
            raise InvalidBlock("bad-slot", f"slot {slot} is not after its parent's slot {parent_slot}")
        if self.slot_start_time(slot, parent) > self.clock() + SLOT_TOLERANCE:
            raise InvalidBlock("slot-in-future", f"slot {slot} has not started yet")
        if header.timestamp != int(self.slot_start_time(slot, parent)):
            raise InvalidBlock("bad-timestamp", "a PoS block's timestamp is its slot's start time")
        if header.bits or header.nonce:
            raise InvalidBlock("bad-seal", "a PoS header carries no proof-of-work fields")

    def check_block(self, block: Block) -> None:
        """Every stateless rule: body limits, tx root, and each transaction's own rules."""
        check_block_body(block, self.params.max_block_bytes, self.params.max_block_txs)
        for tx in block.txs:
            try:
                check_tx(tx, self.params.chain_id, verify_signature=False)
            except InvalidTx as e:
                raise InvalidBlock(e.code, f"tx {tx.txid.hex()}: {e.message}") from None
        for att in block.ops.attestations:
            unknown = self.unknown_vote_block(att)
            if unknown is not None:
                raise InvalidBlock("attestation-unknown-block", f"a vote for block {unknown.hex()[:16]}..., "
                                                                "which this node has never seen")
        results = crypto.verify_many([(tx.sender, tx.signature, tx.txid) for tx in block.txs])
        for tx, ok in zip(block.txs, results, strict=True):
            if not ok:
                raise InvalidBlock("bad-signature", f"tx {tx.txid.hex()}: the signature does not verify against the sender's key")

    def unknown_vote_block(self, att) -> bytes | None:
        """The head or target root of a vote that names a block this node does not have, if any."""
        for root in (att.data.head, att.data.target.root):
            if root != bytes(32) and self.get_index(root) is None:
                return root
        return None

    # -- connecting ------------------------------------------------------------------------
    def apply_block(self, view: StateView, block: Block) -> Undo:
        """The state transition: slots and epochs, the PoS header, evidence and votes, transactions, payouts;
        then the state root must match."""
        try:
            proposer = process_consensus_header(view, self.params, block.header)
            outcome = process_operations(view, self.params, block.ops, strict=True, proposer=proposer)
        except InvalidTx as e:
            raise InvalidBlock(e.code, e.message) from None
        fees = 0
        for tx in block.txs:
            try:
                fees += apply_tx(view, tx, self.params)
            except InvalidTx as e:
                raise InvalidBlock(e.code, f"tx {tx.txid.hex()}: {e.message}") from None
        try:
            pay_out(view, self.params, block, fees, outcome.producer_reward, proposer)
        except InvalidTx as e:
            raise InvalidBlock(e.code, e.message) from None
        undo = view.finish()
        if view.muhash.digest() != block.header.state_root:
            raise InvalidBlock("bad-state-root", "the header's state root does not match the state after the block")
        return undo

    def accept_block(self, block: Block) -> AcceptResult:
        """Validate and store a block; switch to its branch if that has the most work."""
        existing = self.get_index(block.hash)
        if existing is not None:
            if existing.status == STATUS_INVALID:
                raise InvalidBlock("known-invalid", "this block was already found invalid")
            return AcceptResult("duplicate", block.hash)
        parent = self.get_index(block.header.parent)
        if parent is None:
            raise InvalidBlock("unknown-parent", f"parent {block.header.parent.hex()} is not known; import the blocks before it")
        if parent.status == STATUS_INVALID:
            raise InvalidBlock("bad-parent", "the parent block is invalid")
        self.check_header(block.header, parent)
        self.check_block(block)
        if uses_validators(self.params):
            self.check_finality(parent)
        # Work for PoW blocks; a PoS block adds one (longest chain until votes say otherwise, see forkchoice).
        work = 1 if block.header.is_pos else pow_rules.work_from_bits(block.header.bits)
        idx = BlockIndex(block.header, parent.chain_work + work, STATUS_VALID, len(block.txs))
        self._children.setdefault(idx.parent, set()).add(idx.hash)
        if not self.is_better_tip(idx, block):
            batch = ChainBatch(blocks={block.hash: block.encode()}, index={block.hash: idx})
            self.db.commit(batch)
            self._index[block.hash] = idx
            return AcceptResult("side", block.hash)
        return self._activate(idx, block)

    def children_of(self, block_hash: bytes) -> set[bytes]:
        """Children seen this session, plus the main-chain child (blocks from before a restart are on it)."""
        kids = set(self._children.get(block_hash, ()))
        idx = self.get_index(block_hash)
        if idx is not None and self.is_on_main_chain(idx):
            nxt = self.get_hash_at(idx.height + 1)
            if nxt is not None:
                kids.add(nxt)
        return kids

    def fork_choice_head(self, votes: dict[int, bytes]) -> BlockIndex:
        """LMD-GHOST from the justified checkpoint, weighing each validator's latest vote by effective balance."""
        from chain.forkchoice import get_head

        cs = self.consensus_state()
        start = self.checkpoint_block(cs.current_justified.root)
        view = self.new_view()
        balances = {i: pos.get_validator(view, i).effective_balance for i in range(cs.validator_count)
                    if not pos.get_validator(view, i).slashed}
        return get_head(start, self.children_of, votes, balances, self.get_index)

    def reorg_to(self, tip: BlockIndex) -> AcceptResult:
        """Make a stored, valid block the head (fork choice moved): disconnect and connect through undo data."""
        if tip.hash == self.head.hash:
            return AcceptResult("duplicate", tip.hash)
        return self._activate(tip, None)

    # -- finality and fork choice ------------------------------------------------------------
    def consensus_state(self) -> ConsensusState | None:
        """The head's PoS record (None on a plain PoW network)."""
        return self.load_record(TAG_CONSENSUS)

    def checkpoint_block(self, root: bytes) -> BlockIndex:
        """A checkpoint's block; the genesis checkpoint is written with a zero root (genesis cannot name itself)."""
        if root == bytes(32):
            return self.get_index(self.db.get_hash_at(0))
        idx = self.get_index(root)
        if idx is None:
            raise StoreError("corrupt-datadir", f"checkpoint block {root.hex()} is not stored")
        return idx

    def descends_from(self, idx: BlockIndex, ancestor: BlockIndex) -> bool:
        return idx.height >= ancestor.height and self.get_ancestor(idx, ancestor.height).hash == ancestor.hash

    def check_finality(self, parent: BlockIndex) -> None:
        """A finalized block is never reverted: a block must build on the finalized checkpoint."""
        cs = self.consensus_state()
        if cs is None or cs.finalized.epoch == 0 and cs.finalized.root == bytes(32):
            return
        finalized = self.checkpoint_block(cs.finalized.root)
        if not self.descends_from(parent, finalized):
            raise InvalidBlock("finalized-conflict", f"the block's branch does not contain the finalized checkpoint of "
                                                     f"epoch {cs.finalized.epoch} ({finalized.hash.hex()[:16]}…)")

    def is_better_tip(self, idx: BlockIndex, block: Block | None = None) -> bool:
        """PoW: most work. PoS: the longest chain here; LMD-GHOST moves the head by votes (forkchoice.py).
        Hybrid (EIP-1011): the highest justified checkpoint, then most work: a rival branch is validated on a
        scratch view to learn how far its votes justified it."""
        cs = self.consensus_state()
        if cs is None or idx.header.is_pos or idx.parent == self.head.hash:
            return idx.chain_work > self.head.chain_work
        candidate = self.justified_epoch_of(idx, block)
        return (candidate, idx.chain_work) > (cs.current_justified.epoch, self.head.chain_work)

    def _find_fork(self, a: BlockIndex, b: BlockIndex) -> BlockIndex:
        while a.height > b.height:
            a = self.get_index(a.parent)
        while b.height > a.height:
            b = self.get_index(b.parent)
        while a.hash != b.hash:
            a = self.get_index(a.parent)
            b = self.get_index(b.parent)
        return a

    def _build_branch(self, tip: BlockIndex, new_block: Block | None):
        """The state at `tip`: the head's state, disconnected to the fork point with undo data, then the branch
        connected with full validation. Nothing is written. Raises _BranchInvalid naming the first bad block."""
        old = self.head
        fork = self._find_fork(old, tip)
        path = []
        cur = tip
        while cur.hash != fork.hash:
            path.append(cur)
            cur = self.get_index(cur.parent)
        path.reverse()
        view = self.new_view()
        disconnected: list[tuple[BlockIndex, Block]] = []
        cur = old
        while cur.hash != fork.hash:
            block = self.get_block(cur.hash)
            raw_undo = self.db.get_undo(cur.hash)
            if block is None or raw_undo is None:
                raise StoreError("corrupt-datadir", f"block or undo data missing for {cur.hash.hex()}")
            undo_block(view, Undo.decode(raw_undo))
            disconnected.append((cur, block))
            cur = self.get_index(cur.parent)
        connected: list[tuple[BlockIndex, Block, Undo]] = []
        for idx in path:
            block = new_block if new_block is not None and idx.hash == new_block.hash else self.get_block(idx.hash)
            child = view.fork()
            try:
                undo = self.apply_block(child, block)
            except InvalidBlock as e:
                raise _BranchInvalid(idx, e) from None
            view.merge(child)
            connected.append((idx, block, undo))
        return view, disconnected, connected

    def justified_epoch_of(self, tip: BlockIndex, new_block: Block | None) -> int:
        """The justified epoch the branch ending at `tip` reaches (validating it on a scratch view)."""
        try:
            view, _, _ = self._build_branch(tip, new_block)
        except _BranchInvalid as bad:
            self._mark_invalid(bad.idx, tip)
            raise bad.error from None
        return pos.get_consensus(view).current_justified.epoch

    def _activate(self, tip: BlockIndex, new_block: Block | None) -> AcceptResult:
        """Move the head to `tip`: disconnect to the fork point, connect the branch, commit once."""
        old = self.head
        try:
            view, disconnected_pairs, connected_triples = self._build_branch(tip, new_block)
        except _BranchInvalid as bad:
            self._mark_invalid(bad.idx, tip)
            if new_block is not None and bad.idx.hash == new_block.hash:
                raise bad.error from None
            # A stored ancestor of the new block failed: stay on the best valid chain.
            best_valid = self.get_index(bad.idx.parent)
            if best_valid.chain_work > self.head.chain_work:
                return self._activate(best_valid, None)
            raise InvalidBlock("bad-ancestor", f"ancestor {bad.idx.hash.hex()} at height {bad.idx.height} is invalid") from None
        batch = ChainBatch()
        disconnected = [b for _, b in disconnected_pairs]
        for idx, block in disconnected_pairs:
            for i, tx in enumerate(block.txs):
                batch.tx_locations[tx.txid] = None
                for address in tx_addresses(tx):
                    batch.address_index[(address, idx.height, i)] = None
            batch.heights[idx.height] = None
            batch.undo[idx.hash] = None
        connected: list[Block] = []
        for idx, block, undo in connected_triples:
            batch.heights[idx.height] = idx.hash
            batch.undo[idx.hash] = undo.encode()
            for i, tx in enumerate(block.txs):
                batch.tx_locations[tx.txid] = TxLocation(idx.hash, i)
                for address in tx_addresses(tx):
                    batch.address_index[(address, idx.height, i)] = tx.txid
            connected.append(block)
        if new_block is not None:
            batch.blocks[new_block.hash] = new_block.encode()
            batch.index[new_block.hash] = tip
        batch.state.update(view.changes)
        batch.meta["head"] = tip.hash
        batch.meta["muhash"] = view.muhash.to_bytes()
        included = {tx.txid for b in connected for tx in b.txs}
        for txid in included:
            batch.pool[txid] = None
        now = self.clock()
        for b in disconnected:
            for tx in b.txs:
                if tx.txid not in included:
                    batch.pool[tx.txid] = encode_pool_record(tx, now)
        self.db.commit(batch)
        for key, record in batch.state.items():
            self._records[key] = record
        for height, h in batch.heights.items():
            if h is None:
                self._heights.pop(height, None)
            else:
                self._heights[height] = h
        self._index[tip.hash] = tip
        self.head = tip
        self.muhash = view.muhash
        status = "connected" if not disconnected else "reorg"
        return AcceptResult(status, tip.hash, connected, disconnected, old.hash, tip.hash, view.notes)

    def _mark_invalid(self, bad: BlockIndex, tip: BlockIndex) -> None:
        """Persist INVALID for `bad` and every stored block from it up to `tip`."""
        batch = ChainBatch()
        cur = tip
        while True:
            marked = BlockIndex(cur.header, cur.chain_work, STATUS_INVALID, cur.n_tx)
            if self.db.get_index(cur.hash) is not None:
                batch.index[cur.hash] = marked
            self._index[cur.hash] = marked
            if cur.hash == bad.hash:
                break
            cur = self.get_index(cur.parent)
        if batch.index:
            self.db.commit(batch)

    # -- building --------------------------------------------------------------------------
    def build_block(self, beneficiary: bytes, candidates: Iterable[Tx], timestamp: int | None = None,
                    ops: BlockOps = EMPTY_OPS, pos_slot: int | None = None, proposer_key: crypto.KeyPair | None = None,
                    ) -> tuple[Block, list[tuple[Tx, ChaintopError]]]:
        """A block template on the head: votes and evidence that still apply, then candidates in order, skipping
        (and returning) any that fail. With pos_slot and proposer_key, a signed PoS block for that slot."""
        parent = self.head
        height = parent.height + 1
        view = self.new_view()
        if pos_slot is not None:
            epoch = pos_slot // self.params.slots_per_epoch
            reveal = proposer_key.sign(pos.randao_message(self.params.chain_id, epoch))
            ts = int(self.slot_start_time(pos_slot, parent))
            seal: PowSeal | PosSeal = PosSeal(pos_slot, self.get_proposer(pos_slot), reveal, bytes(64))
            engine = ENGINE_POS
        else:
            mtp = self.compute_median_time_past(parent)
            ts = max(int(self.clock()), mtp + 1) if timestamp is None else timestamp
            seal, engine = PowSeal(self.compute_next_bits(parent), 0), ENGINE_POW
        draft = Header(HEADER_VERSION, height, parent.hash, ts, bytes(32), bytes(32), bytes(32), beneficiary, engine, seal)
        try:
            proposer = process_consensus_header(view, self.params, draft, check_signature=False)
        except InvalidBlock as e:
            raise InvalidBlock(e.code, f"cannot build on the head: {e.message}") from None
        if proposer is not None:
            seal = PosSeal(pos_slot, proposer, seal.randao_reveal, bytes(64))
        ops = BlockOps(tuple(a for a in ops.attestations if self.unknown_vote_block(a) is None),
                       ops.proposer_slashings, ops.attester_slashings)
        outcome = process_operations(view, self.params, ops, strict=False, proposer=proposer)
        included: list[Tx] = []
        rejected: list[tuple[Tx, ChaintopError]] = []
        size = 300 + len(outcome.ops().encode())  # header, counts and ops, with room to spare
        fees = 0
        for tx in candidates:
            if len(included) >= self.params.max_block_txs or size + tx.size > self.params.max_block_bytes:
                break
            attempt = view.fork()  # a failing tx leaves no trace
            try:
                check_tx(tx, self.params.chain_id, verify_signature=False)
                fees += apply_tx(attempt, tx, self.params)
            except InvalidTx as e:
                rejected.append((tx, e))
                continue
            view.absorb(attempt)
            included.append(tx)
            size += tx.size
        pay_out(view, self.params, draft, fees, outcome.producer_reward, proposer)
        view.finish()
        block_ops = outcome.ops()
        header = Header(HEADER_VERSION, height, parent.hash, ts, compute_tx_root(included), block_ops.root(),
                        view.muhash.digest(), beneficiary, engine, seal)
        if proposer is not None:
            signature = proposer_key.sign(pos.proposal_message(self.params.chain_id, header.hash))
            header = header.replace(seal=PosSeal(pos_slot, proposer, seal.randao_reveal, signature))
        return Block(header, tuple(included), block_ops), rejected


def tx_addresses(tx: Tx) -> set[bytes]:
    """The accounts a transaction touches: its sender, and a transfer's recipient."""
    out = {tx.sender_address}
    if tx.kind == TRANSFER:
        out.add(get_transfer(tx).to)
    return out


def load_params(db: ChainDB) -> Params:
    raw = db.get_meta("params")
    if raw is None:
        raise StoreError("corrupt-datadir", "the data dir records no network parameters")
    return Params.from_dict(json.loads(raw))

