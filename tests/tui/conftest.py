"""TUI fixtures: a deterministic prebuilt regtest chain (fixed clock, dev keys), copied per test and opened by a
RunningNode (manual mining, no traffic), and the app on top of it with a frozen display clock."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from chain.node.daemon import RunningNode
from chain.node.node import Node
from chain.params import COIN, REGTEST

GENESIS = REGTEST.genesis_time
BLOCKS = 12  # the prebuilt chain's height
FROZEN_NOW = GENESIS + BLOCKS * 10 + 95  # what the app's clock says: ages on screen never move
SIZE = (120, 40)


class StepClock:
    """10 seconds per read after the first: block timestamps come out the same on every machine."""

    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def build_chain(path: Path) -> dict:
    """regtest: 12 blocks, transfers among dev accounts in blocks 3, 5 and 8, three transactions left pending."""
    clock = StepClock(GENESIS)
    node = Node.create(path, "regtest", clock=clock)
    facts: dict = {"txids": []}
    try:
        for height in range(1, BLOCKS + 1):
            clock.now = GENESIS + 10 * height
            if height in (3, 5, 8):
                for i in range(3):
                    sent = node.send(f"dev{i}", f"dev{i + 1}", (height + i) * COIN // 10, node.params.min_fee * (i + 1))
                    facts["txids"].append(sent["txid"])
            node.mine(1)
        clock.now = GENESIS + 10 * BLOCKS + 5
        facts["pending"] = [node.send(f"dev{4 + i}", "dev9", COIN * (i + 1), node.params.min_fee * (2 + i))["txid"]
                            for i in range(3)]
        facts["head"] = node.status()["head"]
        facts["block5"] = node.block(5)["hash"]
        facts["dev1"] = node.keys()[1]["address"]
    finally:
        node.close()
    return facts


@pytest.fixture(scope="session")
def prebuilt(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("tui-chain") / "regtest"
    facts = build_chain(path)
    return path, facts


@pytest.fixture
def chain_facts(prebuilt) -> dict:
    return prebuilt[1]


@pytest.fixture
def running(prebuilt, tmp_path):
    src, _ = prebuilt
    datadir = tmp_path / "regtest"
    shutil.copytree(src, datadir)
    node = RunningNode(datadir, mining="manual", traffic=0.0, workers=1).start()
    yield node
    node.close()


def make_app(running_node, **kwargs):
    from tui.app import ChaintopApp
    from tui.backend import Backend

    backend = Backend(running_node.node, running_node.service, running_node, running_node.datadir)
    return ChaintopApp(backend, clock=lambda: FROZEN_NOW, cli_prefix="chaintop", live_clock=False, **kwargs)


@pytest.fixture
def app(running):
    return make_app(running)


async def settle(pilot, rounds: int = 30) -> None:
    """Wait until node calls made in workers have come back and been drawn (results hop back to the loop)."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        busy = [w for w in app.workers if w.is_running]
        if not busy:
            await pilot.pause()
            if not [w for w in app.workers if w.is_running]:
                return
        await asyncio.sleep(0.02)


async def wait_for(pilot, predicate, timeout: float = 10.0, what: str = "condition"):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.02)


def run(coro):
    return asyncio.run(coro)


def panel_text(widget, width: int = 120) -> str:
    """The plain text a ViewPanel currently draws (its render function applied to its last view)."""
    from rich.console import Console

    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(type(widget).render_view(widget._view))
    return console.export_text()
