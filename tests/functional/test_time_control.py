"""Time control and block time, as bitcoind -regtest and anvil users expect (issue 9, the extras):
`time increase` / `time set` move the chain's clock on any network and survive a restart; a PoS slot
advances, a PoW block's timestamp jumps; `--block-time` sets the spacing at init or interval mining live."""

from __future__ import annotations

import json
import time

import pytest

from chain.errors import UsageError
from node.node import Node
from node.service import NodeService
from tests.functional.test_rpc import NodeProc, cli

HOUR = 3600


def _js(datadir, *args: str):
    p = cli(datadir, *args, "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_increasing_time_on_pow_makes_the_next_timestamp_jump_and_survives_a_restart(tmp_path):
    d = tmp_path / "chain"
    with Node.create(d, "regtest") as node:
        node.mine(1)
        before = node.clock()
        moved = node.increase_time(HOUR)
        assert moved["moved_by"] == pytest.approx(HOUR, abs=1)
        node.mine(1)
        assert node.block(2)["timestamp"] >= int(before) + HOUR
    with Node.open(d) as node:  # the shift is in clock.json: a reopened chain is not "behind" its blocks
        assert node.time_view()["time_shift"] == pytest.approx(HOUR, abs=1)
        assert node.clock() >= before + HOUR
        node.mine(1)
        assert node.block(3)["timestamp"] >= node.block(2)["timestamp"]


def test_time_set_never_goes_before_the_head(tmp_path):
    with Node.create(tmp_path / "chain", "regtest") as node:
        node.increase_time(2 * HOUR)
        node.mine(1)
        head_time = node.block(1)["timestamp"]
        with pytest.raises(UsageError) as e:
            node.set_time(head_time - 60)
        assert e.value.code == "time-before-head"
        assert node.set_time(head_time + 10)["time"] == pytest.approx(head_time + 10, abs=1)
        with pytest.raises(UsageError) as e:
            node.increase_time(-1)
        assert e.value.code == "bad-seconds"


def test_the_cli_moves_the_clock_and_the_next_command_sees_it(tmp_path):
    d = tmp_path / "chain"
    assert cli(d, "--network", "regtest", "init").returncode == 0
    assert _js(d, "time", "increase", "2h")["time_shift"] == pytest.approx(2 * HOUR, abs=1)
    shown = _js(d, "time")  # another process: read back from clock.json
    assert shown["time_shift"] == pytest.approx(2 * HOUR, abs=1)
    assert shown["time"] == pytest.approx(time.time() + 2 * HOUR, abs=30)
    mined = _js(d, "mine")
    assert _js(d, "block", mined["blocks"][0])["timestamp"] >= time.time() + 2 * HOUR - 30
    p = cli(d, "time", "set", "2020-01-01T00:00:00Z")
    assert p.returncode == 1 and "time-before-head" in p.stderr


def test_increasing_time_on_a_running_pos_devnet_advances_the_slot(tmp_path):
    d = tmp_path / "chain"
    Node.create(d, "pos-devnet", slot_time=0.5).close()
    n = NodeProc(d)
    try:
        deadline = time.monotonic() + 20
        while n.call("status")["height"] < 2:
            assert time.monotonic() < deadline, "the pos-devnet never proposed"
            time.sleep(0.1)
        slot = n.call("time_get")["slot"]
        moved = n.call("time_increase", [3])  # six slots on
        assert moved["slot"] >= slot + 6
        height = n.call("status")["height"]
        deadline = time.monotonic() + 20
        while n.call("status")["height"] < height + 3:  # it goes on proposing from the new slot
            assert time.monotonic() < deadline, "no block after the jump"
            time.sleep(0.1)
        assert n.call("block", [n.call("status")["head"]])["slot"] >= slot + 6
        err = n.error("time_increase", [60])  # 120 slots: every validator would miss them
        assert err["data"]["reason"] == "time-jump-too-far"
        err = n.error("time_set", [n.call("time_get")["time"] - 5])
        assert err["data"]["reason"] in ("time-backwards", "time-before-head")
        shift = n.call("time_get")["time_shift"]
        assert n.stop() == 0
    finally:
        n.kill()
    again = NodeProc(d)
    try:
        view = again.call("time_get")
        assert view["time_shift"] == pytest.approx(shift, abs=0.01)  # kept across the restart
        assert view["slot"] >= slot + 6
    finally:
        again.kill()


def test_a_slot_clock_never_runs_back(tmp_path):
    with Node.create(tmp_path / "chain", "pos-devnet") as node:
        node.increase_time(10)
        with pytest.raises(UsageError) as e:
            node.set_time(node.clock() - 5)  # after genesis, before now
        assert e.value.code == "time-backwards"


def test_init_block_time_sets_the_spacing(tmp_path):
    d = tmp_path / "chain"
    assert cli(d, "--network", "pow-devnet", "init", "--block-time", "3").returncode == 0
    with Node.open(d) as node:
        assert node.params.target_spacing == 3
        assert node.mining_state()["mode"] == "manual"
    p = cli(tmp_path / "pos", "--network", "pos-devnet", "init", "--block-time", "3")
    assert p.returncode == 1 and "not-for-network" in p.stderr


def test_live_block_time_paces_interval_mining(tmp_path):
    d = tmp_path / "chain"
    Node.create(d, "regtest").close()
    n = NodeProc(d)
    try:
        assert n.call("mining_get")["block_time"] == 10
        state = n.call("block_time_set", [0.3])
        assert state["block_time"] == 0.3
        n.call("mining_set", ["interval"])
        time.sleep(3)
        assert n.call("status")["height"] >= 4  # at the chain's 10 s spacing it would be 0
        assert n.error("block_time_set", [0])["data"]["reason"] == "bad-block-time"
    finally:
        n.kill()


def test_node_block_time_option(tmp_path):
    d = tmp_path / "chain"
    Node.create(d, "regtest").close()
    n = NodeProc(d, "--block-time", "0.3")
    try:
        assert n.call("mining_get")["block_time"] == 0.3
    finally:
        n.kill()


def test_block_time_is_refused_on_proof_of_stake(tmp_path):
    with Node.create(tmp_path / "chain", "pos-devnet") as node:
        service = NodeService(node)
        try:
            with pytest.raises(UsageError) as e:
                service.set_block_time(1)
            assert e.value.code == "not-for-network"
        finally:
            service.stop()
