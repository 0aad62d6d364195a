"""tui: Blocks screen open time at 100k vs 1k blocks, key-to-screen latency under mining and 200 tx/s of
traffic, and how many node events a second the UI absorbs without its queue growing (all through Pilot)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.chains import build_empty_chain
from bench.common import emit
from node import events as ev
from node.daemon import RunningNode
from node.node import Node

SIZE = (120, 40)


def _app(node, service=None, running=None):
    from tui.app import ChaintopApp
    from tui.backend import Backend

    return ChaintopApp(Backend(node, service, running), live_clock=False)


async def _until(pilot, predicate, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the screen did not get there in time")
        await asyncio.sleep(0.001)
    await pilot.pause()


# -- 1. blocks screen open time ---------------------------------------------------------------------------
def ensure_chain(datadir: Path, blocks: int) -> None:
    """An empty-block regtest chain of `blocks` blocks (a fake clock 10 s per block, as bench/store.py
    does)."""
    if not (datadir / "chain").exists():
        Node.create(datadir, "regtest").close()
    holder: dict = {}
    with Node.open(datadir, clock=lambda: holder["node"].chain.head.header.timestamp + 10) as node:
        holder["node"] = node
        missing = blocks - node.chain.head.height
        if missing > 0:
            build_empty_chain(node, missing)


def blocks_open_seconds(datadir: Path, repeats: int = 7) -> float:
    """Median seconds from opening a fresh Blocks screen to its first page drawn."""
    from textual.widgets import DataTable

    from tui.screens.blocks import BlocksScreen

    node = Node.open(datadir)
    times: list[float] = []

    async def run() -> None:
        app = _app(node)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            for _ in range(repeats):
                start = time.perf_counter()
                screen = BlocksScreen()
                await app.push_screen(screen)
                await _until(pilot, lambda s=screen: s.is_mounted and s.query_one(DataTable).row_count > 0)
                times.append(time.perf_counter() - start)
                app.pop_screen()
                await pilot.pause()

    try:
        asyncio.run(run())
    finally:
        node.close()
    return statistics.median(times)


# -- 2. key-press latency under load --------------------------------------------------------------------
def key_latencies(datadir: Path, mining: str, traffic: float, presses: int = 70,
                  warmup: float = 1.5) -> tuple[list[float], dict]:
    from tui.app import ChaintopApp

    running = RunningNode(datadir, mining=mining, traffic=traffic, workers=1).start()
    out: list[float] = []
    facts: dict = {}

    async def run() -> None:
        app = _app(running.node, running.service, running)
        assert isinstance(app, ChaintopApp)
        async with app.run_test(size=SIZE) as pilot:
            h0 = running.node.status()["height"]
            await asyncio.sleep(warmup)  # let mining and traffic get going
            keys = "1234567"
            started = time.perf_counter()
            for i in range(presses):
                key = keys[(i + 1) % len(keys)]
                target = ChaintopApp.MODES[("dashboard", "blocks", "mempool", "mining", "validators",
                                            "wallet", "events")[int(key) - 1]]
                # Pilot's press() returns only once the process looks idle, which never happens while
                # mining in this process: time the switch itself from a poller running beside it.
                t0 = time.perf_counter()
                press = asyncio.create_task(pilot.press(key))
                while not _is_on(app, target):
                    await asyncio.sleep(0.0005)
                out.append(time.perf_counter() - t0)
                await press
                await asyncio.sleep(0.05)  # a person's pace, and time for live updates in between
            elapsed = time.perf_counter() - started + warmup
            facts.update(blocks_per_s=round((running.node.status()["height"] - h0) / elapsed, 1),
                         events_seen=app.bridge.received, events_per_s=round(app.bridge.received / elapsed))

    try:
        asyncio.run(run())
    finally:
        running.close()
    return out, facts


def _is_on(app, screen_type) -> bool:
    try:
        return isinstance(app.screen, screen_type) and app.screen.is_mounted
    except Exception:  # noqa: BLE001 — between two modes for an instant
        return False


def p95(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


# -- 3. event absorption ---------------------------------------------------------------------------
def _synthetic(i: int):
    if i % 20 == 0:
        return ev.MiningProgress(10**9, i, 1000.0, "ff" * 32, "7f" * 32, 2.0, 0.1, 1)
    if i % 2:
        return ev.TxRemoved(f"{i - 1:064x}", "included")
    return ev.TxAdded(f"{i:064x}", "ctreg1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", i, 1000, 6.7)


def raw_bus_rate(seconds: float = 0.5) -> float:
    """Baseline: events a second the bare EventBus delivers to a no-op listener on this machine."""
    bus = ev.EventBus()
    bus.subscribe(lambda e: None)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(1000):
            bus.emit(_synthetic(n))
            n += 1
    return n / (time.perf_counter() - start)


def absorption(datadir: Path, rates: tuple[int, ...], seconds: float = 1.5) -> list[dict]:
    """For each paced rate: events emitted from a node thread, the bridge's worst backlog, the app's worst
    queue."""
    node = Node.open(datadir)
    rows: list[dict] = []

    async def run() -> None:
        app = _app(node)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("7")  # the Events screen: every event also becomes a log line
            await pilot.pause()
            for rate in rates:
                stop = threading.Event()
                sent = [0]

                def pump(rate=rate, sent=sent, stop=stop) -> None:
                    start = time.perf_counter()
                    while not stop.is_set():
                        due = int((time.perf_counter() - start) * rate)
                        while sent[0] < due:
                            node.events.emit(_synthetic(sent[0]))
                            sent[0] += 1
                        time.sleep(0.001)

                applied0 = app.model.applied
                app.bridge.max_backlog = 0
                queue_max = 0
                t = threading.Thread(target=pump, daemon=True)
                start = time.perf_counter()
                t.start()
                while time.perf_counter() - start < seconds:
                    queue_max = max(queue_max, app._message_queue.qsize())
                    await asyncio.sleep(0.005)
                stop.set()
                t.join()
                elapsed = time.perf_counter() - start
                backlog_end = app.bridge.backlog
                await _until(pilot, lambda: app.bridge.backlog == 0)
                rows.append({"rate": rate, "emitted_per_s": sent[0] / elapsed,
                             "applied": app.model.applied - applied0, "backlog_max": app.bridge.max_backlog,
                             "backlog_end": backlog_end, "queue_max": queue_max})

    try:
        asyncio.run(run())
    finally:
        node.close()
    return rows


def run(sizes: tuple[int, int] = (1_000, 100_000), keep: str | None = None, presses: int = 70,
        rates: tuple[int, ...] = (1_000, 5_000, 20_000, 50_000, 100_000)) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(keep) if keep else Path(tmp)
        opens = {}
        for size in sizes:
            path = root / f"regtest-{size}"
            ensure_chain(path, size)
            opens[size] = blocks_open_seconds(path)
            rows.append(emit("tui", f"blocks screen open seconds at {size} blocks", opens[size], blocks=size))
        small, big = min(sizes), max(sizes)
        rows.append(emit("tui", f"blocks screen open time {big} vs {small} blocks", opens[big] / opens[small],
                         "1.0 (flat)", 1.0, target_ratio=1.5))

        load_dir = root / "regtest-load"
        if not (load_dir / "chain").exists():
            Node.create(load_dir, "regtest").close()
        idle, _ = key_latencies(load_dir, "manual", 0.0, presses)
        busy, facts = key_latencies(load_dir, "auto", 200.0, presses)
        rows.append(emit("tui", "key-to-screen latency p95 ms (auto mining + 200 tx/s)", 1000 * p95(busy),
                         "same, node idle", 1000 * p95(idle), presses=len(busy), median_ms=round(1000 *
                         statistics.median(busy), 2), **facts))

        raw = raw_bus_rate()
        absorbed = absorption(root / f"regtest-{small}", rates)
        for r in absorbed:
            emit("tui", f"events absorbed at {r['rate']}/s offered", r["emitted_per_s"],
                 backlog_max=r["backlog_max"], backlog_end=r["backlog_end"], queue_max=r["queue_max"],
                 applied=r["applied"])
        # "Without the queue growing": the bridge never falls more than ~0.25 s behind and the app's queue
        # stays flat.
        kept_up = [r for r in absorbed
                   if r["backlog_max"] <= max(100, 0.25 * r["rate"]) and r["queue_max"] <= 10]
        best = max((r["emitted_per_s"] for r in kept_up), default=0.0)
        rows.append(emit("tui", "events/s absorbed without the queue growing", best,
                         "raw EventBus emits/s (no-op listener)", raw))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1000,100000", help="two chain lengths to compare")
    ap.add_argument("--keep", default=None, help="build (or reuse) the chains in this dir")
    ap.add_argument("--presses", type=int, default=70)
    a = ap.parse_args()
    s = tuple(int(x) for x in a.sizes.split(","))
    run((s[0], s[1]), keep=a.keep, presses=a.presses)
