"""Permissions (issue 14): the data dir is 0700 and its runtime files 0600 whatever the umask, so another
local user can neither read the cookie nor point our CLI at their own server through node.json."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from node.daemon import RunningNode
from node.node import Node

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_under_umask_000_makes_a_private_data_dir(tmp_path):
    datadir = tmp_path / "deep" / "er" / "dd"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
    p = subprocess.run([sys.executable, "-m", "cli.main", "--datadir", str(datadir), "init", "--network",
                        "regtest"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
                       preexec_fn=lambda: os.umask(0))
    assert p.returncode == 0, p.stderr
    assert _mode(datadir) == 0o700
    assert _mode(tmp_path / "deep") == 0o700, "a parent we create is private too (else it could be swapped)"
    assert _mode(datadir / "chaintop.lock") == 0o600


def test_running_node_files_are_0600_under_umask_000(tmp_path):
    Node.create(tmp_path, "regtest").close()
    (tmp_path / "chaintop.lock").chmod(0o666)  # left wide by an older version: tightened when taken
    old = os.umask(0)
    try:
        with RunningNode(tmp_path, rpc_port=0) as running:
            for name in ("node.json", ".cookie", "chaintop.lock"):
                assert _mode(tmp_path / name) == 0o600, name
            running.node.send("dev0", "dev1", 1000)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "chaintop.lock") == 0o600
