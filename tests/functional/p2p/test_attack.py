"""The 51% attack playground (issue 13) on real 3-node devnets on loopback, asserted from chain state.

    honest:   … ── F ── P(pay) ── … ── H
    attacker: … ── F ── P'(conflict) ── … ── A   (more work; released on heal)

pow-devnet: the honest nodes reorg onto A (the payment is gone, the conflict is in). hybrid and pos-devnet:
the payment is finalized first, and the honest nodes keep the finalized checkpoint and the payment.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chain.errors import NotFound, UsageError
from cli.attack import render
from node.client import RpcClient
from tests.functional.p2p.helpers import chaintop, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def devnet(tmp_path):
    """devnet(network) -> (root, {name: RpcClient}); `devnet down` at the end, whatever happened."""
    roots = []

    def up(network: str, *extra: str) -> tuple[Path, dict[str, RpcClient]]:
        root = tmp_path / network
        roots.append(root)
        r = chaintop(tmp_path, "--network", network, "devnet", "up", "--nodes", "3", "--dir", str(root),
                     "--json", *extra, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        return root, {n["name"]: RpcClient.for_datadir(n["datadir"]) for n in json.loads(r.stdout)["nodes"]}

    yield up
    for root in roots:
        down = chaintop(tmp_path, "devnet", "down", "--dir", str(root), "--json", timeout=90)
        assert down.returncode == 0, down.stderr
        assert json.loads(down.stdout)["killed"] == []


def attack(tmp_path, network: str, root: Path, *args: str) -> dict:
    r = chaintop(tmp_path, "--network", network, "attack", "majority", "--dir", str(root), "--timeout", "200",
                 "--json", *args, timeout=260)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def status_of(api, txid: str) -> str:
    try:
        return api.tx(txid)["status"]
    except NotFound:
        return "gone"


def test_pow_majority_attack_is_a_double_spend(tmp_path, devnet):
    root, nodes = devnet("pow-devnet")
    out = attack(tmp_path, "pow-devnet", root, "--confirmations", "2")
    assert out["outcome"] == "double-spend"
    assert render(out).startswith("DOUBLE SPEND.")  # what the command prints without --json
    pay, conflict = out["payment"]["txid"], out["conflict"]["txid"]
    assert out["confirmations_at_partition"] >= 2 and out["blocks_reverted"] >= 2
    assert pay in out["txs_reversed"]
    for name in ("node2", "node3"):  # the honest nodes' own chain state, asked of each
        honest = nodes[name]
        assert status_of(honest, pay) != "confirmed", "the payment is no longer in the chain"
        assert honest.tx(conflict)["status"] == "confirmed", "the conflicting spend is"
        assert honest.block(out["branch_first"])["main_chain"], "the head is on the attacker's branch"
        assert honest.block(out["payment"]["block"])["main_chain"] is False
        assert honest.peers()["partitioned"] is False
    assert nodes["node1"].peers()["partitioned"] is False  # healed at the end

    # --target: a payment an honest node made (dev2 to dev3: the dev keys' seed is public, so the attacker
    # can sign a conflicting spend of it too), reversed after 1 confirmation
    theirs = nodes["node2"].send("dev2", "dev3", 5 * 10**8)["txid"]
    nodes["node2"].mine(1)
    wait_for("node1 has it", lambda: status_of(nodes["node1"], theirs) == "confirmed")
    again = attack(tmp_path, "pow-devnet", root, "--target", theirs, "--confirmations", "1")
    assert again["outcome"] == "double-spend" and again["payment"]["from_label"] == "dev2"
    assert status_of(nodes["node3"], theirs) != "confirmed"
    assert nodes["node3"].tx(again["conflict"]["txid"])["status"] == "confirmed"


@pytest.mark.parametrize("network", ["pos-devnet", "hybrid-devnet"])
def test_with_finality_the_attack_stops_at_the_finalized_checkpoint(tmp_path, devnet, network):
    root, nodes = devnet(network, *(("--slot-time", "1") if network == "pos-devnet" else ()))
    out = attack(tmp_path, network, root)
    assert out["outcome"] == "refused", out["summary"]
    epoch = out["finalized_checkpoint"]["epoch"]
    assert render(out).startswith(f"ATTACK REFUSED: FINALIZED CHECKPOINT HELD AT EPOCH {epoch}.")
    assert out["attacker_rewound"]["below_finality"] is True
    cp = out["finalized_checkpoint"]
    pay, conflict = out["payment"]["txid"], out["conflict"]["txid"]
    for name in ("node2", "node3"):
        honest = nodes[name]
        assert honest.block(cp["root"])["main_chain"], "the finalized checkpoint is still on the main chain"
        assert honest.finality()["finalized_epoch"] >= cp["epoch"]
        assert honest.tx(pay)["status"] == "confirmed" and honest.tx(pay)["finalized"]
        assert status_of(honest, conflict) != "confirmed"
        assert out["handed_over"][name] == {**out["handed_over"][name], "accepted": False,
                                            "reason": "finalized-conflict"}
    assert out["slashed"] == {"validators": [], "stake": 0}
    # the attacker took its marks back and redialled the nodes that refused it: the devnet goes on as one
    attacker = nodes["node1"]
    assert attacker.peers()["partitioned"] is False and out["attacker_peers_after"] == 2
    wait_for("the attacker back on the honest chain", lambda: attacker.block(cp["root"])["main_chain"],
             bound=60)


def test_attack_mistakes_have_reason_codes(tmp_path, devnet):
    root, nodes = devnet("regtest")

    def fails(*args: str) -> dict:
        r = chaintop(tmp_path, "--network", "regtest", "attack", "majority", "--dir", str(root), "--json",
                     *args, timeout=60)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "Traceback" not in r.stderr
        return json.loads(r.stderr)["error"]

    assert fails("--target", "xyz")["reason"] == "bad-txid"
    assert fails("--target", "ab" * 32)["reason"] == "tx-not-found"
    # a nonce gap keeps it queued: no miner of the devnet can include it
    gap = nodes["node1"].account("dev5")["next_nonce"] + 3
    pending = nodes["node1"].send("dev5", "dev1", 10**8, nonce=gap)["txid"]
    assert fails("--target", pending)["reason"] == "tx-not-confirmed"
    assert fails("--node", "node9")["reason"] == "unknown-node"
    assert fails("--confirmations", "0")["reason"] == "bad-confirmations"
    with pytest.raises(UsageError) as info:  # the node-level operation's JSON-RPC error, typed again
        nodes["node1"].invalidate_block(0)
    assert info.value.code == "genesis-block"
    nodes["node1"].net_partition()
    assert fails()["reason"] == "already-partitioned"
    nodes["node1"].net_heal()
    lone = tmp_path / "lone"
    r = chaintop(lone, "--network", "regtest", "attack", "majority", "--dir", str(tmp_path / "nothing"),
                 "--json")
    assert r.returncode == 1 and json.loads(r.stderr)["error"]["reason"] == "no-devnet"
