"""Recent forks as a small tree: the fork point, the branch that won, the branch a reorg left behind."""

from __future__ import annotations

from rich.text import Text

from tui import fmt
from tui.widgets.panel import ViewPanel


def _chain(blocks: list[dict]) -> str:
    return " ─ ".join(f"#{b['height']} {fmt.short(b['hash'], 8)} ({b['miner']})" for b in blocks) or "…"


def render_fork_tree(view: dict) -> Text:
    """view: reorgs (count), forks newest first: {kind: reorg, fork: {height, hash}, main: [block], stale:
    [block], depth, returned} or {kind: side, height, hash, peer, miner}; a block is {height, hash, miner};
    sides: side blocks (stored off the main chain) seen in all."""
    forks = view.get("forks", [])
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(f"{view.get('reorgs', 0)} reorg(s), {view.get('sides', 0)} side block(s) since this TUI opened"
             " · a reorg swaps the branch the node follows for a heavier one\n", style="dim")
    if not forks:
        t.append("no fork seen yet: every block so far extended the chain this node follows", style="dim")
        return t
    for f in forks:
        if f["kind"] == "side":
            by = f" by {f['miner']}" if f.get("miner", "?") != "?" else ""
            t.append(f"#{f['height']} {fmt.short(f['hash'], 8)}{by} from {f['peer']}: ", style="yellow")
            t.append("a competing block, stored; its branch is not heavier (yet)\n")
            continue
        fork = f["fork"]
        where = f"#{fork['height']} {fmt.short(fork['hash'], 8)}" if fork else "(fork point not seen)"
        pad = " " * len(where)
        t.append(where, style="bold")
        t.append(" ┬─ ")
        t.append(_chain(f["main"]), style="green")
        t.append("  main chain\n")
        t.append(pad + " └─ ")
        t.append(_chain(f["stale"]), style="red")
        t.append(f"  reverted: depth {f['depth']}, {f['returned']} tx back to the mempool\n")
    t.rstrip()
    return t


class ForkTree(ViewPanel):
    render_view = staticmethod(render_fork_tree)
