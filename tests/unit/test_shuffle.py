"""Swap-or-not shuffle checks against consensus-spec-tests shuffling cases copied by client repositories."""

from __future__ import annotations

import json
from hashlib import sha256
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.consensus.shuffle import MAX_INDEX_COUNT, compute_shuffled_index, shuffle_list

# Every expected value in this file comes from tests/vectors/shuffling.json, whose entries name
# the repository and path they were copied from; none is computed by this project.
VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "shuffling.json").read_text())
MAPPING_VECTORS = VECTORS["mapping_vectors"]
LIST_VECTORS = VECTORS["list_vectors"]

SEED = sha256(b"chaintop shuffle tests").digest()


def _id(v: dict) -> str:
    return f"{v['seed'][2:10]}-n{v['count']}-r{v['rounds']}"


def test_vector_file_has_the_cases_it_promises() -> None:
    # At least three real mappings with count > 1, and the count 0 / 1 edges.
    assert sum(1 for v in MAPPING_VECTORS if v["count"] > 1 and "mapping" in v) >= 3
    assert {0, 1} <= {v["count"] for v in LIST_VECTORS}
    for v in MAPPING_VECTORS + LIST_VECTORS:
        assert v["source"]["repository"] and v["source"]["path"]


@pytest.mark.parametrize("vector", MAPPING_VECTORS, ids=_id)
def test_compute_shuffled_index_matches_mapping(vector: dict) -> None:
    seed = bytes.fromhex(vector["seed"][2:])
    expected = vector.get("mapping") or vector["mapping_prefix"]
    got = [compute_shuffled_index(i, vector["count"], seed, vector["rounds"]) for i in range(len(expected))]
    assert got == expected


@pytest.mark.parametrize("vector", MAPPING_VECTORS, ids=_id)
def test_shuffle_list_matches_mapping(vector: dict) -> None:
    # shuffle_list(range(n))[i] == range(n)[compute_shuffled_index(i)] == mapping[i].
    seed = bytes.fromhex(vector["seed"][2:])
    expected = vector.get("mapping") or vector["mapping_prefix"]
    got = shuffle_list(list(range(vector["count"])), seed, vector["rounds"])
    assert got[: len(expected)] == expected


@pytest.mark.parametrize("vector", LIST_VECTORS, ids=_id)
def test_list_vectors(vector: dict) -> None:
    # Generator format: output[compute_shuffled_index(i)] == input[i], i.e. output is input moved
    # by the permutation, so shuffling output (which reads through the permutation) gives input back.
    seed = bytes.fromhex(vector["seed"][2:])
    n, given_input, output = vector["count"], vector["input"], vector["output"]
    assert len(given_input) == len(output) == n
    for i in range(n):
        assert output[compute_shuffled_index(i, n, seed, vector["rounds"])] == given_input[i]
    assert shuffle_list(output, seed, vector["rounds"]) == given_input


def test_empty_and_single_lists() -> None:
    assert shuffle_list([], SEED) == []
    assert shuffle_list([7], SEED) == [7]
    assert compute_shuffled_index(0, 1, SEED) == 0


@pytest.mark.parametrize(
    ("index", "count", "seed", "rounds"),
    [
        (0, 0, SEED, 90),  # empty range: no index exists
        (5, 5, SEED, 90),  # index == count
        (6, 5, SEED, 90),
        (-1, 5, SEED, 90),
        (0, MAX_INDEX_COUNT + 1, SEED, 90),
        (0, 5, SEED[:31], 90),
        (0, 5, SEED + b"\x00", 90),
        (0, 5, SEED, 257),  # the round number is a uint8
        (0, 5, SEED, -1),
    ],
)
def test_compute_shuffled_index_rejects(index: int, count: int, seed: bytes, rounds: int) -> None:
    with pytest.raises(ValueError):
        compute_shuffled_index(index, count, seed, rounds)


def test_shuffle_list_rejects_bad_seed_and_rounds() -> None:
    with pytest.raises(ValueError):
        shuffle_list([1, 2, 3], SEED[:16])
    with pytest.raises(ValueError):
        shuffle_list([1, 2, 3], SEED, rounds=300)


def test_largest_index_count_is_accepted() -> None:
    assert 0 <= compute_shuffled_index(MAX_INDEX_COUNT - 1, MAX_INDEX_COUNT, SEED) < MAX_INDEX_COUNT


def test_zero_rounds_is_the_identity() -> None:
    assert shuffle_list(list(range(50)), SEED, rounds=0) == list(range(50))
    assert compute_shuffled_index(17, 50, SEED, rounds=0) == 17


def test_shuffle_list_leaves_its_input_alone() -> None:
    values = list(range(300))
    shuffle_list(values, SEED)
    assert values == list(range(300))


@pytest.mark.parametrize("n", [2, 255, 256, 257, 511, 512, 513])
def test_chunk_boundaries(n: int) -> None:
    # Source hashes cover 256 positions each; lengths around the edges exercise the last chunk.
    values = [1000 + 3 * i for i in range(n)]
    assert shuffle_list(values, SEED) == [values[compute_shuffled_index(i, n, SEED)] for i in range(n)]


@settings(max_examples=40, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), n=st.integers(1, 600), data=st.data())
def test_shuffle_list_agrees_with_compute_shuffled_index(seed: bytes, n: int, data: st.DataObject) -> None:
    values = data.draw(st.lists(st.integers(0, 2**64 - 1), min_size=n, max_size=n, unique=True))
    result = shuffle_list(values, seed)
    assert result == [values[compute_shuffled_index(i, n, seed)] for i in range(n)]
    assert sorted(result) == sorted(values)


@settings(max_examples=60, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), n=st.integers(1, 600), rounds=st.integers(0, 12))
def test_any_round_count_agrees_and_permutes(seed: bytes, n: int, rounds: int) -> None:
    result = shuffle_list(list(range(n)), seed, rounds)
    assert sorted(result) == list(range(n))
    for i in range(0, n, max(1, n // 25)):
        assert result[i] == compute_shuffled_index(i, n, seed, rounds)
