"""Request/response and sync: BlocksByRange, BlocksByRoot, pending transactions; catching up to a peer.

A peer whose Status shows a newer finalized checkpoint, then justified one, then more work, is synced from:
find the last block we share (probing back from the lower head by doubling steps, never below our finalized
checkpoint: that block is never reverted), then fetch ranges of blocks, the next range in flight while the
current one is validated. A gossiped block with an unknown parent fetches its ancestors by root (a few), or
falls back to a range sync. A peer that joins is asked for its pending transactions (a restarted node
refills its mempool).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING

from chain.block import Block
from chain.errors import ChaintopError, DecodeError, InvalidBlock
from chain.tx import Tx
from node import events as ev
from node.p2p import gossip
from node.p2p import messages as m

if TYPE_CHECKING:
    from node.p2p.peers import Peer
    from node.p2p.protocol import Network

REQUEST_TIMEOUT = 10.0  # seconds for each response chunk
SERVE_WAIT = 10.0  # a response waits this long for room in a slow peer's queue (sync waits, gossip drops)
MAX_ANCESTORS = 16  # parents fetched by root for one orphan before a range sync takes over
PENDING_LIMIT = 5_000


class RequestFailed(Exception):
    pass


class Syncer:
    def __init__(self, net: Network) -> None:
        self.net = net
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[object, asyncio.Queue]] = {}
        self._task: asyncio.Task | None = None
        self._others: set[asyncio.Task] = set()
        self.syncing_from: str | None = None
        self.synced_blocks = 0
        self._pulled_pending = 0
        self._tried: dict[bytes, bytes] = {}  # node id -> its head we found nothing to take from

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._others.add(task)
        task.add_done_callback(self._others.discard)

    def cancel(self) -> None:
        for task in [self._task, *self._others]:
            if task is not None:
                task.cancel()

    # -- requests --------------------------------------------------------------------------
    async def request(self, peer: Peer, method: int, body: bytes) -> list[bytes]:
        req_id = next(self._ids) & 0xFFFF_FFFF
        queue: asyncio.Queue = asyncio.Queue()
        self._pending[req_id] = (peer.conn, queue)
        try:
            if not await self.net.send(peer, m.Request(req_id, method, body), wait=SERVE_WAIT):
                raise RequestFailed("the peer is not connected")
            items: list[bytes] = []
            while True:
                resp = await asyncio.wait_for(queue.get(), REQUEST_TIMEOUT)
                if resp.code != m.SUCCESS:
                    raise RequestFailed(m.RESULT_NAMES.get(resp.code, str(resp.code)))
                items.extend(resp.items)
                if resp.done:
                    return items
        except TimeoutError:
            raise RequestFailed("timed out") from None
        finally:
            self._pending.pop(req_id, None)

    def on_response(self, peer: Peer, resp: m.Response) -> None:
        entry = self._pending.get(resp.req_id)
        if entry is not None and entry[0] == peer.conn:
            entry[1].put_nowait(resp)

    def serve(self, peer: Peer, req: m.Request) -> None:
        self._spawn(self._serve(peer, req))

    async def _serve(self, peer: Peer, req: m.Request) -> None:
        node = self.net.node
        try:
            if req.method == m.BLOCKS_BY_RANGE:
                start, count = m.decode_range(req.body)
                items = await self.net.read(node.blocks_by_range_raw, start, count)
            elif req.method == m.BLOCKS_BY_ROOT:
                items = await self.net.read(node.blocks_by_root_raw, m.decode_roots(req.body))
            elif req.method == m.PENDING_TXS:
                limit = min(m.decode_limit(req.body), PENDING_LIMIT)
                items = await self.net.read(node.pending_txs_raw, limit)
            else:
                raise DecodeError("unknown-method", f"request method {req.method}")
        except DecodeError:
            await self.net.send(peer, m.Response(req.req_id, m.INVALID_REQUEST, True))
            return
        except Exception:  # noqa: BLE001 — the peer gets a result code, the node goes on
            await self.net.send(peer, m.Response(req.req_id, m.SERVER_ERROR, True))
            return
        chunks = m.chunk_items(items)
        for i, chunk in enumerate(chunks):
            if not await self.net.send(peer, m.Response(req.req_id, m.SUCCESS, i == len(chunks) - 1,
                                                        tuple(chunk)), wait=SERVE_WAIT):
                return

    # -- peers coming and going ------------------------------------------------------------
    def on_join(self, peer: Peer) -> None:
        if self._pulled_pending < 3:
            self._pulled_pending += 1
            self._spawn(self._pull_pending(peer))

    def on_status(self, peer: Peer) -> None:
        if peer.active:
            self.maybe_sync(peer)

    def on_leave(self, peer: Peer) -> None:
        pass  # a running sync from it fails its next request and ends

    def tick(self) -> None:
        for peer in self.net.active_peers():
            self.maybe_sync(peer)

    def is_ahead(self, peer: Peer) -> bool:
        """A newer finalized checkpoint first (a branch that finalized more is never given up for work), then
        a newer justified one, then more work: PoW's heaviest chain, and with validators EIP-1011's order
        (a node that mined a heavier branch alone during a partition still follows the side that justified
        more)."""
        s, ours = peer.status, self.net.summary
        if s is None:
            return False
        return ((s.finalized_epoch, s.justified_epoch, s.chain_work)
                > (ours["finalized_epoch"], ours["justified_epoch"], ours["chain_work"]))

    def maybe_sync(self, peer: Peer, force: bool = False) -> None:
        if self._task is not None and not self._task.done():
            return
        if not force and (not self.is_ahead(peer) or self._tried.get(peer.node_id) == peer.status.head):
            return
        self._task = asyncio.get_running_loop().create_task(self._sync_from(peer))

    async def _pull_pending(self, peer: Peer) -> None:
        try:
            items = await self.request(peer, m.PENDING_TXS, m.encode_limit(PENDING_LIMIT))
        except RequestFailed:
            return
        try:
            txs = [Tx.decode(raw) for raw in items]
        except DecodeError:
            await self.net.penalize(peer, "malformed", "answered pending transactions that do not decode")
            return
        for tx in txs:
            self.net.seen_objects.add(tx.txid)
        for start in range(0, len(items), 1_000):  # refused ones (known, spent since) are simply not added
            await self.net.write(self.net.node.submit_txs, items[start:start + 1_000])

    # -- catching up -----------------------------------------------------------------------
    async def _sync_from(self, peer: Peer) -> None:
        self.syncing_from = peer.address
        head_at_start = peer.status.head if peer.status else b""
        try:
            start = await self._find_fork(peer)
            if start is not None:
                await self._fetch_from(peer, start)
        except _BadResponse as e:
            await self.net.penalize(peer, "response", str(e))
        except RequestFailed:
            pass
        finally:
            self.syncing_from = None
            await self.net.refresh_summary()
            if peer.node_id and self.is_ahead(peer) and peer.status.head == head_at_start:
                self._tried[peer.node_id] = head_at_start  # nothing more to take until its head moves

    async def _known(self, block_hash: bytes) -> bool:
        return await self.net.read(self.net.node.is_known_block, block_hash)

    async def _find_fork(self, peer: Peer) -> int | None:
        """The height after the last block both chains hold (probing back by doubling steps)."""
        ours = self.net.summary
        floor = ours["finalized_height"]
        height, step = min(ours["height"], peer.status.head_height), 1
        while height > floor:
            got = await self.request(peer, m.BLOCKS_BY_RANGE, m.encode_range(height, 1))
            if not got:
                return None
            if await self._known(self._decode(got[0]).hash):
                break
            height, step = max(floor, height - step), step * 2
        return height + 1

    def _decode(self, raw: bytes) -> Block:
        try:
            return Block.decode(raw)
        except DecodeError as e:
            raise _BadResponse(f"answered a block that does not decode ({e.code})") from None

    async def _fetch_from(self, peer: Peer, start: int) -> None:
        fetch = lambda s: self.request(peer, m.BLOCKS_BY_RANGE, m.encode_range(s, m.MAX_RANGE))  # noqa: E731
        nxt = asyncio.ensure_future(fetch(start))
        try:
            while True:
                raws = await nxt
                if not raws:
                    return
                start += len(raws)
                target = peer.status.head_height if peer.status else 0
                nxt = asyncio.ensure_future(fetch(start)) if start <= target else None
                blocks = [self._decode(raw) for raw in raws]
                if not await self._accept_all(peer, blocks) or nxt is None:
                    return
        except _BadResponse as e:
            await self.net.penalize(peer, "response", str(e))
        finally:
            if nxt is not None and not nxt.done():
                nxt.cancel()

    async def _accept_all(self, peer: Peer, blocks: list[Block]) -> bool:
        """Accept synced blocks in order (they are not relayed: gossip carries new blocks); False stops."""
        for block in blocks:
            self.net.seen_objects.add(block.hash)
            try:
                await self.net.write(self.net.node.accept_block, block)
                self.synced_blocks += 1
            except InvalidBlock as e:
                if gossip.classify_block_error(e) == gossip.REJECT:
                    reason = (f"synced invalid block {block.hash.hex()[:16]}… at height {block.height} "
                              f"({e.code})")
                    await self.net.penalize(peer, "response", reason)
                elif e.code == "finalized-conflict":
                    await self.refuse_conflict(peer)
                return False
            except ChaintopError:
                return False
        return True

    async def refuse_conflict(self, peer: Peer, status: m.Status | None = None) -> None:
        """Ethereum's answer to a peer whose finalized checkpoint is on another branch than ours (each side
        of a long partition finalized alone): Goodbye (irrelevant network), no redial; `peers` says why."""
        status = status or peer.status
        await self.net.refresh_summary()
        ours = f"epoch {self.net.summary['finalized_epoch']}, {self.net.summary['finalized_root'].hex()[:8]}…"
        theirs = f"epoch {status.finalized_epoch}, {status.finalized_root.hex()[:8]}…" if status else "?"
        why = (f"its finalized checkpoint ({theirs}) and this node's ({ours}) are on different branches: "
               "finalized blocks never revert, so the two chains can never join")
        self.net.record_conflict(peer, why)
        bye = f"{m.CONFLICT_TAG} your finalized checkpoint ({theirs}) and mine ({ours}) are on other branches"
        await self.net.send(peer, m.Goodbye(m.GOODBYE_IRRELEVANT, bye))
        joined, reason = peer.active, f"finality-conflict: {why}"
        self.net.drop(peer, reason, hangup=True)  # says PeerLeft if it had joined
        if not joined:
            self.net.node.events.emit(ev.PeerLeft(peer.node_id.hex(), peer.address, reason))

    def fetch_ancestors(self, peer: Peer, orphan: Block) -> None:
        self._spawn(self._fetch_ancestors(peer, orphan))

    async def _fetch_ancestors(self, peer: Peer, orphan: Block) -> None:
        chain = [orphan]
        parent = orphan.header.parent
        try:
            for _ in range(MAX_ANCESTORS):
                if await self._known(parent):
                    break
                got = await self.request(peer, m.BLOCKS_BY_ROOT, m.encode_roots([parent]))
                if not got:
                    return
                block = self._decode(got[0])
                if block.hash != parent:
                    raise _BadResponse("answered BlocksByRoot with another block")
                chain.append(block)
                parent = block.header.parent
            else:
                self.maybe_sync(peer, force=True)
                return
            await self._accept_all(peer, list(reversed(chain)))
            await self.net.refresh_summary()
        except _BadResponse as e:
            await self.net.penalize(peer, "response", str(e))
        except RequestFailed:
            pass


class _BadResponse(Exception):
    pass
