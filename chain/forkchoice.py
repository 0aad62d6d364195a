"""LMD-GHOST: from the justified checkpoint, follow the child whose subtree holds the most stake in latest
votes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from chain.abc import STATUS_VALID, BlockIndex


def compute_weights(start: BlockIndex, votes: Mapping[int, bytes], balances: Mapping[int, int],
                    get_index: Callable[[bytes], BlockIndex | None]) -> dict[bytes, int]:
    """Each validator's effective balance counts for its latest vote's block and every ancestor down to
    `start`."""
    weights: dict[bytes, int] = {}
    for validator, root in votes.items():
        stake = balances.get(validator, 0)
        if not stake:
            continue
        path = []
        idx = get_index(root)
        while idx is not None and idx.height > start.height:
            path.append(idx.hash)
            idx = get_index(idx.parent)
        if idx is None or idx.hash != start.hash:
            continue  # a vote for a block off the justified checkpoint's subtree counts for nothing
        for h in path:
            weights[h] = weights.get(h, 0) + stake
    return weights


def get_head(start: BlockIndex, children: Callable[[bytes], Iterable[bytes]], votes: Mapping[int, bytes],
             balances: Mapping[int, int], get_index: Callable[[bytes], BlockIndex | None]) -> BlockIndex:
    """phase0's get_head: at each step the heaviest child, ties broken by the larger block hash."""
    weights = compute_weights(start, votes, balances, get_index)
    head = start
    while True:
        indexed = (get_index(h) for h in children(head.hash))
        # neither invalid nor set aside by the operator (invalidated)
        kids = [k for k in indexed if k is not None and k.status == STATUS_VALID]
        if not kids:
            return head
        head = max(kids, key=lambda k: (weights.get(k.hash, 0), k.hash))
