"""Network (8): the peers, blocks as they arrive from them, reorgs, a small fork tree; p partitions/heals."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from tui.model import NET
from tui.screens.base import ChainScreen
from tui.widgets.fork_tree import ForkTree
from tui.widgets.peer_table import PeerTable
from tui.widgets.received_blocks import ReceivedBlocks

PEERS_EVERY = 2.0  # seconds between peers() reads while the screen is open (as often as peers send Status)


def miner_of(net, labels_name, h: str) -> str:
    """Who produced a block, as far as this node knows: itself, else a PoS block's proposer (the validator
    index: whoever it pays, a validator proposed it), else its beneficiary's label or address."""
    entry = net.blocks.get(h)
    if entry is None:
        return "?"
    if h in net.mined_here:
        return "this node"
    if entry.get("proposer") is not None:
        return f"validator {entry['proposer']}"
    return labels_name(entry["beneficiary"]) if entry["beneficiary"] else "?"


def network_views(model) -> tuple[dict | None, dict, dict]:
    """(peers, received, forks) views from the live model, joined with who mined each block."""
    net = model.net

    def block(h: str) -> dict:
        entry = net.blocks.get(h, {})
        return {"height": entry.get("height", "?"), "hash": h, "miner": miner_of(net, model.name, h)}

    received = {"rows": [{**r, "miner": miner_of(net, model.name, r["hash"])} for r in net.received]}
    forks = []
    for f in net.forks:
        if f["kind"] == "side":
            forks.append({**f, "miner": miner_of(net, model.name, f["hash"])})
            continue
        stale = [block(h) for h in f["stale"]]
        # the fork point: a block seen connecting, or the parent of the first reverted block
        height = (net.blocks.get(f["fork_point"]) or {}).get("height")
        if height is None and stale and isinstance(stale[0]["height"], int):
            height = stale[0]["height"] - 1
        forks.append({"kind": "reorg", "depth": f["depth"], "returned": f["returned"],
                      "fork": {"height": height, "hash": f["fork_point"]} if height is not None else None,
                      "main": [block(h) for h in net.branch(f["new_head"], f["fork_point"])],
                      "stale": stale[-6:]})
    won = {b["hash"] for f in forks if f["kind"] == "reorg" for b in f["main"]}
    forks = [f for f in forks if f["kind"] == "reorg" or f["hash"] not in won]  # a side block that later won
    return net.peers, received, {"reorgs": net.reorgs, "sides": net.sides, "forks": forks}


class NetworkScreen(ChainScreen):
    TAB = "network"
    BINDINGS = [
        Binding("p", "partition", "Partition/heal", id="network.partition"),
        Binding("a", "attack", "51% attack", id="network.attack"),
    ]

    def compose_body(self) -> ComposeResult:
        yield PeerTable("peers", id="net-peers")
        yield ReceivedBlocks("blocks received from peers (delay: from its origin's publication to here)",
                             id="net-received")
        yield ForkTree("forks and reorgs", id="net-forks")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(PEERS_EVERY, self._poll_peers)

    def reload(self) -> None:
        self._poll_peers()
        self._draw()

    def _poll_peers(self) -> None:
        if self.is_current and self.backend.is_networked:
            self.call(self.backend.peers, done=self._got_peers, group="net-peers")

    def _got_peers(self, view: dict) -> None:
        self.model.net.load_peers(view)
        self._draw()

    def _draw(self) -> None:
        peers, received, forks = network_views(self.model)
        self.query_one(PeerTable).show(peers)
        self.query_one(ReceivedBlocks).show(received)
        self.query_one(ForkTree).show(forks)

    def update_live(self, topics: frozenset[str]) -> None:
        if NET in topics and self.due("net", 0.25):
            self._draw()

    def action_attack(self) -> None:
        """The 51% attack playground with this node as the attacker (chaintop attack majority)."""
        self.app.actions.attack()

    def action_partition(self) -> None:
        """Partition this node, or heal it if it is partitioned (the echo line shows which command)."""
        peers = self.model.net.peers
        if peers is not None and peers.get("partitioned"):
            self.app.actions.heal(done=lambda _r: self._poll_peers())
        else:
            self.app.actions.partition(done=lambda _r: self._poll_peers())
