"""The energy ledger: CPU seconds the OS counted, recorded per block in the store, for the PoW search
(worker processes) and validator duties (PoS), and joules from the watts-per-core model."""

from __future__ import annotations

import pytest

from chain.block import ENGINE_POW, HEADER_VERSION, Header, PowSeal
from chain.consensus import pow as pow_rules
from chain.errors import InvalidBlock, UsageError
from node.energy import EnergyRecord
from node.miner import Miner
from tests.functional.pos_helpers import (  # noqa: F401
    close_pos_nodes,
    committee,
    drive_slots,
    honest_vote_data,
    key_of,
    mine,
    pos_node,
    pow_node,
    sign_vote,
)


def test_merge_chain_records_pow_and_pos_energy_per_block(tmp_path):
    merge_height = 9
    node = pow_node(tmp_path, "merge", "merge-devnet", merge_height=merge_height)
    mine(node, merge_height - 1)
    slot = merge_height - 1
    pos_blocks = drive_slots(node, slot + 1, slot + 12)
    head = node.chain.head.height
    for h in range(1, head + 1):  # every block this node connected has a record, in the same batch
        raw = node.store.get_energy(node.chain.get_hash_at(h))
        assert raw is not None and EnergyRecord.decode(raw).measured, h
    e = node.energy(watts=10)
    assert e["since"] == 1 and e["model"]["watts_per_core"] == 10
    assert e["pow"]["blocks"] == merge_height - 1 and e["pos"]["blocks"] == len(pos_blocks) > 0
    # the PoS blocks' cost is the validators' duties (proposing, signing, verifying votes): measured, not 0
    assert e["pos"]["cpu_seconds"] > 0 and e["pow"]["votes_cpu_seconds"] > 0
    assert e["pos"]["joules"] == pytest.approx(e["pos"]["cpu_seconds"] * 10)
    assert e["pos"]["joules_per_block"] == pytest.approx(e["pos"]["joules"] / len(pos_blocks))
    assert node.energy(watts=20)["pos"]["joules"] == pytest.approx(2 * e["pos"]["joules"])
    assert [r["height"] for r in e["recent"]][-1] == head
    detail = node.block(head)["energy"]
    assert detail["measured"] and detail["pos_cpu_seconds"] > 0 and detail["pow_cpu_seconds"] == 0
    assert e["reduction"]["compared"] == "PoS blocks against PoW blocks"
    with pytest.raises(UsageError) as info:
        node.energy(watts=0)
    assert info.value.code == "bad-watts"


def test_worker_processes_report_their_cpu_and_rates():
    bits = pow_rules.target_to_bits(2**256 // 150_000)  # ~150k hashes: a short search in a real worker
    header = Header(HEADER_VERSION, 1, bytes(32), 1_800_000_000, bytes(32), bytes(32), bytes(32), bytes(20),
                    ENGINE_POW, PowSeal(bits, 0))
    seen = []
    with Miner(1, inline_below=0) as miner:
        found = miner.mine(header, progress=seen.append, report_every=0.0)
        spent = miner.take_cpu()
        assert miner.take_cpu() == 0.0  # taken once
    assert found is not None and pow_rules.check_proof_of_work(found.hash, bits, 2**256 - 1)
    assert spent > 0  # the worker's own process time, as the OS counts it
    assert seen and all(len(p.worker_rates) == 1 for p in seen)
    assert seen[-1].worker_rates[0] > 0


def test_checking_a_gossiped_vote_is_counted_as_a_validator_duty(tmp_path):
    node = pos_node(tmp_path)
    drive_slots(node, 1, 2)
    data = honest_vote_data(node, 2)
    member = committee(node, 2)[0]
    node.validator.pool.clear()  # the node's own validators voted already: the gossiped copy is new to it
    before = node.energy_meter.pos_pending
    assert node.accept_vote(sign_vote(node, member, data)) is True
    after_good = node.energy_meter.pos_pending
    assert after_good > before  # the signature check on the network thread's behalf cost CPU: measured
    forged = sign_vote(node, member, data, key=key_of(node, (member + 1) % 16))
    with pytest.raises(InvalidBlock):
        node.accept_vote(forged)  # rejected, but checking it cost CPU too
    assert node.energy_meter.pos_pending > after_good
