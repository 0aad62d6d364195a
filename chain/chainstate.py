"""Chain state over a ChainDB: cached reads, accepting blocks, fork choice and reorgs.

The rules live beside it: genesis.py; headers.py (with consensus/pow.py, and the slot clock in
consensus/schedule.py); transition.py (apply_block); indexes.py (what a head move writes besides state);
consensus/heads.py (PoS queries on the head); template.py (block templates).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chain import crypto, indexes
from chain.abc import STATUS_INVALID, STATUS_INVALIDATED, STATUS_VALID, BlockIndex, ChainBatch, ChainDB
from chain.block import Block, Header, check_block_body
from chain.cache import MISSING, BoundedCache
from chain.consensus import heads, pos, schedule
from chain.consensus import pow as pow_rules
from chain.consensus.beacon import Checkpoint, ConsensusState
from chain.consensus.schedule import SlotOrigin, uses_validators
from chain.errors import InvalidBlock, InvalidTx, StoreError
from chain.headers import check_header
from chain.muhash import MuHash3072
from chain.notes import Note
from chain.params import Params
from chain.state import TAG_CONSENSUS, Account, StateView, Undo, account_key, decode_record, undo_block
from chain.supply import SupplyRecord, compute_block_supply, get_supply_at
from chain.transition import apply_block
from chain.tx import check_tx

if TYPE_CHECKING:
    from chain.template import PreparedState

Clock = Callable[[], float]  # seconds since the epoch; the node passes time.time, tests a fake clock
# Called with each head move's batch and the blocks it connects, before the commit: what the node records
# beside the chain in the same atomic write (the energy ledger's measurements).
BatchHook = Callable[[ChainBatch, list[BlockIndex]], None]
INDEX_CACHE_SIZE = 50_000
HEIGHT_CACHE_SIZE = 500_000
RECORD_CACHE_SIZE = 200_000


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


class ChainState:
    """The validated chain over a ChainDB. Every mutation is one atomic batch; memory follows the batch."""

    def __init__(self, db: ChainDB, params: Params, clock: Clock,
                 verify_batch: crypto.BatchVerifier = crypto.verify_many) -> None:
        """`clock` is injected (the core reads no time of its own); `verify_batch` checks a block's signatures
        in bulk: sequential by default, the node passes one that uses every core (node/sigcheck.py)."""
        self.db = db
        self.params = params
        self.clock = clock
        self.verify_batch = verify_batch
        self.verify_votes = verify_batch  # the votes' signatures in block processing (the node times them)
        self._index = BoundedCache(INDEX_CACHE_SIZE)  # hash -> BlockIndex
        self._heights = BoundedCache(HEIGHT_CACHE_SIZE)  # main-chain height -> hash
        self._records = BoundedCache(RECORD_CACHE_SIZE)  # state key -> decoded record (None: absent)
        self._children: dict[bytes, set[bytes]] = {}  # blocks stored this session, for LMD-GHOST
        self._mtp = BoundedCache(1024)  # block hash -> median time past
        head_hash = db.get_meta("head")
        raw_acc = db.get_meta("muhash")
        if head_hash is None or raw_acc is None:
            raise StoreError("corrupt-datadir", "the data dir has no head; it was not initialised completely")
        head = self.get_index(head_hash)
        if head is None:
            raise StoreError("corrupt-datadir", f"the head block {head_hash.hex()} is missing from the index")
        self.head: BlockIndex = head
        self.muhash = MuHash3072.from_bytes(raw_acc)
        self.state_epoch = 0  # counts head moves: a template's post-state applies only in the epoch it saw
        self._head_supply: tuple[bytes, bytes, SupplyRecord] | None = None  # (hash, stored, decoded)
        self.batch_hooks: list[BatchHook] = []

    # -- reads -----------------------------------------------------------------------------
    def get_index(self, block_hash: bytes) -> BlockIndex | None:
        idx = self._index.get(block_hash)
        if idx is None:
            idx = self.db.get_index(block_hash)
            if idx is not None:
                self._index.put(block_hash, idx)
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
                self._heights.put(height, h)
        return h

    def get_block_raw_at(self, height: int) -> bytes | None:
        h = self.get_hash_at(height)
        return self.db.get_block(h) if h is not None else None

    def get_block_at(self, height: int) -> Block | None:
        raw = self.get_block_raw_at(height)
        return Block.decode(raw) if raw is not None else None

    def load_record(self, key: bytes):
        """A committed state record, decoded once and shared (records are only changed on copies: get_mut)."""
        hit = self._records.get(key, MISSING)
        if hit is not MISSING:
            return hit
        raw = self.db.get_state(key)
        record = decode_record(key, raw) if raw is not None else None
        self._records.put(key, record)
        return record

    def get_account(self, address: bytes) -> Account:
        return self.load_record(account_key(address)) or Account()

    def new_view(self) -> StateView:
        """A view over the committed state at the head."""
        return StateView(self.load_record, self.muhash.copy())

    def is_on_main_chain(self, idx: BlockIndex) -> bool:
        return self.db.get_hash_at(idx.height) == idx.hash

    def get_parent(self, idx: BlockIndex) -> BlockIndex | None:
        """The parent's index (None for genesis)."""
        return self.get_index(idx.parent) if idx.height > 0 else None

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

    # -- header rules (chain/headers.py) and the slot clock (consensus/schedule.py) --------------
    def get_median_time_past(self, idx: BlockIndex) -> int:
        """Remembered per block (its ancestors never change): mining asks for the head's twice a block."""
        mtp = self._mtp.get(idx.hash)
        if mtp is None:
            mtp = pow_rules.get_median_time_past(self.get_parent, idx, self.params)
            self._mtp.put(idx.hash, mtp)
        return mtp

    def get_next_bits(self, parent: BlockIndex) -> int:
        """The bits a PoW child of `parent` must carry."""
        return pow_rules.get_next_bits(self.get_ancestor, parent, self.params)

    def check_header(self, header: Header, parent: BlockIndex) -> None:
        check_header(header, parent, self.params, self.get_median_time_past, self.get_ancestor, self.clock())

    def get_slot_origin(self, idx: BlockIndex | None = None) -> SlotOrigin:
        """(time, slot) the PoS slot clock counts from on the branch at `idx` (the head by default)."""
        return schedule.get_slot_origin(self.params, self.get_ancestor, idx or self.head)

    def slot_start_time(self, slot: int, idx: BlockIndex | None = None) -> float:
        return schedule.compute_slot_start_time(self.get_slot_origin(idx), slot, self.params)

    def current_slot(self, now: float | None = None, idx: BlockIndex | None = None) -> int:
        now = self.clock() if now is None else now
        return schedule.compute_current_slot(self.get_slot_origin(idx), now, self.params)

    # -- proof-of-stake queries on the head (consensus/heads.py) -----------------------------
    def head_view_at_slot(self, slot: int) -> StateView:
        """The head's state advanced through empty slots to `slot`: what a proposer or voter there sees."""
        return heads.get_head_view_at_slot(self.new_view, self.head, slot, self.params)

    def get_proposer(self, slot: int) -> int:
        return heads.get_proposer_at_slot(self.new_view, self.head, slot, self.params)

    def vote_for_slot(self, slot: int) -> tuple[bytes, Checkpoint, Checkpoint]:
        """(head, source, target) an honest validator votes for at `slot` on the current head."""
        return heads.get_vote_for_slot(self.new_view, self.head, slot, self.params)

    # -- block rules -----------------------------------------------------------------------
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
        results = self.verify_batch([(tx.sender, tx.signature, tx.txid) for tx in block.txs])
        for tx, ok in zip(block.txs, results, strict=True):
            if not ok:
                raise InvalidBlock("bad-signature", f"tx {tx.txid.hex()}: the signature does not verify "
                                                    "against the sender's key")

    def unknown_vote_block(self, att) -> bytes | None:
        """The head or target root of a vote that names a block this node does not have, if any."""
        for root in (att.data.head, att.data.target.root):
            if root != bytes(32) and self.get_index(root) is None:
                return root
        return None

    # -- accepting -------------------------------------------------------------------------
    def accept_block(self, block: Block, sync: bool = True, prepared: PreparedState | None = None
                     ) -> AcceptResult:
        """Validate and store a block; switch to its branch if that has the most work. sync=False leaves the
        fsync to the caller (a bulk `mine` syncs once per group of blocks, before it reports them).
        `prepared`: the post-state of the template this block was sealed from (chain/template.py); used
        instead of running the same transition again when it provably applies, ignored otherwise."""
        existing = self.get_index(block.hash)
        if existing is not None:
            if existing.status == STATUS_INVALID:
                raise InvalidBlock("known-invalid", "this block was already found invalid")
            if existing.status == STATUS_INVALIDATED:
                raise InvalidBlock("known-invalidated", "this node's operator set this block aside "
                                                        "(`invalidate_block`)")
            return AcceptResult("duplicate", block.hash)
        parent = self.get_index(block.header.parent)
        if parent is None:
            raise InvalidBlock("unknown-parent", f"parent {block.header.parent.hex()} is not known; "
                                                 "import the blocks before it")
        if parent.status == STATUS_INVALID:
            raise InvalidBlock("bad-parent", "the parent block is invalid")
        if parent.status == STATUS_INVALIDATED:
            raise InvalidBlock("parent-invalidated", "this node's operator set the parent block aside "
                                                     "(`invalidate_block`); `reconsider_block` undoes it")
        self.check_header(block.header, parent)
        self.check_block(block)
        if uses_validators(self.params):
            self.check_finality(parent)
        # Work for PoW blocks; a PoS block adds one (longest chain until votes say otherwise, see forkchoice).
        work = 1 if block.header.is_pos else pow_rules.work_from_bits(block.header.bits)
        idx = BlockIndex(block.header, parent.chain_work + work, STATUS_VALID, len(block.txs))
        self._children.setdefault(idx.parent, set()).add(idx.hash)
        if not self.decide_better_tip_and_record(idx, block):
            batch = ChainBatch(blocks={block.hash: block.encode()}, index={block.hash: idx}, sync=sync)
            self.db.commit(batch)
            self._index.put(block.hash, idx)
            return AcceptResult("side", block.hash)
        return self._activate(idx, block, sync, prepared=prepared)

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
        """LMD-GHOST from the justified checkpoint, weighing each validator's latest vote by effective
        balance."""
        from chain.forkchoice import get_head

        start = self.checkpoint_block(self.consensus_state().current_justified.root)
        balances = heads.get_fork_choice_balances(self.new_view())
        return get_head(start, self.children_of, votes, balances, self.get_index)

    def reorg_to(self, tip: BlockIndex, marks: dict[bytes, BlockIndex] | None = None,
                 meta: dict[str, bytes | None] | None = None) -> AcceptResult:
        """Make a stored, valid block the head (fork choice moved, or an ancestor: a rewind): disconnect and
        connect through undo data. `marks` (index records with a new status) and `meta` go in the same batch
        (chain/invalidate.py)."""
        if tip.hash == self.head.hash:
            return AcceptResult("duplicate", tip.hash)
        return self._activate(tip, None, marks=marks, meta=meta)

    def remember_index(self, idx: BlockIndex) -> None:
        """A block's index record was rewritten (a new status): read it from here on."""
        self._index.put(idx.hash, idx)

    # -- finality and fork choice ------------------------------------------------------------
    def consensus_state(self) -> ConsensusState | None:
        """The head's PoS record (None on a plain PoW network)."""
        return self.load_record(TAG_CONSENSUS)

    def checkpoint_block(self, root: bytes) -> BlockIndex:
        """A checkpoint's block; the genesis checkpoint is written with a zero root (genesis cannot name
        itself)."""
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
            raise InvalidBlock("finalized-conflict", "the block's branch does not contain the finalized "
                                                     f"checkpoint of epoch {cs.finalized.epoch} "
                                                     f"({finalized.hash.hex()[:16]}…)")

    def decide_better_tip_and_record(self, idx: BlockIndex, block: Block | None = None) -> bool:
        """Whether the branch ending at `idx` should become the head. PoW: most work. PoS: the longest chain
        here; LMD-GHOST moves the head by votes (forkchoice.py). Hybrid (EIP-1011): the highest justified
        checkpoint, then most work: a rival branch is validated on a scratch view to learn how far its votes
        justified it.

        Not a pure predicate: validating a rival branch may find a bad block, and then it persists INVALID
        marks for it and its descendants (and raises that block's InvalidBlock)."""
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

    def _build_branch(self, tip: BlockIndex, new_block: Block | None, prepared: PreparedState | None = None):
        """The state at `tip`: the head's state, disconnected to the fork point with undo data, then the
        branch connected with full validation. Nothing is written. Raises _BranchInvalid naming the first bad
        block."""
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
        connected: list[tuple[BlockIndex, Block, Undo, SupplyRecord]] = []
        supply = self.get_supply(fork, view) if path else None
        reuse = (prepared is not None and new_block is not None and len(path) == 1
                 and tip.hash == new_block.hash and not disconnected and prepared.parent == old.hash
                 and prepared.state_epoch == self.state_epoch and prepared.applies_to(new_block))
        for idx in path:
            is_new = new_block is not None and idx.hash == new_block.hash
            block = new_block if is_new else self.get_block(idx.hash)
            child = view.fork()
            try:
                if reuse:  # our own template's transition on this very state: the same records, root, undo
                    child, undo = prepared.view, prepared.undo
                else:
                    undo = apply_block(child, block, self.params, self.verify_votes)
                supply = compute_block_supply(supply, idx.height, child)  # the supply invariant, per block
            except InvalidBlock as e:
                raise _BranchInvalid(idx, e) from None
            view.merge(child)
            connected.append((idx, block, undo, supply))
        return view, disconnected, connected

    def get_supply(self, idx: BlockIndex, view: StateView | None = None) -> SupplyRecord:
        """The supply ledger at a block (chain/supply.py). The last one this session connected is kept decoded
        (the next block's transition starts from it), used while the stored bytes are still the same."""
        cached = self._head_supply
        if cached is not None and cached[0] == idx.hash and self.db.get_supply(idx.hash) == cached[1]:
            return cached[2]
        return get_supply_at(self.db, idx, view)

    def justified_epoch_of(self, tip: BlockIndex, new_block: Block | None) -> int:
        """The justified epoch the branch ending at `tip` reaches (validating it on a scratch view); persists
        INVALID marks if the branch holds a bad block (see decide_better_tip_and_record)."""
        try:
            view, _, _ = self._build_branch(tip, new_block)
        except _BranchInvalid as bad:
            self._mark_invalid(bad.idx, tip)
            raise bad.error from None
        return pos.get_consensus(view).current_justified.epoch

    def _activate(self, tip: BlockIndex, new_block: Block | None, sync: bool = True,
                  marks: dict[bytes, BlockIndex] | None = None,
                  meta: dict[str, bytes | None] | None = None,
                  prepared: PreparedState | None = None) -> AcceptResult:
        """Move the head to `tip`: disconnect to the fork point, connect the branch, commit once."""
        old = self.head
        try:
            view, disconnected_pairs, connected_triples = self._build_branch(tip, new_block, prepared)
        except _BranchInvalid as bad:
            self._mark_invalid(bad.idx, tip)
            if new_block is not None and bad.idx.hash == new_block.hash:
                raise bad.error from None
            # A stored ancestor of the new block failed: stay on the best valid chain.
            best_valid = self.get_index(bad.idx.parent)
            if best_valid.chain_work > self.head.chain_work:
                return self._activate(best_valid, None)
            raise InvalidBlock("bad-ancestor", f"ancestor {bad.idx.hash.hex()} at height {bad.idx.height} "
                                               "is invalid") from None
        batch = ChainBatch(index=dict(marks or {}), meta=dict(meta or {}), sync=sync)
        for idx, block in disconnected_pairs:
            indexes.record_disconnected(batch, idx, block)
        for idx, block, undo, supply in connected_triples:
            indexes.record_connected(batch, idx, block, undo)
            batch.supply[idx.hash] = supply.encode()
        disconnected = [b for _, b in disconnected_pairs]
        connected = [b for _, b, _, _ in connected_triples]
        if new_block is not None:
            batch.blocks[new_block.hash] = new_block.encode()
            batch.index[new_block.hash] = tip
        batch.state.update(view.changes)
        batch.meta["head"] = tip.hash
        batch.meta["muhash"] = view.muhash.to_bytes()
        indexes.record_pool_changes(batch, connected, disconnected, self.clock())
        for hook in self.batch_hooks:
            hook(batch, [idx for idx, _, _, _ in connected_triples])
        self.db.commit(batch)
        for key, record in batch.state.items():
            self._records.put(key, record)
        for height, h in batch.heights.items():
            if h is None:
                self._heights.pop(height)
            else:
                self._heights.put(height, h)
        for h, marked in (marks or {}).items():
            self._index.put(h, marked)
        self._index.put(tip.hash, tip)
        self.head = tip
        self.muhash = view.muhash
        self.state_epoch += 1
        if connected_triples:
            self._head_supply = (tip.hash, batch.supply[tip.hash], connected_triples[-1][3])
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
            self._index.put(cur.hash, marked)
            if cur.hash == bad.hash:
                break
            cur = self.get_index(cur.parent)
        if batch.index:
            self.db.commit(batch)
