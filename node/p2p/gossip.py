"""Gossip topics and validation results: what is relayed, what is IGNOREd, what is REJECTed.

A topic names the chain id and the genesis hash, so two chains never mix on one socket:
/chaintop/<chain id>/<genesis hash prefix>/<blocks|transactions|votes|evidence>. Every object is validated by
the node before it is relayed (node/p2p/service.py); the result follows the consensus p2p spec:
ACCEPT (relay), IGNORE (no relay, no penalty: duplicate, unknown parent, early, policy) or REJECT (no relay,
the sender's score falls).
"""

from __future__ import annotations

from collections import OrderedDict

from chain import crypto
from chain.errors import ChaintopError, DecodeError, InvalidBlock

BLOCKS, TXS, VOTES, EVIDENCE = "blocks", "transactions", "votes", "evidence"
TOPIC_KINDS = (BLOCKS, TXS, VOTES, EVIDENCE)
ACCEPT, IGNORE, REJECT = "accept", "ignore", "reject"

# Block rule codes that say nothing about the sender's honesty: it may know a parent we lack, its clock may
# be ahead, a vote names a block we have not seen, or a finalized checkpoint of ours rules the branch out.
IGNORE_BLOCK_CODES = frozenset({"unknown-parent", "time-too-new", "slot-in-future", "finalized-conflict",
                                "attestation-unknown-block", "bad-ancestor", "known-invalid",
                                # our operator set a block aside (invalidate_block): the sender did no wrong
                                "parent-invalidated", "known-invalidated"})
# Transaction codes that are about our pool or our head (state), not about the transaction being forged.
REJECT_TX_CODES = frozenset({"bad-signature", "wrong-chain-id", "bad-encoding", "bad-fee", "bad-payload",
                             "bad-amount", "unknown-kind", "wrong-key", "bad-stake-proof", "zero-amount"})


def topic_name(chain_id: int, genesis: bytes, kind: str) -> str:
    return f"/chaintop/{chain_id:x}/{genesis[:8].hex()}/{kind}"


def topic_kind(topic: str, chain_id: int, genesis: bytes) -> str | None:
    """The kind of one of our topics, or None: another chain's topic (or garbage)."""
    prefix = topic_name(chain_id, genesis, "")
    if not topic.startswith(prefix):
        return None
    kind = topic[len(prefix):]
    return kind if kind in TOPIC_KINDS else None


def classify_block_error(e: ChaintopError) -> str:
    if isinstance(e, DecodeError):
        return REJECT
    return IGNORE if isinstance(e, InvalidBlock) and e.code in IGNORE_BLOCK_CODES else REJECT


def message_id(topic: str, data: bytes) -> bytes:
    return crypto.sha256(topic.encode() + b"\0" + data)[:20]


class SeenCache:
    """Message ids seen lately (bounded, oldest forgotten first): each object is handled and relayed once."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._ids: OrderedDict[bytes, None] = OrderedDict()

    def add(self, mid: bytes) -> bool:
        """Record `mid`; False if it was already there."""
        if mid in self._ids:
            return False
        self._ids[mid] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True

    def forget(self, mid: bytes) -> None:
        self._ids.pop(mid, None)

    def __contains__(self, mid: bytes) -> bool:
        return mid in self._ids
