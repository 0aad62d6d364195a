"""The node: owns the store, chain state, mempool and miner; every chain operation the CLI and TUI use."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from pathlib import Path

from chain import crypto, merkle
from chain.abc import STATUS_INVALID, ChainBatch
from chain.block import Block
from chain.chainstate import AcceptResult, ChainState, load_params
from chain.consensus import pow as pow_rules
from chain.consensus import schedule
from chain.consensus.beacon import BlockOps
from chain.errors import ChaintopError, InvalidAddress, NotFound, StoreError, UsageError
from chain.mempool import AddResult, Mempool, PoolPolicy, decode_pool_record, encode_pool_record
from node import events as ev
from node import notes, pos_api, views
from node.miner import Miner, ProgressFn
from node.validator import ValidatorClient
from chain.params import Params, get_preset, with_overrides
from chain.tx import Tx, make_transfer
from storage.store import ChainStore

Clock = Callable[[], float]
FEE_ESTIMATE_BLOCKS = 20  # blocks of history behind the fee estimate
FEE_ESTIMATE_MIN_TXS = 10  # fewer included transactions than this: fall back to the relay minimum


def locked(fn):
    """Node methods run one at a time: RPC threads, the miner loop and the TUI share one node."""

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        with self.lock:
            return fn(self, *args, **kwargs)

    return wrapper


class Node:
    """One open data dir. Methods return JSON-ready dicts: the same shapes the CLI prints and RPC returns."""

    def __init__(self, store: ChainStore, clock: Clock = time.time, workers: int | None = None) -> None:
        self.store = store
        self.clock = clock
        self.params: Params = load_params(store)
        self.chain = ChainState(store, self.params, clock)
        p = self.params
        self.mempool = Mempool(PoolPolicy(p.chain_id, p.min_fee, p.min_fee_rate, p.mempool_max_bytes, p.mempool_expiry,
                                          schedule.uses_validators(p)),
                               self.chain.get_account, lambda txid: store.get_tx_location(txid) is not None)
        self.lock = threading.RLock()
        self.mining_lock = threading.Lock()  # one nonce search at a time: the miner's workers are shared
        self.events = ev.EventBus()
        self._workers = workers
        self._miner: Miner | None = None
        self._dev_keys = [crypto.dev_keypair(i) for i in range(self.params.dev_accounts)]
        self.validator = ValidatorClient(self) if schedule.uses_validators(self.params) else None
        if self.validator is not None:
            self.mempool.check_state = self._check_staking_tx
        self._load_pool()

    # -- lifecycle -------------------------------------------------------------------------
    @classmethod
    def open(cls, datadir: str | Path, clock: Clock = time.time, workers: int | None = None) -> Node:
        store = ChainStore.open(datadir)
        try:
            return cls(store, clock, workers)
        except BaseException:
            store.close()
            raise

    @classmethod
    def create(cls, datadir: str | Path, network: str = "devnet", clock: Clock = time.time, **overrides) -> Node:
        params = with_overrides(get_preset(network), **overrides) if overrides else get_preset(network)
        if params.genesis_time == 0:  # PoS: the slot clock starts when the chain is created
            params = with_overrides(params, genesis_time=int(clock()))
        path = Path(datadir).expanduser()
        if (path / "chain").exists():
            raise StoreError("already-initialized", f"{path} already holds a chain; use another --datadir or remove it")
        store = ChainStore.open(path, create=True)
        try:
            ChainState.initialize(store, params)
            return cls(store, clock)
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        if self._miner is not None:
            self._miner.close()
            self._miner = None
        self.store.close()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_staking_tx(self, tx: Tx) -> None:
        """A stake or unstake must pass its state rules at the head now (the pool checks balance and nonces)."""
        from chain.codec import U64_MAX
        from chain.kinds import KINDS
        from chain.state import Account

        view = self.chain.head_view_at_slot(pos_api.current_slot(self)).fork()
        KINDS[tx.kind].apply(view, tx, Account(U64_MAX, tx.nonce), self.params)

    def _load_pool(self) -> None:
        stale, txs = [], []
        for txid, raw in self.store.iter_pool():
            try:
                txs.append(decode_pool_record(raw))
            except ChaintopError:
                stale.append(txid)
        for tx, added in sorted(txs, key=lambda t: (t[0].sender_address, t[0].nonce)):  # lanes fill in nonce order
            try:
                self.mempool.add(tx, added)
            except ChaintopError:
                stale.append(tx.txid)
        if stale:
            self.store.commit(ChainBatch(pool=dict.fromkeys(stale), sync=False))

    # -- names -----------------------------------------------------------------------------
    def dev_label(self, address: bytes) -> str | None:
        for i, k in enumerate(self._dev_keys):
            if k.address == address:
                return f"dev{i}"
        return None

    def resolve_address(self, text: str) -> bytes:
        """A bech32m address of this network, or a dev key's label (dev0, dev1, ...)."""
        text = text.strip()
        key = self._key_by_label(text)
        if key is not None:
            return key.address
        return crypto.decode_address(self.params.hrp, text)

    def _key_by_label(self, label: str) -> crypto.KeyPair | None:
        if label.startswith("dev") and label[3:].isdigit():
            i = int(label[3:])
            if i < len(self._dev_keys):
                return self._dev_keys[i]
        return None

    def resolve_key(self, text: str) -> crypto.KeyPair:
        key = self._key_by_label(text.strip())
        if key is not None:
            return key
        address = self.resolve_address(text)
        for k in self._dev_keys:
            if k.address == address:
                return k
        raise NotFound("unknown-key", f"no key for {text} in this node; `chaintop keys list` shows the keys it holds")

    @locked
    def keys(self) -> list[dict]:
        return [{"label": f"dev{i}", "address": crypto.encode_address(self.params.hrp, k.address), "dev": True}
                for i, k in enumerate(self._dev_keys)]

    # -- reads -----------------------------------------------------------------------------
    @locked
    def status(self) -> dict:
        head = self.chain.head
        return {
            "network": self.params.network,
            "consensus": self.params.consensus,
            "chain_id": self.params.chain_id,
            "height": head.height,
            "head": head.hash.hex(),
            "head_time": head.header.timestamp,
            "bits": f"{head.header.bits:08x}",
            "difficulty": views.difficulty(head.header.bits, self.params),
            "next_bits": f"{self.chain.compute_next_bits(head):08x}",
            "chain_work": f"{head.chain_work:x}",
            "mempool_size": len(self.mempool),
            "datadir": str(self.store.datadir),
        } | self._pos_status()

    def _pos_status(self) -> dict:
        if self.validator is None:
            return {}
        f = pos_api.finality(self)
        return {"epoch": f["current_epoch"], "slot": pos_api.current_slot(self), "justified_epoch": f["justified_epoch"],
                "finalized_epoch": f["finalized_epoch"], "producer": "pos" if schedule.is_pos_height(
                    self.params, self.chain.head.height + 1) else "pow"}

    # -- proof of stake ----------------------------------------------------------------------
    @locked
    def validators(self) -> list[dict]:
        return pos_api.validators(self)

    @locked
    def committees(self, epoch: int | None = None) -> dict:
        return pos_api.committees(self, epoch)

    @locked
    def finality(self) -> dict:
        return pos_api.finality(self)

    @locked
    def duties(self) -> list[dict]:
        return pos_api.duties(self)

    @locked
    def stake(self, sender: str, amount: int, fee: int | None = None, validator_key: str | None = None) -> dict:
        return pos_api.stake(self, sender, amount, fee, validator_key)

    @locked
    def unstake(self, sender: str, index: int, fee: int | None = None) -> dict:
        return pos_api.unstake(self, sender, index, fee)

    @locked
    def validator_fault(self, index: int, mode: str) -> dict:
        return pos_api.fault(self, index, mode)

    @locked
    def on_slot(self, slot: int):
        """PoS duties for `slot` (the service's slot ticker calls this; tests call it with a fake clock)."""
        return self.validator.on_slot(slot) if self.validator is not None else None

    def _resolve_block(self, ident: str | int) -> Block:
        text = str(ident).strip()
        if text.isdigit() and len(text) < 20:
            h = self.chain.get_hash_at(int(text))
            if h is None:
                raise NotFound("block-not-found", f"no block at height {text}; the head is at {self.chain.head.height}")
        else:
            h = _parse_hash(text, "block hash")
        block = self.chain.get_block(h)
        if block is None:
            raise NotFound("block-not-found", f"no block {text}")
        return block

    @locked
    def block(self, ident: str | int, verbose: bool = False) -> dict:
        """A block's header fields, txids, votes and evidence; verbose adds every transaction's view."""
        block = self._resolve_block(ident)
        idx = self.chain.get_index(block.hash)
        view = views.block_view(block, idx, self.params, self.chain.get_confirmations(block.hash))
        view["main_chain"] = self.chain.is_on_main_chain(idx)
        view["status"] = "invalid" if idx.status == STATUS_INVALID else "valid"
        if verbose:
            view["tx_views"] = [views.tx_view(tx, self.params) for tx in block.txs]
        return view

    @locked
    def blocks(self, last: int = 10, start: int | None = None) -> list[dict]:
        """Header views of `last` main-chain blocks, newest first, from the head or from height `start` (a page)."""
        if last < 1:
            raise UsageError("bad-count", "--last must be at least 1")
        out = []
        head = self.chain.head.height
        top = head if start is None else min(start, head)
        if top < 0:
            raise UsageError("bad-height", "start must be a height, 0 or more")
        for height in range(top, max(-1, top - last), -1):
            idx = self.chain.get_index(self.chain.get_hash_at(height))
            view = views.header_fields(idx, self.params)
            view["confirmations"] = head - height + 1
            out.append(view)
        return out

    @locked
    def account_history(self, address: str, limit: int = 100) -> list[dict]:
        """The account's confirmed transactions, newest first (from the address index)."""
        raw = self.resolve_address(address)
        out = []
        for height, position, txid in self.store.iter_address(raw):
            if len(out) >= limit:
                break
            loc = self.store.get_tx_location(txid)
            if loc is None:
                continue
            block = self.chain.get_block(loc.block)
            view = views.tx_view(block.txs[loc.index], self.params)
            view.update(status="confirmed", block=loc.block.hex(), height=height, index=position,
                        confirmations=self.chain.get_confirmations(loc.block))
            out.append(view)
        return out

    def _find_tx(self, txid_text: str) -> tuple[Tx, dict]:
        txid = _parse_hash(txid_text, "txid")
        pending = self.mempool.get(txid)
        if pending is not None:
            return pending, {"status": "pending", "block": None, "height": None, "confirmations": 0}
        loc = self.store.get_tx_location(txid)
        if loc is None:
            raise NotFound("tx-not-found", f"no transaction {txid_text} in the chain or the mempool")
        block = self.chain.get_block(loc.block)
        where = {
            "status": "confirmed",
            "block": loc.block.hex(),
            "height": block.height,
            "index": loc.index,
            "confirmations": self.chain.get_confirmations(loc.block),
        }
        if self.validator is not None:
            cs = self.chain.consensus_state()
            finalized = self.chain.checkpoint_block(cs.finalized.root)
            where["finalized"] = where["confirmations"] > 0 and block.height <= finalized.height
        return block.txs[loc.index], where

    @locked
    def tx(self, txid: str) -> dict:
        tx, where = self._find_tx(txid)
        view = views.tx_view(tx, self.params)
        view.update(where)
        return view

    @locked
    def account(self, address: str) -> dict:
        raw = self.resolve_address(address)
        label = self.dev_label(raw)
        view = views.account_view(raw, self.chain.get_account(raw), self.params, label, label is not None)
        view["next_nonce"] = self.mempool.get_next_nonce(raw)
        view["pending"] = len(self.mempool.lanes.get(raw, {}))
        return view

    @locked
    def mempool_view(self) -> list[dict]:
        return [dict(views.tx_view(e.tx, self.params), added=e.added) for e in self.mempool.sorted_entries()]

    @locked
    def proof(self, txid: str) -> dict:
        tx, where = self._find_tx(txid)
        if where["status"] != "confirmed":
            raise NotFound("tx-not-confirmed", "the transaction is still pending; a proof exists once it is in a block")
        block = self.chain.get_block(bytes.fromhex(where["block"]))
        leaves = [t.txid for t in block.txs]
        proof = merkle.inclusion_proof(leaves, where["index"])
        root = block.header.tx_root
        return {
            "txid": tx.txid.hex(),
            "block": block.hash.hex(),
            "height": block.height,
            "index": where["index"],
            "tree_size": len(leaves),
            "proof": [p.hex() for p in proof],
            "tx_root": root.hex(),
            "verified": merkle.verify_inclusion(tx.txid, where["index"], len(leaves), proof, root),
        }

    # -- writes ----------------------------------------------------------------------------
    @locked
    def submit_tx(self, tx: Tx | bytes | str) -> dict:
        """Admit a transaction (object, raw bytes or hex) to the mempool; tells what it replaced or evicted."""
        if isinstance(tx, str):
            try:
                tx = bytes.fromhex(tx)
            except ValueError:
                raise UsageError("bad-hex", "the transaction is not hex") from None
        if isinstance(tx, bytes | bytearray):
            tx = Tx.decode(bytes(tx))
        result = self.mempool.add(tx, self.clock())
        self._persist_added(result)
        out = {"txid": tx.txid.hex(), "ready": result.ready}
        if result.replaced is not None:
            out["replaced"] = result.replaced.txid.hex()
        if result.evicted:
            out["evicted"] = [t.txid.hex() for t in result.evicted]
        return out

    def _persist_added(self, result: AddResult) -> None:
        tx = result.tx
        entry = self.mempool.entries[tx.txid]
        if result.replaced is None and not result.evicted:
            self.store.put_pool(tx.txid, encode_pool_record(tx, entry.added))  # the common case: one put
        else:
            pool: dict[bytes, bytes | None] = {tx.txid: encode_pool_record(tx, entry.added)}
            for gone in ([result.replaced] if result.replaced else []) + result.evicted:
                pool[gone.txid] = None
            self.store.commit(ChainBatch(pool=pool, sync=False))
        if not self.events.has_listeners:
            return
        hrp = self.params.hrp
        self.events.emit(ev.TxAdded(tx.txid.hex(), crypto.encode_address(hrp, tx.sender_address), tx.nonce, tx.fee,
                                    round(tx.fee_rate, 3), result.replaced.txid.hex() if result.replaced else None))
        if result.replaced:
            self.events.emit(ev.TxRemoved(result.replaced.txid.hex(), "replaced"))
        for gone in result.evicted:
            self.events.emit(ev.TxRemoved(gone.txid.hex(), "evicted"))

    @locked
    def send(self, sender: str, to: str, amount: int, fee: int | None = None, nonce: int | None = None) -> dict:
        """Sign with a dev key (their seed is public, so the node holds them) and submit."""
        key = self.resolve_key(sender)
        recipient = self.resolve_address(to)
        if amount <= 0:
            raise UsageError("bad-amount", "the amount must be more than zero")
        fee = self.params.min_fee if fee is None else fee
        nonce = self.mempool.get_next_nonce(key.address) if nonce is None else nonce
        tx = make_transfer(self.params.chain_id, nonce, fee, key.pubkey, recipient, amount).signed(key)
        return self.submit_tx(tx)

    @locked
    def fee_estimate(self) -> dict:
        """Percentiles of fee rates included in recent blocks; the relay minimum when history is thin."""
        rates: list[float] = []
        top = self.chain.head.height
        for height in range(top, max(0, top - FEE_ESTIMATE_BLOCKS), -1):
            block = self.chain.get_block_at(height)
            rates.extend(tx.fee_rate for tx in block.txs)
        floor = self.params.min_fee_rate
        size = 149  # a transfer's size in bytes
        if len(rates) < FEE_ESTIMATE_MIN_TXS:
            low = max(floor, self.params.min_fee / size)
            est = {"source": "fallback", "low": low, "medium": low * 1.5, "high": low * 3}
        else:
            rates.sort()

            def pct(q: float) -> float:
                return max(floor, rates[min(len(rates) - 1, int(q * len(rates)))])

            est = {"source": "blocks", "low": pct(0.10), "medium": pct(0.50), "high": pct(0.90)}
        est = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in est.items()}
        est.update(samples=len(rates), blocks=min(FEE_ESTIMATE_BLOCKS, top),
                   transfer_fee={k: max(self.params.min_fee, int(est[k] * size + 0.999)) for k in ("low", "medium", "high")})
        return est

    def _get_miner(self) -> Miner:
        if self._miner is None:
            self._miner = Miner(self._workers)
        return self._miner

    @locked
    def build_template(self, beneficiary: bytes) -> Block:
        """What the next block would hold: ready transactions by fee rate, within the size limit."""
        ops = self.validator.ops_for_block() if self.validator is not None else BlockOps()
        template, _ = self.chain.build_block(beneficiary, self.mempool.iter_by_fee_rate(), ops=ops)
        return template

    def mine_block(self, beneficiary: bytes, progress: ProgressFn | None = None, should_stop=None) -> AcceptResult | None:
        """Search a nonce for a template on the head; gives up (None) when the head moves or should_stop()."""
        with self.mining_lock:
            template = self.build_template(beneficiary)
            parent = template.header.parent
            started = time.monotonic()
            tried = {"hashes": 0}

            def on_progress(p) -> None:
                tried["hashes"] = p.hashes
                self.events.emit(ev.MiningProgress(p.height, p.hashes, round(p.hash_rate, 1), p.best_hash.hex(),
                                                   f"{p.target:064x}", p.expected_hashes, round(p.eta, 2), p.workers))
                if progress is not None:
                    progress(p)

            def stop() -> bool:
                return self.chain.head.hash != parent or (should_stop is not None and should_stop())

            header = self._get_miner().mine(template.header, on_progress, stop)
            if header is None:
                return None
            with self.lock:
                if self.chain.head.hash != parent:
                    return None  # another block won the race while we searched
                result = self.accept_block(Block(header, template.txs, template.ops))
            self.events.emit(ev.BlockMined(header.height, header.hash.hex(), tried["hashes"],
                                           round(time.monotonic() - started, 3)))
            return result

    def mine(self, blocks: int = 1, to: str | None = None, progress: ProgressFn | None = None,
             on_block: Callable[[dict], None] | None = None, should_stop=None) -> dict:
        if blocks < 1:
            raise UsageError("bad-count", "--blocks must be at least 1")
        beneficiary = self.resolve_address(to) if to else self._dev_keys[0].address
        mined, details = [], []
        while len(mined) < blocks:
            if should_stop is not None and should_stop():
                break
            if schedule.is_pos_height(self.params, self.chain.head.height + 1):
                if mined:
                    break
                raise UsageError("pos-height", f"block {self.chain.head.height + 1} is produced by proof of stake: "
                                               "validators propose it, there is nothing to mine")
            self._wait_for_clock()
            result = self.mine_block(beneficiary, progress, should_stop)
            if result is None:
                continue  # the head moved under us (another miner, an import): build on the new head
            info = {"height": self.chain.head.height, "hash": result.block_hash.hex(),
                    "txs": sum(len(b.txs) for b in result.connected)}
            mined.append(info["hash"])
            details.append(info)
            if on_block is not None:
                on_block(info)
        return {"blocks": mined, "mined": details, "height": self.chain.head.height}

    def _wait_for_clock(self) -> None:
        """Each timestamp must exceed the median time past; mining faster than one block a second walks the
        timestamps ahead of the clock. Before they pass the future limit, wait for the clock to catch up."""
        margin = self.params.max_future_time - 60
        while True:
            mtp = self.chain.compute_median_time_past(self.chain.head)
            ahead = mtp + 1 - self.clock()
            if ahead <= margin:
                return
            time.sleep(min(1.0, ahead - margin))

    @locked
    def reorg_to(self, tip) -> AcceptResult:
        """Fork choice moved the head to a stored block."""
        return self.accept_block(None, self.chain.reorg_to(tip))

    @locked
    def accept_block(self, block: Block | None, result: AcceptResult | None = None) -> AcceptResult:
        """Validate and store a block (possibly reorganising); then bring the mempool up to date."""
        result = result if result is not None else self.chain.accept_block(block)
        if self.validator is not None and result.status != "duplicate":
            for b in result.connected or ([block] if block is not None else []):
                self.validator.on_block(b, result.status != "side")
        if result.status not in ("connected", "reorg"):
            return result
        included = self.mempool.remove(tx.txid for b in result.connected for tx in b.txs)
        returned = []
        for b in reversed(result.disconnected):  # oldest first, so each sender's nonces arrive in order
            for tx in b.txs:
                try:
                    self.mempool.add(tx, self.clock())
                    returned.append(tx)
                except ChaintopError:
                    pass  # spent differently on the new branch
        dropped = self.mempool.revalidate()
        dropped_txs = [tx for tx, _ in dropped]
        expired = self.mempool.expire(self.clock())
        # The chain's own batch already wrote the returned transactions; drop what the pool refused.
        pool: dict[bytes, bytes | None] = {tx.txid: None for tx in dropped_txs + expired}
        for b in result.disconnected:
            for tx in b.txs:
                if tx.txid not in self.mempool and self.store.get_tx_location(tx.txid) is None:
                    pool[tx.txid] = None
        if pool:
            self.store.commit(ChainBatch(pool=pool, sync=False))
        hrp = self.params.hrp
        if result.status == "reorg":
            self.events.emit(ev.Reorg(result.old_head.hex(), result.new_head.hex(), result.depth,
                                      [tx.txid.hex() for tx in returned]))
        for b in result.connected:
            h = b.header
            self.events.emit(ev.BlockConnected(h.height, h.hash.hex(), h.parent.hex(), h.timestamp,
                                               [tx.txid.hex() for tx in b.txs], crypto.encode_address(hrp, h.beneficiary),
                                               f"{h.bits:08x}"))
        for tx in included:  # after BlockConnected, so a screen never shows a transaction vanish before its block
            self.events.emit(ev.TxRemoved(tx.txid.hex(), "included"))
        for tx in returned:
            self.events.emit(ev.TxAdded(tx.txid.hex(), crypto.encode_address(hrp, tx.sender_address), tx.nonce, tx.fee,
                                        round(tx.fee_rate, 3), None))
        for tx, err in dropped:
            self.events.emit(ev.TxRemoved(tx.txid.hex(), f"invalid:{err.code}"))
        for tx in expired:
            self.events.emit(ev.TxRemoved(tx.txid.hex(), "expired"))
        notes.emit_notes(self.events, result.notes)
        if self.validator is not None:
            self.validator.on_block_connected(self.chain.head.height)
        return result

    def params_view(self) -> dict:
        return self.params.to_dict()

    @locked
    def template_view(self, beneficiary: str | None = None) -> dict:
        """The projected next block: which pending transactions the template would take."""
        who = self.resolve_address(beneficiary) if beneficiary else self._dev_keys[0].address
        block = self.build_template(who)
        return {"height": block.height, "txs": [tx.txid.hex() for tx in block.txs], "n_tx": len(block.txs),
                "size": block.size, "fees": sum(tx.fee for tx in block.txs), "bits": f"{block.header.bits:08x}",
                "pending": len(self.mempool)}

    @locked
    def export_blocks(self, file: str, start: int = 1, end: int | None = None) -> dict:
        from node.maintenance import export_blocks

        return export_blocks(self, file, start, end)

    @locked
    def import_blocks(self, file: str) -> dict:
        from node.maintenance import import_blocks

        return import_blocks(self, file)

    @locked
    def verify(self) -> dict:
        from node.maintenance import verify_db

        return verify_db(self)

    def expected_hashes(self) -> float:
        return pow_rules.expected_hashes(self.chain.compute_next_bits(self.chain.head))


def _parse_hash(text: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise UsageError("bad-hash", f"{what} {text!r} is not hex") from None
    if len(raw) != 32:
        raise UsageError("bad-hash", f"{what} must be 32 bytes (64 hex characters), got {len(raw)}")
    return raw


__all__ = ["Node", "InvalidAddress"]
