"""TUI fixtures: deterministic prebuilt chains (fixed clock, dev keys) — a regtest (PoW) one and a hybrid one
(PoW blocks, FFG committees) — copied per test and opened by a RunningNode (manual mining, no traffic), and
the app on top of it with a frozen display clock."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from chain.params import COIN, HYBRID_DEVNET, REGTEST
from node.daemon import RunningNode
from node.node import Node

GENESIS = REGTEST.genesis_time
BLOCKS = 12  # the prebuilt chain's height
FROZEN_NOW = GENESIS + BLOCKS * 10 + 95  # what the app's clock says: ages on screen never move
SIZE = (120, 40)

HYBRID_GENESIS = HYBRID_DEVNET.genesis_time  # hybrid-devnet has a fixed genesis date, like regtest
HYBRID_BLOCKS = 36  # 4.5 epochs of 8 blocks: epoch 3 justified, epoch 2 finalized, epoch 4 half voted
HYBRID_NOW = HYBRID_GENESIS + HYBRID_BLOCKS * 10 + 95
HYBRID_STAKE_AT = 4  # dev3 stakes 32 coins in this block: validator 16, active two epochs later
# told to equivocate before block 9 (its committee's slot); slashed by the evidence in 10
HYBRID_EQUIVOCATOR = 5


class StepClock:
    """10 seconds per read after the first: block timestamps come out the same on every machine."""

    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def build_chain(path: Path) -> dict:
    """regtest: 12 blocks, transfers among dev accounts in blocks 3, 5 and 8, three transactions left
    pending."""
    clock = StepClock(GENESIS)
    node = Node.create(path, "regtest", clock=clock)
    facts: dict = {"txids": []}
    try:
        for height in range(1, BLOCKS + 1):
            clock.now = GENESIS + 10 * height
            if height in (3, 5, 8):
                for i in range(3):
                    sent = node.send(f"dev{i}", f"dev{i + 1}", (height + i) * COIN // 10,
                                     node.params.min_fee * (i + 1))
                    facts["txids"].append(sent["txid"])
            node.mine(1)
        clock.now = GENESIS + 10 * BLOCKS + 5
        facts["pending"] = [node.send(f"dev{4 + i}", "dev9", COIN * (i + 1),
                                      node.params.min_fee * (2 + i))["txid"]
                            for i in range(3)]
        facts["head"] = node.status()["head"]
        facts["block5"] = node.block(5)["hash"]
        facts["dev1"] = node.keys()[1]["address"]
    finally:
        node.close()
    return facts


def build_hybrid_chain(path: Path) -> dict:
    """hybrid-devnet: 36 PoW blocks at +10 s each, no retargeting; the committee of slot h votes on block h
    and the votes ride in block h+1, so FFG justifies and finalizes epochs. A stake in block 4, a double vote
    by validator 5 at slot 9 with its evidence (and the slashing) in block 10, transfers in blocks 6, 12 and
    20, two left pending. Same keys, same clock, same shuffle: the same chain, hash for hash, on every run."""
    clock = StepClock(HYBRID_GENESIS)
    node = Node.create(path, "hybrid-devnet", clock=clock, pow_no_retarget=True)
    facts: dict = {"txids": []}
    try:
        for height in range(1, HYBRID_BLOCKS + 1):
            clock.now = HYBRID_GENESIS + 10 * height
            if height == HYBRID_STAKE_AT:
                facts["stake"] = node.stake("dev3", 32 * COIN)["txid"]
            if height == 9:
                node.validator_fault(HYBRID_EQUIVOCATOR, "equivocate")
            if height in (6, 12, 20):
                facts["txids"].append(node.send("dev1", "dev2", height * COIN, None)["txid"])
            node.mine(1)
        clock.now = HYBRID_GENESIS + 10 * HYBRID_BLOCKS + 5
        facts["pending"] = [node.send(f"dev{4 + i}", "dev9", COIN * (i + 1),
                                      node.params.min_fee * (2 + i))["txid"]
                            for i in range(2)]
        facts["evidence_block"] = next(h for h in range(1, HYBRID_BLOCKS + 1) if node.block(h)["evidence"])
        facts["head"] = node.status()["head"]
        facts["finality"] = node.finality()
    finally:
        node.close()
    return facts


def pin_energy(path: Path, duties: float = 0.0) -> None:
    """The energy ledger measures CPU time, which differs on every run: give each block the same figures
    (0.25 CPU s of search per PoW block, `duties` CPU s of validator duties) so screenshots stay put."""
    from chain.abc import ChainBatch
    from node.energy import compute_energy_record
    from storage.store import ChainStore

    store = ChainStore.open(path)
    try:
        batch, parent, height = ChainBatch(), None, 1
        while (h := store.get_hash_at(height)) is not None:
            idx = store.get_index(h)
            parent = compute_energy_record(parent, idx, 0.0 if idx.header.is_pos else 0.25, duties, True)
            batch.energy[h] = parent.encode()
            height += 1
        store.commit(batch)
    finally:
        store.close()


@pytest.fixture(scope="session")
def hybrid_prebuilt(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("tui-hybrid") / "hybrid"
    facts = build_hybrid_chain(path)
    pin_energy(path, duties=0.002)
    return path, facts


@pytest.fixture
def hybrid_facts(hybrid_prebuilt) -> dict:
    return hybrid_prebuilt[1]


def _running_copy(src: Path, datadir: Path):
    """A private copy of a session-built chain, with its node running (manual mining, no traffic)."""
    shutil.copytree(src, datadir)
    node = RunningNode(datadir, mining="manual", traffic=0.0, workers=1).start()
    yield node
    node.close()


@pytest.fixture
def hybrid_running(hybrid_prebuilt, tmp_path):
    yield from _running_copy(hybrid_prebuilt[0], tmp_path / "hybrid")


@pytest.fixture
def hybrid_app(hybrid_running):
    return make_app(hybrid_running, clock=lambda: HYBRID_NOW)


@pytest.fixture(scope="session")
def prebuilt(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("tui-chain") / "regtest"
    facts = build_chain(path)
    pin_energy(path)
    return path, facts


@pytest.fixture
def chain_facts(prebuilt) -> dict:
    return prebuilt[1]


@pytest.fixture
def running(prebuilt, tmp_path):
    yield from _running_copy(prebuilt[0], tmp_path / "regtest")


def make_app(running_node, clock=lambda: FROZEN_NOW, **kwargs):
    from tui.app import ChaintopApp
    from tui.backend import Backend

    backend = Backend(running_node.node, running_node.service, running_node, running_node.datadir)
    return ChaintopApp(backend, clock=clock, cli_prefix="chaintop", live_clock=False, **kwargs)


@pytest.fixture
def app(running):
    return make_app(running)


async def settle(pilot, rounds: int = 30) -> None:
    """Wait until node calls made in workers have come back and been drawn (results hop back to the loop), and
    the screens built in the background after the first paint are built (the order is then fixed)."""
    app = pilot.app
    deadline = asyncio.get_running_loop().time() + 30
    while not getattr(app, "prebuilt", True) and asyncio.get_running_loop().time() < deadline:
        await pilot.pause(0.02)
    for _ in range(rounds):
        await pilot.pause()
        busy = [w for w in app.workers if w.is_running]
        if not busy:
            # A result that starts the next call (a block, then its transactions) hops back to the loop
            # first: idle means idle twice, a moment apart.
            await asyncio.sleep(0.02)
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

    console = Console(width=width, record=True, color_system=None,
                      file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(type(widget).render_view(widget._view))
    return console.export_text()
