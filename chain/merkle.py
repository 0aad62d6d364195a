"""RFC 6962 / RFC 9162 Merkle tree hashes, inclusion proofs and their verification."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the prefix keeps a leaf from ever passing for an inner node."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _next_level(level: list[bytes]) -> list[bytes]:
    # An unpaired last node moves up unchanged; that, not Bitcoin's duplication of
    # it, is what splitting at the largest power of two below n produces.
    paired = [_node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        paired.append(level[-1])
    return paired


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 section 2.1 over raw leaf data, in O(n) hashes."""
    if not leaves:
        return EMPTY_ROOT
    level = [leaf_hash(leaf) for leaf in leaves]
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) of RFC 6962 section 2.1.1: sibling hashes from the leaf upward."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} out of range for a tree of {len(leaves)} leaves")
    proof: list[bytes] = []
    level = [leaf_hash(leaf) for leaf in leaves]
    while len(level) > 1:
        sibling = index ^ 1
        # A promoted last node has no sibling at this level, so contributes nothing.
        if sibling < len(level):
            proof.append(level[sibling])
        level = _next_level(level)
        index >>= 1
    return proof


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether `proof` shows raw `leaf` at `index` of a `size`-leaf tree with this root.

    Follows RFC 9162 section 2.1.3.2 step by step; any malformed input yields False
    rather than an exception, since proofs arrive from untrusted peers.
    """
    try:
        if index < 0 or index >= size:
            return False
        fn, sn = index, size - 1
        r = leaf_hash(leaf)
        for p in proof:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                r = _node_hash(p, r)
                # fn == sn with fn even: p covers everything left of fn's subtree, so climb
                # past the levels where fn's node was promoted without a right sibling.
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
            else:
                r = _node_hash(r, p)
            fn >>= 1
            sn >>= 1
        return sn == 0 and r == root
    except TypeError:
        return False
