"""A damaged database (issue 14): bytes flipped in a table or a truncated write-ahead log, in a copy of a
real data dir built here. Every command says db-corrupt (or works), never a traceback; db verify reads every
record with checksums and names the first damaged one; db repair rebuilds from the surviving blocks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chain.errors import ChaintopError
from chain.params import COIN
from node.node import Node
from node.repair import repair_datadir

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("chaintop")
CHAINTOP = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "cli.main"]
HEIGHT = 5


def _build(datadir: Path, compact: bool) -> None:
    with Node.create(datadir, "regtest") as node:
        for i in range(HEIGHT):
            node.send("dev0", "dev1", COIN)
            node.send(f"dev{2 + i}", "dev1", COIN)
            node.mine(1)
        node.send("dev2", "dev3", COIN)  # one pending
    if compact:
        Node.open(datadir).close()  # LevelDB replays its log into a table (.ldb) when it opens


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("damage")
    _build(root / "tables", compact=True)
    _build(root / "log-only", compact=False)
    return root


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _varint(b: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        x = b[i]
        i += 1
        value |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return value, i


def _data_end(table: Path) -> int:
    """Where an SSTable's data blocks end: the metaindex block's offset, from the 48-byte footer."""
    footer = table.read_bytes()[-48:]
    offset, _ = _varint(footer, 0)
    return offset


def _flip(table: Path, at: int, n: int = 32) -> None:
    data = bytearray(table.read_bytes())
    data[at:at + n] = bytes(x ^ 0xFF for x in data[at:at + n])
    table.write_bytes(bytes(data))


def _table(datadir: Path) -> Path:
    (table,) = (datadir / "chain").glob("*.ldb")
    return table


def run(datadir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
    return subprocess.run([*CHAINTOP, "--datadir", str(datadir), *args], capture_output=True, text=True,
                          cwd=ROOT, env={**env, "COLUMNS": "200"}, timeout=60, stdin=subprocess.DEVNULL)


def test_flipped_bytes_in_a_table_through_the_cli(built, tmp_path):
    d = _copy(built / "tables", tmp_path / "d")
    table = _table(d)
    _flip(table, _data_end(table) - 300)  # the last data block: undo and address records
    for args in (["status"], ["blocks"], ["account", "dev0"], ["mempool"], ["mine"]):
        p = run(d, *args)
        assert "Traceback" not in p.stderr, (args, p.stderr)
        assert p.returncode == 0 or (p.returncode == 1 and "(db-corrupt)" in p.stderr
                                     and len(p.stderr.strip().splitlines()) == 1), (args, p.stderr)
    p = run(d, "db", "verify", "--json")
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    report = json.loads(p.stdout)
    assert not report["ok"] and report["first_damaged"].startswith("the record after "), report
    assert "cannot be read back (db-corrupt" in " ".join(report["errors"])
    p = run(d, "db", "repair", "--json")
    assert p.returncode == 0, p.stderr
    repaired = json.loads(p.stdout)
    assert repaired["height"] >= HEIGHT and repaired["heights_lost"] == 0, repaired
    assert Path(repaired["damaged_copy"]).is_dir()
    p = run(d, "db", "verify", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["ok"], p.stdout + p.stderr


def test_flips_anywhere_in_the_table_are_found_and_repaired(built, tmp_path):
    """Damage in every data block in turn, in process: only house errors, verify finds it, repair mends it."""
    end = _data_end(_table(built / "tables"))
    for k, at in enumerate(range(64, end - 32, max(1, (end - 96) // 6))):
        d = _copy(built / "tables", tmp_path / f"d{k}")
        _flip(_table(d), at)
        try:
            with Node.open(d) as node:
                node.status()
                node.blocks(HEIGHT + 1)
                report = node.verify()
            assert not report["ok"], f"flip at {at} of {end}: verify says ok"
        except ChaintopError as e:
            assert e.code in ("db-corrupt", "head-moved-back"), (at, e)
        repaired = repair_datadir(d)
        with Node.open(d) as node:
            assert node.verify()["ok"], f"flip at {at}: repaired store does not verify"
            assert node.chain.head.height == repaired["height"]
        assert repaired["heights_lost"] == HEIGHT - repaired["height"] or repaired["height"] > HEIGHT


def test_a_truncated_log_says_the_head_moved_back(built, tmp_path):
    d = _copy(built / "log-only", tmp_path / "d")
    (log,) = (d / "chain").glob("*.log")
    os.truncate(log, log.stat().st_size * 6 // 10)  # the last blocks' batches are gone
    p = run(d, "status")
    assert p.returncode == 1 and "(head-moved-back)" in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert f"its head was block {HEIGHT}" in p.stderr
    p = run(d, "db", "repair", "--json")
    assert p.returncode == 0, p.stderr
    repaired = json.loads(p.stdout)
    assert repaired["height_before"] == HEIGHT and repaired["height_before_from"] == "last clean shutdown"
    assert 0 < repaired["heights_lost"] == HEIGHT - repaired["height"], repaired
    p = run(d, "status", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["height"] == repaired["height"], p.stderr
