"""Sloppy or hostile input to the CLI (issue 14): a 2 MiB transaction, JSON nested 50,000 deep, an
endless import, parallel sends from one account. Each is one house error line (or success), no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from node.node import Node
from tests.cli.nodeproc import held_by_node

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("chaintop")
CHAINTOP = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "cli.main"]
NESTED = "[" * 50_000 + "]" * 50_000  # 100,000 characters: under the 128 KiB an argument may have
PARALLEL_SENDS = 10


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
    env.update(PYTHONUNBUFFERED="1", COLUMNS="160")
    return env


def run(datadir: Path, *args: str, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    return subprocess.run([*CHAINTOP, "--datadir", str(datadir), *args], capture_output=True, text=True,
                          cwd=ROOT, env=_env(), timeout=60, stdin=stdin)


def refused(datadir: Path, *args: str, code: str, stdin=subprocess.DEVNULL) -> None:
    p = run(datadir, *args, stdin=stdin)
    assert p.returncode == 1 and "Traceback" not in p.stderr, (p.returncode, p.stderr[-2000:])
    assert f"({code})" in p.stderr, p.stderr


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory):
    """A regtest chain held by a real `chaintop node` for the module's tests."""
    d = tmp_path_factory.mktemp("hostile")
    Node.create(d / "c", "regtest").close()
    with held_by_node(CHAINTOP, d / "c", d / "node.log", _env(), ROOT):
        yield d / "c"


def test_broadcast_of_a_2_mib_transaction_gets_the_413_as_a_house_error(node_dir, tmp_path):
    doc = tmp_path / "big.json"
    doc.write_text(json.dumps({"raw": "00" * (2 << 20)}))
    refused(node_dir, "tx", "broadcast", str(doc), code="request-too-large")


def test_nested_json_files_and_params(node_dir, tmp_path):
    nested = tmp_path / "nested.json"
    nested.write_text(NESTED)
    refused(node_dir, "tx", "broadcast", str(nested), code="bad-tx-file")
    refused(node_dir, "tx", "sign", str(nested), code="bad-tx-file")
    refused(node_dir, "rpc", "block", NESTED, code="bad-params")


def test_import_of_an_endless_file_is_refused_at_its_first_bytes(node_dir, tmp_path):
    refused(node_dir, "import", "/dev/zero", code="bad-export-file")  # the node reads it (over RPC)
    with open("/dev/zero", "rb") as zero:
        refused(node_dir, "import", "-", code="bad-export-file", stdin=zero)
    embedded = tmp_path / "e"
    Node.create(embedded, "regtest").close()
    refused(embedded, "import", "/dev/zero", code="bad-export-file")


def test_parallel_sends_from_one_account_all_land(node_dir):
    procs = [subprocess.Popen([*CHAINTOP, "--datadir", str(node_dir), "send", "--from", "dev3", "--to",
                               "dev4", "--amount", "1", "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT, env=_env())
             for _ in range(PARALLEL_SENDS)]
    results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert all(code == 0 for code, _, _ in results), [err for code, _, err in results if code]
    txids = {json.loads(out)["txid"] for _, out, _ in results}
    assert len(txids) == PARALLEL_SENDS, "each send is its own transaction (none replaced another)"
    pool = json.loads(run(node_dir, "mempool", "--json").stdout)
    assert {t["txid"] for t in pool} >= txids
