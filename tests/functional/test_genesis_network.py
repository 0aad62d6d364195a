"""Genesis commits to the chain's parameters (issue 9 #15): networks that differ in any rule have different
genesis hashes, and importing another network's blocks says wrong-network, not "parent not known"."""

from __future__ import annotations

import pytest

from chain.consensus.beacon import EMPTY_OPS_ROOT
from chain.errors import UsageError
from chain.genesis import compute_params_commitment, make_genesis
from chain.params import PRESETS, with_overrides
from node.node import Node
from tests.functional.test_rpc import cli


def _genesis(network: str, **overrides) -> bytes:
    params = with_overrides(PRESETS[network], **overrides)
    if params.genesis_time == 0:
        params = with_overrides(params, genesis_time=1_767_225_600)
    return make_genesis(params)[0].hash


def test_every_preset_has_its_own_genesis():
    hashes = {name: _genesis(name) for name in PRESETS}
    assert len(set(hashes.values())) == len(PRESETS), hashes


@pytest.mark.parametrize("change", [{"merge_height": 10}, {"slot_time": 0.5}, {"target_spacing": 3},
                                    {"retarget_interval": 40}, {"genesis_validators": 8}])
def test_any_consensus_parameter_changes_genesis(change):
    assert _genesis("merge-devnet", **change) != _genesis("merge-devnet")


def test_relay_policy_does_not_change_genesis():
    assert _genesis("devnet", min_fee=5_000, mempool_max_bytes=1_000) == _genesis("devnet")


def test_the_ops_root_of_genesis_is_the_params_commitment():
    params = PRESETS["hybrid-devnet"]
    header = make_genesis(params)[0].header
    assert header.ops_root == compute_params_commitment(params) != EMPTY_OPS_ROOT


def _chain_with_blocks(path, network: str, blocks: int = 2, **overrides) -> None:
    with Node.create(path, network, **overrides) as node:
        node.mine(blocks)
        assert node.verify()["ok"], node.verify()["errors"]


def test_import_from_a_merge_devnet_with_another_merge_height_is_wrong_network(tmp_path):
    _chain_with_blocks(tmp_path / "a", "merge-devnet", merge_height=10)
    with Node.open(tmp_path / "a") as a:
        a.export_blocks(str(tmp_path / "a.blk"))
    with Node.create(tmp_path / "b", "merge-devnet") as b:
        assert b.params.chain_id == a.params.chain_id
        with pytest.raises(UsageError) as e:
            b.import_blocks(str(tmp_path / "a.blk"))
        assert e.value.code == "wrong-network"
        assert "another network" in e.value.message
        assert b.status()["height"] == 0


def test_import_from_another_chain_id_is_wrong_network_on_the_cli(tmp_path):
    _chain_with_blocks(tmp_path / "dev", "devnet")
    assert cli(tmp_path / "dev", "export", str(tmp_path / "dev.blk")).returncode == 0
    Node.create(tmp_path / "hyb", "hybrid-devnet").close()
    p = cli(tmp_path / "hyb", "import", str(tmp_path / "dev.blk"))
    assert p.returncode == 1
    assert "wrong-network" in p.stderr and "(devnet)" in p.stderr and "(hybrid-devnet)" in p.stderr
    assert "Traceback" not in p.stderr


def test_import_from_the_same_network_still_works_and_verify_checks_genesis(tmp_path):
    _chain_with_blocks(tmp_path / "a", "merge-devnet", merge_height=10)
    with Node.open(tmp_path / "a") as a:
        a.export_blocks(str(tmp_path / "a.blk"))
        head = a.status()["head"]
    with Node.create(tmp_path / "b", "merge-devnet", merge_height=10) as b:
        assert b.import_blocks(str(tmp_path / "a.blk"))["connected"] == 2
        assert b.status()["head"] == head
        assert b.verify()["ok"]
