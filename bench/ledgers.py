"""ledgers: issue 10's three measurements, each against a baseline measured in the same run.

1. live hash rate: continuous mining on the default devnet with the node and the TUI (headless, through
   Pilot, on the Mining screen) running; the workers' hashes per CPU second (their own OS-counted CPU time)
   against the bare hashlib midstate loop's per CPU second (target >= 0.9), and the wall-clock hashes/s
   per worker against the loop's wall-clock rate (which a machine shared with other work drags down).
2. energy accounting overhead: the energy ledger's work per block (the batch hook that writes the record,
   the duty timers, reading the miner's CPU) against the time to process that block (target <= 2%).
3. make run's configuration (devnet preset, continuous mining, every core, 2 tx/s of traffic): once the
   difficulty has climbed and settled, the median block interval against the target spacing (within 25%).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.common import emit
from bench.mine import bare_midstate_rate
from chain.abc import ChainBatch
from chain.consensus import pow as pow_rules
from chain.params import get_preset
from node import events as ev
from node.daemon import RunningNode
from node.node import Node


def _collect_rates(node: Node, into: list) -> callable:
    def on_event(e) -> None:
        if isinstance(e, ev.MiningProgress) and e.worker_rates:
            into.append(e.worker_rates)
    return node.events.subscribe(on_event)


def _hard_devnet(datadir: Path, expected_hashes: float) -> None:
    """The devnet preset, its genesis difficulty raised so every search runs in the worker processes (genesis
    itself is sealed at that difficulty by a plain loop, so keep it to a few million hashes)."""
    bits = pow_rules.target_to_bits(int(2**256 / expected_hashes))
    Node.create(datadir, "devnet", genesis_bits=bits).close()


# -- 1 ------------------------------------------------------------------------------------------------
def bare_cpu_rate(seconds: float) -> float:
    """The raw primitive per CPU second of this thread: what one busy core hashes, however loaded the
    machine is (the wall-clock rate of a shared machine says more about the neighbours than the code)."""
    cpu0 = time.thread_time()
    wall = bare_midstate_rate(b"\x00" * 100, seconds)
    cpu = time.thread_time() - cpu0
    elapsed = max(seconds, 1e-9)
    return wall * elapsed / cpu if cpu > 0 else wall


def live_hash_rate(seconds: float, workers: int | None) -> list[dict]:
    from tui.app import ChaintopApp
    from tui.backend import Backend

    baseline_wall = bare_midstate_rate(b"\x00" * 100, 2.0)  # one core, nothing else of ours running
    baseline_cpu = bare_cpu_rate(2.0)
    with tempfile.TemporaryDirectory() as tmp:
        datadir = Path(tmp) / "devnet"
        _hard_devnet(datadir, baseline_wall * 2)  # ~2 s a block per core: searches of a second or more
        running = RunningNode(datadir, "continuous", 2.0, 0, workers).start()
        rates: list[tuple[float, ...]] = []
        hashes: dict[int, int] = {}  # height -> hashes of its search so far
        unsubscribe = _collect_rates(running.node, rates)
        unsubscribe_h = running.node.events.subscribe(
            lambda e: hashes.__setitem__(e.height, max(e.hashes, hashes.get(e.height, 0)))
            if isinstance(e, ev.MiningProgress) else None)
        window = {}
        try:
            app = ChaintopApp(Backend(running.node, running.service, running, datadir), live_clock=False)

            async def drive() -> None:
                async with app.run_test(size=(120, 40)) as pilot:
                    await pilot.press("4")  # the Mining screen: the live search, the ledgers
                    await asyncio.sleep(1.5)  # workers spawn and warm up
                    rates.clear()
                    hashes.clear()
                    window["cpu0"] = running.node._miner.cpu_seconds
                    end = time.monotonic() + seconds
                    while time.monotonic() < end:
                        await pilot.pause(0.2)
                    window["cpu1"] = running.node._miner.cpu_seconds
                    window["hashes"] = sum(hashes.values())

            asyncio.run(drive())
            n = running.service.mining_state()["workers"]
        finally:
            unsubscribe()
            unsubscribe_h()
            running.close()
    per_worker = [r for report in rates[-5:] for r in report] or [0.0]
    cpu = window["cpu1"] - window["cpu0"]
    load = os.getloadavg()[0]
    return [
        emit("ledgers", "hashes per CPU second per worker (continuous mining, node + TUI running)",
             window["hashes"] / cpu if cpu > 0 else 0.0, "bare hashlib midstate loop per CPU second",
             baseline_cpu, workers=n, cpu_seconds=round(cpu, 2), target_ratio=0.9),
        emit("ledgers", "hashes/s per worker, wall clock (continuous mining, node + TUI running)",
             statistics.median(per_worker), "bare hashlib midstate loop (one core, wall clock)",
             baseline_wall, workers=n, load_average=round(load, 2), cores=os.cpu_count(),
             note="workers run at niceness 10: on a machine busy with other work they yield to it"),
    ]


# -- 2 ------------------------------------------------------------------------------------------------
def energy_overhead(blocks: int) -> dict:
    """Per block: the energy ledger's own work, and the whole block's processing (mine + accept, hybrid
    devnet without retargeting so every block is instant and the time is all processing)."""
    with tempfile.TemporaryDirectory() as tmp:
        node = Node.create(Path(tmp) / "hybrid", "hybrid-devnet", pow_no_retarget=True)
        try:
            meter = node.energy_meter
            start = time.perf_counter()
            for i in range(blocks):
                node.send(f"dev{i % 8}", f"dev{8 + i % 8}", 10_000, fee=5_000)
                node.mine(1)
            per_block = (time.perf_counter() - start) / blocks
            miner = node._get_miner()
            idx = [node.chain.head]
            reps = 2_000
            start = time.perf_counter()
            for _ in range(reps):
                for _ in range(3):  # the duties timed around each block: slot, on_block, the votes check
                    with meter.duty():
                        pass
                meter.take_miner_cpu(miner)
                meter.record(ChainBatch(), idx)  # reads the parent's record, encodes this one
            ledger = (time.perf_counter() - start) / reps
        finally:
            node.close()
    return emit("ledgers", "energy accounting µs per block", ledger * 1e6,
                "µs to process a block (mine + accept)", per_block * 1e6, blocks=blocks,
                target_ratio_at_most=0.02)


# -- 3 ------------------------------------------------------------------------------------------------
def settled_interval(max_seconds: float, measure_blocks: int) -> dict:
    """Continuous mining from the easiest target on the devnet preset; after the first retarget that moves
    the difficulty by less than x2 (settled), the median interval of the next `measure_blocks` blocks."""
    params = get_preset("devnet")
    with tempfile.TemporaryDirectory() as tmp:
        datadir = Path(tmp) / "devnet"
        Node.create(datadir, "devnet").close()
        running = RunningNode(datadir, "continuous", 2.0).start()
        node = running.node
        arrivals: list[tuple[int, float, int]] = []  # (height, monotonic arrival, bits)
        done = threading.Event()
        started = time.monotonic()
        settled_at: list[int] = []

        def on_event(e) -> None:
            if not isinstance(e, ev.BlockConnected):
                return
            arrivals.append((e.height, time.monotonic(), int(e.bits, 16)))
            if e.height % params.retarget_interval == 0 and len(arrivals) > 1 and not settled_at:
                before = pow_rules.bits_to_target(arrivals[-2][2])
                after = pow_rules.bits_to_target(int(e.bits, 16))
                if e.height >= 2 * params.retarget_interval and 0.5 < after / before < 2.0:
                    settled_at.append(e.height)
            if settled_at and e.height >= settled_at[0] + measure_blocks:
                done.set()

        unsubscribe = node.events.subscribe(on_event)
        try:
            done.wait(max_seconds)
        finally:
            unsubscribe()
            running.close()
        elapsed = time.monotonic() - started
    if not settled_at:
        return emit("ledgers", "median block interval after settling (s)", 0.0, "target spacing (s)",
                    params.target_spacing, settled=False, seconds=round(elapsed, 1), blocks=len(arrivals))
    after = [(h, t) for h, t, _ in arrivals if h >= settled_at[0]]
    gaps = [b[1] - a[1] for a, b in zip(after, after[1:], strict=False)]
    return emit("ledgers", "median block interval after settling (s)", statistics.median(gaps),
                "target spacing (s)", params.target_spacing, settled_at_height=settled_at[0],
                settle_seconds=round(after[0][1] - started, 1), blocks_measured=len(gaps),
                target_ratio_between=[0.75, 1.25])


def run(quick: bool = True, settle: bool = False) -> list[dict]:
    rows = [*live_hash_rate(6.0 if quick else 20.0, None), energy_overhead(20 if quick else 60)]
    if settle:
        rows.append(settled_interval(900.0, 20 if quick else 60))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--full", action="store_true", help="longer measurements")
    ap.add_argument("--settle", action="store_true",
                    help="also run make run's configuration until the difficulty settles (several minutes)")
    a = ap.parse_args()
    run(not a.full, a.settle)
