"""The same CLI commands give the same --json whether they open the data dir (embedded) or reach a running
node (RPC).

One data dir: every command runs first with no node (the CLI opens LevelDB itself), then a `chaintop node`
process is started on that data dir and the commands run again — now necessarily over RPC, because the
node holds the data-dir lock. Nothing changes the chain in between, so the outputs must be identical.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from chain.crypto import KeyPair, encode_address
from chain.params import COIN
from node.node import Node
from wallet.keystore import Keystore

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "parity pw"


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
    env.update(PYTHONUNBUFFERED="1", CHAINTOP_PASSWORD=PASSWORD)
    return env


def run(datadir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", "--datadir", str(datadir), *args],
                          capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=60)


def js(datadir: Path, *args: str):
    p = run(datadir, *args, "--json")
    assert p.returncode == 0, f"{args}: exit {p.returncode}: {p.stderr}"
    return json.loads(p.stdout)


# Read commands (with --json) whose output must not depend on how the CLI reached the chain. Filled in with
# txids and addresses by the fixture. ("fails", ...) entries are user mistakes: the same exit code and the
# same one-line error either way.
def _commands(s: dict) -> dict[str, tuple[str, ...]]:
    return {
        "status": ("status", "--json"),
        "height": ("height", "--json"),
        "blocks_last_3": ("blocks", "--last", "3", "--json"),
        "block_1": ("block", "1", "--json"),
        "block_by_hash": ("block", s["block2"], "--json"),
        "tx_confirmed": ("tx", s["confirmed"], "--json"),
        "tx_pending": ("tx", s["pending"], "--json"),
        "account_dev1": ("account", "dev1", "--json"),
        "account_keystore_address": ("account", s["alice_address"], "--json"),
        "mempool": ("mempool", "--json"),
        "proof": ("proof", s["confirmed"], "--json"),
        "keys_list": ("keys", "list", "--json"),
        "fee_estimate": ("fee-estimate", "--json"),
        "db_verify": ("db", "verify", "--json"),
        "tx_create": ("tx", "create", "--from", "dev3", "--to", "dev4", "--amount", "0.25"),
        "fails_block_missing": ("block", "99", "--json"),
        "fails_proof_pending": ("proof", s["pending"], "--json"),
        "fails_tx_unknown": ("tx", "ab" * 32, "--json"),
        "fails_bad_address": ("account", "ctreg1notanaddress", "--json"),
    }


def _outcome(p: subprocess.CompletedProcess) -> dict:
    out = {"exit": p.returncode, "stderr": p.stderr.strip()}
    if p.returncode == 0:
        out["json"] = json.loads(p.stdout)
    else:
        out["stdout"] = p.stdout
    return out


def _normalise(name: str, outcome: dict) -> dict:
    # Nothing is normalised: the chain does not move between the two runs, the mempool's `added` times are
    # persisted with each transaction and reloaded by the node, and `status.datadir` is the same absolute path
    # in both (the test passes an absolute --datadir to the CLI and to the node). If a field ever has to be
    # dropped here, the reason belongs in this comment.
    return outcome


def start_node(d: Path) -> subprocess.Popen:
    node = subprocess.Popen([sys.executable, "-m", "cli.main", "--datadir", str(d), "node", "--mining",
                             "manual"], cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while True:
        try:
            if json.loads((d / "node.json").read_text())["pid"] == node.pid:
                return node
        except (OSError, ValueError, KeyError):
            pass
        if node.poll() is not None or time.monotonic() > deadline:
            stop_node(node)
            raise AssertionError(f"node did not start: {node.stderr.read() if node.stderr else ''}")
        time.sleep(0.03)


def stop_node(node: subprocess.Popen) -> int:
    """SIGTERM, then SIGKILL if it hangs; always reaped."""
    if node.poll() is None:
        node.terminate()
    try:
        rc = node.wait(20)
    except subprocess.TimeoutExpired:
        node.kill()
        rc = node.wait(10)
    if node.stderr:
        node.stderr.close()
    return rc


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("parity") / "chain"
    # The scenario is built in-process (faster than seven CLI runs); only the compared commands go through
    # the CLI.
    key = KeyPair.generate()
    Keystore(d).add("alice", key, PASSWORD)
    with Node.create(d, "regtest") as node:
        alice = {"address": encode_address(node.params.hrp, key.address)}
        confirmed = node.send("dev0", "dev1", 150_000_000)["txid"]
        node.send("dev1", alice["address"], 3 * COIN, fee=10_000)
        mined = node.mine(3)["blocks"]
        pending = node.send("dev2", alice["address"], 2 * COIN)["txid"]
        node.send("dev2", "dev5", COIN, fee=2_000)  # a second nonce in the lane
    subs = {"confirmed": confirmed, "pending": pending, "block2": mined[1], "alice_address": alice["address"]}
    commands = _commands(subs)

    embedded = {name: _outcome(run(d, *args)) for name, args in commands.items()}
    assert not (d / "node.json").exists()

    node = start_node(d)
    try:
        with ThreadPoolExecutor(4) as pool:
            futures = {name: pool.submit(run, d, *args) for name, args in commands.items()}
            over_rpc = {name: _outcome(f.result()) for name, f in futures.items()}
        # The node held the data dir all along (so every command above went over RPC) and mined nothing.
        assert node.poll() is None
        node_status = over_rpc["status"]["json"]
        assert node_status["height"] == 3
        assert over_rpc["height"]["json"] == {"height": 3, "head": node_status["head"]}
    finally:
        rc = stop_node(node)
    assert rc == 0
    return embedded, over_rpc


@pytest.mark.parametrize("name", list(_commands({"confirmed": "", "pending": "", "block2": "",
                                                 "alice_address": ""})))
def test_same_json_embedded_and_over_rpc(runs, name):
    embedded, over_rpc = runs
    e, r = _normalise(name, embedded[name]), _normalise(name, over_rpc[name])
    if name.startswith("fails_"):
        assert e["exit"] == 1 and e["stdout"] == "", e
        assert "Traceback" not in e["stderr"], e
        error = json.loads(e["stderr"])["error"]  # with --json an error is one JSON line on stderr
        assert error["reason"] and error["message"], e
    else:
        assert e["exit"] == 0, e
    assert r == e


def test_the_scenario_is_not_trivial(runs):
    """Guards the parity test against comparing empty outputs."""
    embedded, _ = runs
    assert embedded["status"]["json"]["height"] == 3
    assert len(embedded["mempool"]["json"]) == 2
    assert embedded["tx_confirmed"]["json"]["status"] == "confirmed"
    assert embedded["tx_pending"]["json"]["status"] == "pending"
    assert embedded["account_keystore_address"]["json"]["balance"] == 3 * 10**8
    assert embedded["proof"]["json"]["verified"] is True
    assert [k["label"] for k in embedded["keys_list"]["json"]][-1] == "alice"
    assert embedded["db_verify"]["json"]["ok"] is True
    assert [b["height"] for b in embedded["blocks_last_3"]["json"]] == [3, 2, 1]


def _shape(text: str) -> str:
    """A line with its hashes and numbers blanked: what a script parsing it depends on."""
    import re

    return re.sub(r"\b\d+\b", "N", re.sub(r"\b[0-9a-f]{64}\b", "HASH", text))


def test_write_commands_answer_alike(tmp_path):
    """mine and send change the chain, so their values differ run to run; their shapes must not."""
    d = tmp_path / "chain"
    Node.create(d, "regtest").close()

    def round_trip() -> dict:
        out = {}
        p = run(d, "mine", "--blocks", "2")  # plain text, not a terminal: one line per block
        assert p.returncode == 0, p.stderr
        out["mine_lines"] = [_shape(ln) for ln in p.stdout.splitlines() if ln.strip()]
        mined = js(d, "mine", "--blocks", "1")
        out["mine_json"] = {k: type(v).__name__ for k, v in mined.items()}
        out["mine_json_blocks"] = len(mined["blocks"])
        sent = js(d, "send", "--from", "dev0", "--to", "dev1", "--amount", "1")
        out["send_json"] = {k: type(v).__name__ for k, v in sent.items()}
        p = run(d, "send", "--from", "dev0", "--to", "dev1", "--amount", "1")
        out["send_line"] = _shape(p.stdout.strip())
        return out

    embedded = round_trip()
    node = start_node(d)
    try:
        over_rpc = round_trip()
    finally:
        assert stop_node(node) == 0
    assert embedded["mine_lines"] == ["mined block N HASH txs=N"] * 2  # what tests/cli/test_cli.py relies on
    assert over_rpc == embedded
