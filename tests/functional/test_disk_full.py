"""A full disk (issue 14), through a real `chaintop node` and the CLI, on two disks: a real 24 MiB tmpfs
filled to the last byte (when this process may mount one: root), and the store's fault hook
(storage/guard.py, CHAINTOP_FAULT_DISK_FULL: every write at the plyvel boundary fails as ENOSPC does), which
runs anywhere, so an unprivileged CI still tests the node's side of it.

The node stops producing and accepting with one disk-full error on every surface, pools nothing it refused,
keeps answering reads, resumes on its own once there is room, and saves exactly what it says it saved."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from node.node import Node
from node.rpc import read_node_info

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("chaintop")
CHAINTOP = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "cli.main"]
FAULT_ENV = "CHAINTOP_FAULT_DISK_FULL"


class Disk:
    """fill() and free() a disk under `root`: a real tmpfs, or the injected fault."""

    def __init__(self, tmp_path: Path, kind: str) -> None:
        self.root = tmp_path / "disk"
        self.root.mkdir()
        self.fault = tmp_path / "disk-full"  # the hook's switch, outside the full disk
        self.mounted = kind == "tmpfs" and os.geteuid() == 0 and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(self.root)],
            capture_output=True).returncode == 0
        if kind == "tmpfs" and not self.mounted:
            pytest.skip("this process may not mount a tmpfs (not root); the injected fault covers the node")
        self.filler = self.root / "filler"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
        env.update(PYTHONUNBUFFERED="1", COLUMNS="200")
        if not self.mounted:
            env[FAULT_ENV] = str(self.fault)
        return env

    def fill(self) -> None:
        if not self.mounted:
            self.fault.touch()
            return
        with open(self.filler, "wb") as f:
            try:
                while True:
                    f.write(bytes(1 << 16))
                    f.flush()
            except OSError:
                pass

    def free(self) -> None:
        self.fault.unlink(missing_ok=True)
        self.filler.unlink(missing_ok=True)

    def close(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.root)], capture_output=True)


@pytest.fixture(params=["tmpfs", "injected"])
def disk(request, tmp_path):
    d = Disk(tmp_path, request.param)
    yield d
    d.close()


def run(disk: Disk, datadir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CHAINTOP, "--datadir", str(datadir), *args], capture_output=True, text=True,
                          cwd=ROOT, env=disk.env(), timeout=60, stdin=subprocess.DEVNULL)


def refused_disk_full(disk: Disk, datadir: Path, *args: str) -> str:
    p = run(disk, datadir, *args)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 1 and "Traceback" not in p.stderr, (args, p.returncode, p.stderr)
    assert len(lines) == 1 and lines[0].endswith("(disk-full)"), (args, p.stderr)
    assert re.search(r"free at least [\d.]+ MiB", p.stderr), p.stderr  # how much room it needs
    return p.stderr


def js(disk: Disk, datadir: Path, *args: str):
    p = run(disk, datadir, *args, "--json")
    assert p.returncode == 0 and "Traceback" not in p.stderr, (args, p.stderr)
    return json.loads(p.stdout)


def _until(predicate, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_full_disk_stops_writes_on_every_surface_and_resumes(disk, tmp_path):
    d = disk.root / "chain-dir"
    Node.create(d, "regtest").close()
    log = tmp_path / "node.log"
    with open(log, "wb") as out:
        node = subprocess.Popen([*CHAINTOP, "--datadir", str(d), "node", "--mining", "auto"], stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT, env=disk.env())
    try:
        _until(lambda: (read_node_info(d) or {}).get("pid") == node.pid, "node.json")
        js(disk, d, "send", "--from", "dev0", "--to", "dev1", "--amount", "1")
        _until(lambda: js(disk, d, "status")["height"] >= 1, "block 1")

        disk.fill()
        # the first write that meets the full disk (a send, or the auto miner's block) stops all writes
        _until(lambda: run(disk, d, "send", "--from", "dev2", "--to", "dev3", "--amount", "1").returncode,
               "a send to be refused")
        before = js(disk, d, "mempool")
        refused_disk_full(disk, d, "send", "--from", "dev4", "--to", "dev3", "--amount", "1")
        refused_disk_full(disk, d, "mine")
        assert js(disk, d, "mempool") == before, "a refused transaction is not pooled"
        status = js(disk, d, "status")  # reads go on
        assert status["health"]["writable"] is False and status["health"]["reason"] == "disk-full"
        assert status["health"]["needed_bytes"] > status["health"]["free_bytes"]
        assert js(disk, d, "mining")["error"]["reason"] == "disk-full"
        p = run(disk, d, "rpc", "send", "dev5", "dev6", "100000")
        assert p.returncode == 1 and json.loads(p.stdout)["data"]["reason"] == "disk-full", p.stdout
        height = status["height"]

        disk.free()  # the node reopens its store and goes on by itself
        _until(lambda: js(disk, d, "status")["health"] is None, "the node to resume")
        assert js(disk, d, "mining")["error"] is None
        js(disk, d, "send", "--from", "dev7", "--to", "dev1", "--amount", "1")
        _until(lambda: js(disk, d, "status")["height"] > height, "a block after the disk was freed")
        js(disk, d, "mining", "manual")
        pending = len(js(disk, d, "mempool"))
        node.send_signal(signal.SIGTERM)
        assert node.wait(timeout=30) == 0, log.read_text()
    finally:
        if node.poll() is None:
            node.kill()
            node.wait(timeout=10)
    text = log.read_text()
    assert "Traceback" not in text, text
    saved = int(re.search(r"(\d+) pending transaction\(s\) saved", text).group(1))
    assert saved == pending == len(js(disk, d, "mempool")), "it saved exactly what it reported"
    assert js(disk, d, "db", "verify")["ok"]


def test_embedded_mine_on_a_full_disk_is_one_line(disk):
    d = disk.root / "chain-dir"
    Node.create(d, "regtest").close()
    disk.fill()
    refused_disk_full(disk, d, "mine")
    disk.free()
    assert js(disk, d, "mine")["height"] == 1  # a restart opens cleanly once there is room
