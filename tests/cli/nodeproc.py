"""A real `chaintop node` holding a data dir for the duration of a test (commands then go over RPC)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from node.rpc import read_node_info


@contextmanager
def held_by_node(chaintop: list[str], datadir: Path, log: Path, env: dict, cwd: Path) -> Iterator[None]:
    """Start the node, wait for its node.json, yield; then SIGTERM must stop it cleanly (exit 0)."""
    with open(log, "wb") as out:
        node = subprocess.Popen([*chaintop, "--datadir", str(datadir), "node"], stdout=out,
                                stderr=subprocess.STDOUT, cwd=cwd, env=env)
    try:
        deadline = time.monotonic() + 30
        while (read_node_info(datadir) or {}).get("pid") != node.pid:
            assert node.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the node never published node.json"
            time.sleep(0.05)
        yield
        # the node holds the lock the whole time, so every command in between went through its RPC
        node.send_signal(signal.SIGTERM)
        assert node.wait(timeout=30) == 0, log.read_text()
        assert read_node_info(datadir) is None, "a clean stop removes node.json"
    finally:
        if node.poll() is None:
            node.kill()
            node.wait(timeout=10)
