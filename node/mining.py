"""Mining: the block template, the nonce search on the head, and the running service's mining controls."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING

from chain.block import Block
from chain.chainstate import AcceptResult
from chain.consensus import pow as pow_rules
from chain.consensus import schedule
from chain.consensus.beacon import BlockOps
from chain.errors import ChaintopError, UsageError
from chain.params import format_duration
from chain.template import PreparedState, prepare_block
from node import events as ev
from node import keys
from node.miner import Miner, ProgressFn

if TYPE_CHECKING:
    from node.node import Node
    from node.service import NodeService


def get_miner(node: Node) -> Miner:
    """The worker pool, started on first use: a node that never mines never spawns processes."""
    if node._miner is None:
        node._miner = Miner(node._workers)
    return node._miner


def build_template(node: Node, beneficiary: bytes) -> Block:
    """What the next block would hold: ready transactions by fee rate, within the size limit."""
    return prepare_template(node, beneficiary)[0]


def prepare_template(node: Node, beneficiary: bytes) -> tuple[Block, PreparedState]:
    """build_template and its post-state, which accepting the sealed block reuses (chain/template.py)."""
    with node.lock:
        ops = node.validator.ops_for_block() if node.validator is not None else BlockOps()
        template, _, prepared = prepare_block(node.chain, beneficiary, node.mempool.iter_by_fee_rate(),
                                              ops=ops)
    return template, prepared


def template_view(node: Node, beneficiary: str | None = None) -> dict:
    """The projected next block: which pending transactions the template would take, and why the others
    wait: `queued` behind a nonce gap (an earlier nonce of their sender is missing), or ready but over the
    block's size or count limit."""
    who = keys.resolve_address(node, beneficiary) if beneficiary else node._dev_keys[0].address
    block = node.build_template(who)  # Node.template_view holds the node lock: one moment for all of it
    pending = len(node.mempool)
    ready = sum(len(txs) for txs in node.mempool.ready_lanes().values())
    return {"height": block.height, "txs": [tx.txid.hex() for tx in block.txs], "n_tx": len(block.txs),
            "size": block.size, "fees": sum(tx.fee for tx in block.txs), "bits": f"{block.header.bits:08x}",
            "pending": pending, "ready": ready, "queued": pending - ready,
            "over_limit": max(0, ready - len(block.txs))}


def mine_block(node: Node, beneficiary: bytes, progress: ProgressFn | None = None,
               should_stop=None, sync: bool = True) -> AcceptResult | None:
    """Search a nonce for a template on the head; gives up (None) when the head moves or should_stop().

    The node lock is not held during the search, so reads, submissions and other blocks go on meanwhile.
    """
    node.health.check_writable()  # a full disk: no search for a block that could not be stored
    with node.mining_lock:
        template, prepared = prepare_template(node, beneficiary)
        parent = template.header.parent
        started = time.monotonic()
        tried = {"hashes": 0}

        def on_progress(p) -> None:
            tried["hashes"] = p.hashes
            node.events.emit(ev.MiningProgress(p.height, p.hashes, round(p.hash_rate, 1), p.best_hash.hex(),
                                               f"{p.target:064x}", p.expected_hashes, round(p.eta, 2),
                                               p.workers, tuple(round(r, 1) for r in p.worker_rates)))
            if progress is not None:
                progress(p)

        def stop() -> bool:
            return node.chain.head.hash != parent or (should_stop is not None and should_stop())

        miner = get_miner(node)
        try:
            header = miner.mine(template.header, on_progress, stop)
        finally:
            node.energy_meter.take_miner_cpu(miner)  # found or not, the search cost this much
        if header is None:
            return None
        with node.lock:
            if node.chain.head.hash != parent:
                return None  # another block won the race while we searched
            block = Block(header, template.txs, template.ops)
            # The template's own transition is the sealed block's: the chain connects it without a second run.
            result = node.accept_block(block, node.chain.accept_block(block, sync, prepared), sync)
        node.events.emit(ev.BlockMined(header.height, header.hash.hex(), tried["hashes"],
                                       round(time.monotonic() - started, 3)))
        return result


def mine(node: Node, blocks: int = 1, to: str | None = None, progress: ProgressFn | None = None,
         on_block: Callable[[dict], None] | None = None, should_stop=None) -> dict:
    if blocks < 1:
        raise UsageError("bad-count", "--blocks must be at least 1")
    node.health.check_writable()
    beneficiary = keys.resolve_address(node, to) if to else node._dev_keys[0].address
    # A running service says a search is on while this call lasts (the TUI follows the CLI's `mine`), and
    # ends it on `mining off` or when the node stops; should_stop adds the caller's own reasons (an RPC
    # client that went away). A reason is a string, said in the reply's "stopped".
    with node.service.mine_call() if node.service is not None else nullcontext() as cancelled:
        def stop() -> str | bool:
            return (cancelled is not None and cancelled()) or (should_stop is not None and should_stop())

        return _mine_blocks(node, blocks, beneficiary, progress, on_block, stop)


STOP_REASONS = {"mining-off": "mining was switched off", "node-stopping": "the node is stopping",
                "client-gone": "the client went away"}


# A bulk `mine` commits its blocks without an fsync each and syncs the store once per group: at most this many
# blocks or this long, whichever comes first. A block is reported (on_block, the reply) only once its group is
# synced, so a crash loses nothing that was reported; `mine 1000` pays a dozen fsyncs instead of a thousand.
GROUP_BLOCKS = 128
GROUP_SECONDS = 0.25


def _mine_blocks(node: Node, blocks: int, beneficiary: bytes, progress: ProgressFn | None,
                 on_block: Callable[[dict], None] | None, should_stop) -> dict:
    unsynced: list[dict] = []
    try:
        return _mine_grouped(node, blocks, beneficiary, progress, on_block, should_stop, unsynced)
    finally:
        _sync_and_report(node, unsynced, on_block)  # what a stop or an error left behind


def _sync_and_report(node: Node, unsynced: list[dict], on_block: Callable[[dict], None] | None) -> None:
    if not unsynced:
        return
    node.store.sync()
    done = list(unsynced)
    unsynced.clear()
    if on_block is not None:
        for info in done:
            on_block(info)


def _mine_grouped(node: Node, blocks: int, beneficiary: bytes, progress: ProgressFn | None,
                  on_block: Callable[[dict], None] | None, should_stop, unsynced: list[dict]) -> dict:
    chain = node.chain
    mined, details = [], []
    stopped = None  # why fewer than `blocks` were mined: {"reason", "message"}, as an error says it
    group_started = time.monotonic()
    while len(mined) < blocks:
        if should_stop is not None and (why := should_stop()):
            reason = why if isinstance(why, str) else "cancelled"
            stopped = {"reason": reason, "message": f"cancelled after {len(mined)} of {blocks} block(s)"
                                                    + (f": {STOP_REASONS[reason]}" if reason in STOP_REASONS
                                                       else "")}
            break
        if schedule.is_pos_height(node.params, chain.head.height + 1):
            if mined:
                stopped = {"reason": "pos-height",
                           "message": f"stopped after {len(mined)} of {blocks} block(s): block "
                                      f"{chain.head.height + 1} is the merge, validators propose from there"}
                break
            raise UsageError("pos-height", f"block {chain.head.height + 1} is produced by proof of stake: "
                                           "validators propose it, there is nothing to mine")
        wait_for_clock(node)
        last = len(mined) + 1 == blocks
        result = node.mine_block(beneficiary, progress, should_stop, sync=last and not unsynced)
        if result is None:
            continue  # the head moved under us (another miner, an import): build on the new head
        info = {"height": chain.head.height, "hash": result.block_hash.hex(),
                "txs": sum(len(b.txs) for b in result.connected)}
        mined.append(info["hash"])
        details.append(info)
        if last and not unsynced:  # a single block: synced by its own commit
            if on_block is not None:
                on_block(info)
            continue
        unsynced.append(info)
        if last or len(unsynced) >= GROUP_BLOCKS or time.monotonic() - group_started >= GROUP_SECONDS:
            _sync_and_report(node, unsynced, on_block)
            group_started = time.monotonic()
    return {"blocks": mined, "mined": details, "height": chain.head.height, "requested": blocks,
            "stopped": stopped}


CLOCK_WAIT_LIMIT = 10.0  # seconds: fast mining walks timestamps ahead by a second or so, never more


def wait_for_clock(node: Node) -> None:
    """Each timestamp must exceed the median time past; mining faster than one block a second walks the
    timestamps ahead of the clock. Before they pass the future limit, wait for the clock to catch up; a
    clock far behind the chain (e.g. before a preset's fixed genesis date) is an error, not a long wait."""
    margin = node.params.max_future_time - 60
    while True:
        mtp = node.chain.get_median_time_past(node.chain.head)
        now = node.clock()
        wait = mtp + 1 - now - margin
        if wait <= 0:
            return
        if wait > CLOCK_WAIT_LIMIT:
            raise ChaintopError("clock-behind", (
                f"this machine's clock says {_utc(now)}, but the next block's timestamp must be after the "
                f"chain's median time past, {_utc(mtp)}, and at most {node.params.max_future_time} s ahead "
                f"of the clock; mining would have to wait {format_duration(wait)}. "
                "Set the system clock right (the presets' genesis is dated 2026-01-01), "
                "or create the chain on a clock you trust"))
        time.sleep(min(1.0, wait))


def _utc(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


def expected_hashes(node: Node) -> float:
    return pow_rules.expected_hashes(node.chain.get_next_bits(node.chain.head))


# -- the running service's controls ---------------------------------------------------------
# A NodeService attaches itself to its node, so the in-process node offers the same controls as the
# RPC client; a node without one (the CLI's embedded node) mines only when asked.

def get_service(node: Node) -> NodeService:
    if node.service is None:
        raise UsageError("no-service", "this node runs without its mining service; `chaintop node` runs one")
    return node.service


def mining_state(node: Node) -> dict:
    if node.service is None:
        workers = node._miner.workers if node._miner else (node._workers or os.cpu_count() or 1)
        return {"mode": "manual", "workers": workers, "active": False, "traffic": 0.0, "error": None}
    return node.service.mining_state()
