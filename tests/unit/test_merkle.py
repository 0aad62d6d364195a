"""RFC 6962 Merkle tree checks against the transparency-dev/merkle reference vectors."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.merkle import inclusion_proof, leaf_hash, merkle_root, verify_inclusion

# transparency-dev/merkle testonly/constants.go: LeafInputs(), RootHashes(), NodeHashes()
# (the same data as Certificate Transparency's and google/trillian's merkle test vectors).
LEAVES = [
    bytes.fromhex(""),
    bytes.fromhex("00"),
    bytes.fromhex("10"),
    bytes.fromhex("2021"),
    bytes.fromhex("3031"),
    bytes.fromhex("40414243"),
    bytes.fromhex("5051525354555657"),
    bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]

# RootHashes(), indexed by tree size starting from the empty tree.
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# NodeHashes()[0]: the leaf hashes of LEAVES.
LEAF_HASHES = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
]

# transparency-dev/merkle proof/verify_test.go: inclusionProofs, converted from its
# 1-based leaf numbers to 0-based indexes: (index, size, proof).
INCLUSION_PROOFS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# verify_test.go's sha256SomeHash, an arbitrary 32-byte value.
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _reference_mth(hashes: list[bytes]) -> bytes:
    """RFC 6962 MTH written as the RFC's own recursion, to cross-check the iterative one."""
    n = len(hashes)
    if n == 1:
        return hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _reference_mth(hashes[:k]) + _reference_mth(hashes[k:])).digest()


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_roots_for_every_prefix(size: int) -> None:
    assert merkle_root(LEAVES[:size]).hex() == ROOTS[size]


def test_leaf_hashes() -> None:
    assert [leaf_hash(leaf).hex() for leaf in LEAVES] == LEAF_HASHES


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_published_inclusion_proofs(index: int, size: int, proof: list[str]) -> None:
    assert [p.hex() for p in inclusion_proof(LEAVES[:size], index)] == proof
    raw = [bytes.fromhex(p) for p in proof]
    root = bytes.fromhex(ROOTS[size])
    assert verify_inclusion(LEAVES[index], index, size, raw, root)


def _corruptions(index: int, size: int, proof: list[bytes], root: bytes) -> list[tuple]:
    """verify_test.go's corruptInclusionProof probes, each of which must be rejected."""
    probes = [
        (index - 1, size, root, proof),
        (index + 1, size, root, proof),
        (index ^ 2, size, root, proof),
        (index, size * 2, root, proof),
        (index, size // 2, root, proof),
        (index, size, bytes.fromhex(ROOTS[0]), proof),
        (index, size, SOME_HASH, proof),
        (index, size, root, proof + [b""]),
        (index, size, root, proof + [root]),
        (index, size, root, [b""] + proof),
        (index, size, root, [root] + proof),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 8]) + wrong[i][1:]
        probes.append((index, size, root, wrong))
    if proof:
        probes.append((index, size, root, proof[:-1]))
    if len(proof) > 1:
        probes.append((index, size, root, [SOME_HASH, proof[0]] + proof[1:]))
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_corrupted_proofs_fail(index: int, size: int, proof: list[str]) -> None:
    raw = [bytes.fromhex(p) for p in proof]
    root = bytes.fromhex(ROOTS[size])
    for i, s, r, p in _corruptions(index, size, raw, root):
        assert not verify_inclusion(LEAVES[index], i, s, p, r), (i, s, p)
    assert not verify_inclusion(b"WrongLeaf", index, size, raw, root)


def test_single_entry_tree() -> None:
    root = merkle_root([b"data"])
    assert root == leaf_hash(b"data")
    assert verify_inclusion(b"data", 0, 1, [], root)
    assert not verify_inclusion(b"data", 0, 1, [], b"")


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (-1, 1), (1, 1)])
def test_index_outside_tree_is_false(index: int, size: int) -> None:
    assert not verify_inclusion(b"", index, size, [], bytes.fromhex(ROOTS[0]))
    assert not verify_inclusion(b"", index, size, [], leaf_hash(b""))


def test_malformed_input_never_raises() -> None:
    root = bytes.fromhex(ROOTS[8])
    assert not verify_inclusion(LEAVES[0], 0, 8, ["not bytes"], root)  # type: ignore[list-item]
    assert not verify_inclusion(LEAVES[0], 0, 8, [None, None, None], root)  # type: ignore[list-item]


def test_inclusion_proof_rejects_out_of_range_index() -> None:
    with pytest.raises(ValueError):
        inclusion_proof(LEAVES, 8)
    with pytest.raises(ValueError):
        inclusion_proof([], 0)


def test_not_bitcoins_duplicate_last_tree() -> None:
    # Bitcoin would hash node(h2, h2) for three leaves; RFC 6962 promotes h2 unchanged.
    h = [leaf_hash(leaf) for leaf in LEAVES[:3]]
    n01 = hashlib.sha256(b"\x01" + h[0] + h[1]).digest()
    assert merkle_root(LEAVES[:3]) == hashlib.sha256(b"\x01" + n01 + h[2]).digest()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 100, 1000, 1023, 1025, 3000])
def test_iterative_root_matches_rfc_recursion(size: int) -> None:
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    assert merkle_root(leaves) == _reference_mth([leaf_hash(x) for x in leaves])


@settings(max_examples=60, deadline=None)
@given(
    leaves=st.lists(st.binary(max_size=12), min_size=1, max_size=40),
    data=st.data(),
)
def test_every_proof_verifies_and_a_flipped_bit_fails(leaves: list[bytes], data: st.DataObject) -> None:
    size = len(leaves)
    root = merkle_root(leaves)
    for index in range(size):
        proof = inclusion_proof(leaves, index)
        assert verify_inclusion(leaves[index], index, size, proof, root)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = inclusion_proof(leaves, index)
    target = data.draw(st.integers(min_value=0, max_value=len(proof)))  # len(proof) means the root
    bit = data.draw(st.integers(min_value=0, max_value=255))
    if target == len(proof):
        bad_root = (int.from_bytes(root, "big") ^ (1 << bit)).to_bytes(32, "big")
        assert not verify_inclusion(leaves[index], index, size, proof, bad_root)
    else:
        bad = list(proof)
        bad[target] = (int.from_bytes(bad[target], "big") ^ (1 << bit)).to_bytes(32, "big")
        assert not verify_inclusion(leaves[index], index, size, bad, root)
