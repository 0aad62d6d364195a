"""The node: owns the store, chain state, mempool and miner; every chain operation the CLI and TUI use."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from chain import crypto, merkle
from chain.abc import STATUS_INVALID, ChainBatch
from chain.block import Block
from chain.chainstate import AcceptResult, ChainState, load_params
from chain.consensus import pow as pow_rules
from chain.errors import ChaintopError, InvalidAddress, NotFound, StoreError, UsageError
from chain.mempool import Mempool
from chain.node import views
from chain.node.miner import Miner, ProgressFn
from chain.params import Params, get_preset, with_overrides
from chain.tx import Tx, make_transfer
from storage.store import ChainStore

Clock = Callable[[], float]


class Node:
    """One open data dir. Methods return JSON-ready dicts: the same shapes the CLI prints and RPC returns."""

    def __init__(self, store: ChainStore, clock: Clock = time.time, workers: int | None = None) -> None:
        self.store = store
        self.clock = clock
        self.params: Params = load_params(store)
        self.chain = ChainState(store, self.params, clock)
        self.mempool = Mempool(self.params.chain_id, self.params.min_fee, store.get_account,
                               lambda txid: store.get_tx_location(txid) is not None)
        self._workers = workers
        self._miner: Miner | None = None
        self._dev_keys = [crypto.dev_keypair(i) for i in range(self.params.dev_accounts)]
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

    def _load_pool(self) -> None:
        stale, txs = [], []
        for txid, raw in self.store.iter_pool():
            try:
                txs.append(Tx.decode(raw))
            except ChaintopError:
                stale.append(txid)
        for tx in sorted(txs, key=lambda t: (t.sender_address, t.nonce)):  # lanes fill in nonce order
            try:
                self.mempool.add(tx, self.clock())
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

    def keys(self) -> list[dict]:
        return [{"label": f"dev{i}", "address": crypto.encode_address(self.params.hrp, k.address), "dev": True}
                for i, k in enumerate(self._dev_keys)]

    # -- reads -----------------------------------------------------------------------------
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
        }

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

    def block(self, ident: str | int) -> dict:
        block = self._resolve_block(ident)
        idx = self.chain.get_index(block.hash)
        view = views.block_view(block, idx, self.params, self.chain.get_confirmations(block.hash))
        view["main_chain"] = self.chain.is_on_main_chain(idx)
        view["status"] = "invalid" if idx.status == STATUS_INVALID else "valid"
        return view

    def blocks(self, last: int = 10) -> list[dict]:
        if last < 1:
            raise UsageError("bad-count", "--last must be at least 1")
        out = []
        top = self.chain.head.height
        for height in range(top, max(-1, top - last), -1):
            idx = self.chain.get_index(self.chain.get_hash_at(height))
            view = views.header_fields(idx, self.params)
            view["confirmations"] = top - height + 1
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
        return block.txs[loc.index], {
            "status": "confirmed",
            "block": loc.block.hex(),
            "height": block.height,
            "index": loc.index,
            "confirmations": self.chain.get_confirmations(loc.block),
        }

    def tx(self, txid: str) -> dict:
        tx, where = self._find_tx(txid)
        view = views.tx_view(tx, self.params)
        view.update(where)
        return view

    def account(self, address: str) -> dict:
        raw = self.resolve_address(address)
        label = self.dev_label(raw)
        view = views.account_view(raw, self.chain.get_account(raw), self.params, label, label is not None)
        view["next_nonce"] = self.mempool.get_next_nonce(raw)
        view["pending"] = len(self.mempool.lanes.get(raw, {}))
        return view

    def mempool_view(self) -> list[dict]:
        return [dict(views.tx_view(e.tx, self.params), added=e.added) for e in self.mempool.sorted_entries()]

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
    def submit_tx(self, tx: Tx) -> dict:
        replaced = self.mempool.add(tx, self.clock())
        pool = {tx.txid: tx.encode()}
        if replaced is not None:
            pool[replaced.txid] = None
        self.store.commit(ChainBatch(pool=pool, sync=False))
        out = {"txid": tx.txid.hex()}
        if replaced is not None:
            out["replaced"] = replaced.txid.hex()
        return out

    def send(self, sender: str, to: str, amount: int, fee: int | None = None, nonce: int | None = None) -> dict:
        key = self.resolve_key(sender)
        recipient = self.resolve_address(to)
        if amount <= 0:
            raise UsageError("bad-amount", "the amount must be more than zero")
        fee = self.params.min_fee if fee is None else fee
        nonce = self.mempool.get_next_nonce(key.address) if nonce is None else nonce
        tx = make_transfer(self.params.chain_id, nonce, fee, key.pubkey, recipient, amount).signed(key)
        return self.submit_tx(tx)

    def _get_miner(self) -> Miner:
        if self._miner is None:
            self._miner = Miner(self._workers)
        return self._miner

    def mine_block(self, beneficiary: bytes, progress: ProgressFn | None = None, should_stop=None) -> AcceptResult | None:
        template, rejected = self.chain.build_block(beneficiary, self.mempool.iter_by_fee_rate())
        if rejected:
            self._drop_from_pool([tx for tx, _ in rejected])
        header = self._get_miner().mine(template.header, progress, should_stop)
        if header is None:
            return None
        return self.accept_block(Block(header, template.txs))

    def mine(self, blocks: int = 1, to: str | None = None, progress: ProgressFn | None = None,
             on_block: Callable[[dict], None] | None = None, should_stop=None) -> dict:
        if blocks < 1:
            raise UsageError("bad-count", "--blocks must be at least 1")
        beneficiary = self.resolve_address(to) if to else self._dev_keys[0].address
        mined = []
        for _ in range(blocks):
            result = self.mine_block(beneficiary, progress, should_stop)
            if result is None:
                break
            mined.append(result.block_hash.hex())
            if on_block is not None:
                on_block({"height": self.chain.head.height, "hash": result.block_hash.hex(),
                          "txs": sum(len(b.txs) for b in result.connected)})
        return {"blocks": mined, "height": self.chain.head.height}

    def accept_block(self, block: Block) -> AcceptResult:
        result = self.chain.accept_block(block)
        if result.status in ("connected", "reorg"):
            self.mempool.remove(tx.txid for b in result.connected for tx in b.txs)
            for b in result.disconnected:
                for tx in b.txs:
                    try:
                        self.mempool.add(tx, self.clock())
                    except ChaintopError:
                        pass  # spent differently on the new branch; the store batch already returned it
            dropped = self.mempool.revalidate()
            self._drop_from_pool([tx for tx, _ in dropped])
        return result

    def _drop_from_pool(self, txs: list[Tx]) -> None:
        self.mempool.remove(tx.txid for tx in txs)
        if txs:
            self.store.commit(ChainBatch(pool={tx.txid: None for tx in txs}, sync=False))

    def expected_block_time(self) -> float:
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
