"""What the Network screen shows, rolled forward from node events: peers, blocks received, reorgs, forks.

Pure (no Textual, no node calls). The peers view is the node's own `peers()` answer, polled by the screen."""

from __future__ import annotations

from collections import deque

RECEIVED = 50  # blocks received by gossip kept for the screen
FORKS = 8  # side branches kept for the fork tree
KNOWN = 512  # blocks remembered by hash (parent, miner): enough to draw branches a few dozen deep


class NetModel:
    def __init__(self) -> None:
        self.peers: dict | None = None  # the node's peers() view; None: not on a network
        self.received: deque[dict] = deque(maxlen=RECEIVED)  # newest first
        self.forks: deque[dict] = deque(maxlen=FORKS)  # newest first
        # hash -> height, parent, beneficiary, proposer (PoS), origin (insertion-ordered)
        self.blocks: dict[str, dict] = {}
        self.mined_here: set[str] = set()
        self.reorgs = 0
        self.sides = 0  # blocks received and stored off the main chain (competing, stale until they win)

    def load_peers(self, view: dict | None) -> None:
        self.peers = view

    def _remember(self, h: str, **fields) -> dict:
        entry = self.blocks.setdefault(h, {"height": None, "parent": None, "beneficiary": "",
                                           "proposer": None, "origin": None})
        entry.update({k: v for k, v in fields.items() if v is not None})
        while len(self.blocks) > KNOWN:
            del self.blocks[next(iter(self.blocks))]
        return entry

    def on_block_connected(self, e) -> None:
        self._remember(e.hash, height=e.height, parent=e.parent, beneficiary=e.beneficiary or None,
                       proposer=e.proposer)

    def on_block_mined(self, e) -> None:
        self._remember(e.hash, height=e.height, origin="this node")
        self.mined_here.add(e.hash)

    def on_block_received(self, e) -> None:
        self._remember(e.hash, height=e.height, origin=e.peer, beneficiary=e.beneficiary or None,
                       proposer=e.proposer)
        self.received.appendleft({"height": e.height, "hash": e.hash, "peer": e.peer, "delay_ms": e.delay_ms,
                                  "status": e.status})
        if e.status == "side":  # stored off the main chain: a competing block, its branch not (yet) heavier
            self.sides += 1
            self.forks.appendleft({"kind": "side", "height": e.height, "hash": e.hash, "peer": e.peer})

    def on_reorg(self, e) -> None:
        """The old branch is walked back `depth` blocks from the old head (blocks seen connecting earlier);
        the new branch is drawn later from the blocks connected after this event."""
        self.reorgs += 1
        stale, h = [], e.old_head
        for _ in range(e.depth):
            entry = self.blocks.get(h)
            if entry is None:
                break
            stale.append(h)
            h = entry["parent"]
        self.forks.appendleft({"kind": "reorg", "fork_point": h, "old_head": e.old_head,
                               "new_head": e.new_head, "depth": e.depth, "stale": stale[::-1],
                               "returned": len(e.returned_txs)})

    def branch(self, head: str, stop: str | None, limit: int = 6) -> list[str]:
        """Hashes from just above `stop` up to `head`, oldest first (as far as the remembered blocks go)."""
        out, h = [], head
        while h and h != stop and h in self.blocks and len(out) < 64:
            out.append(h)
            h = self.blocks[h]["parent"]
        return out[::-1][-limit:]
