"""Worker processes must start from inside a running Textual app (issue 9: the TUI's miner died with
"bad value(s) in fds_to_keep" once difficulty rose past the in-process threshold)."""

from __future__ import annotations

import asyncio
import sys

from textual.app import App

from node.miner import Miner
from node.node import Node


def test_worker_processes_start_inside_a_running_app(tmp_path):
    node = Node.create(tmp_path / "d", "regtest")
    try:
        template = node.build_template(node.resolve_address("dev0"))
    finally:
        node.close()
    miner = Miner(1, inline_below=0)  # every search goes to a worker process, as at real difficulty

    async def scenario():
        async with App().run_test() as pilot:
            assert sys.stderr is not sys.__stderr__  # Textual is capturing output, as in the real TUI
            sealed = await asyncio.wait_for(asyncio.to_thread(miner.mine, template.header), timeout=60)
            await pilot.pause()
            return sealed

    try:
        sealed = asyncio.run(scenario())
    finally:
        miner.close()
    assert sealed is not None and sealed.hash == sealed.with_nonce(sealed.nonce).hash
    assert sealed.parent == template.header.parent and sealed.nonce is not None
