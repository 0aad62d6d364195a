"""The two ledgers as views: supply (chain/supply.py's records: where every coin came from) and energy
(node/energy.py's records: the CPU this node spent per block), and db verify's supply check over the whole
chain."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from chain.abc import BlockIndex
from chain.consensus import pos
from chain.consensus.process import block_slot
from chain.consensus.schedule import is_pos_height, uses_validators
from chain.errors import DecodeError, UsageError
from chain.params import format_coins
from chain.state import TAG_ACCOUNT, TAG_VALIDATOR, Undo, decode_record
from chain.supply import (
    BURNED_PARTS,
    MINTED_PARTS,
    Holdings,
    SupplyRecord,
    compute_block_issuance,
    compute_holdings,
    compute_imbalance,
    get_holdings,
)
from node.energy import EnergyRecord, get_watts_per_core

if TYPE_CHECKING:
    from node.node import Node

YEAR = 365.25 * 86_400
YIELD_WINDOW_EPOCHS = 4  # the measured yield looks back this many epochs


def _main_block(node: Node, at: int | None) -> BlockIndex:
    chain = node.chain
    if at is None:
        return chain.head
    if not 0 <= at <= chain.head.height:
        raise UsageError("bad-height", f"--at {at}: the chain has heights 0 to {chain.head.height}")
    return chain.get_index(chain.get_hash_at(at))


def _coins(units: int) -> str:
    return format_coins(units) if units >= 0 else "-" + format_coins(-units)


# -- supply ---------------------------------------------------------------------------------------
def supply_view(node: Node, at: int | None = None) -> dict:
    """Total supply at a main-chain height (default the head) and where it came from."""
    idx = _main_block(node, at)
    if idx.hash != node.chain.head.hash and node.store.get_supply(idx.hash) is None:
        since = node.chain.get_supply(node.chain.head).since
        raise UsageError("not-in-ledger", f"height {idx.height} is before this data dir's supply ledger, "
                                          f"which starts at height {since} (the data dir is older than it)")
    rec = node.chain.get_supply(idx)
    minted = {p: getattr(rec, p) for p in MINTED_PARTS}
    burned = {p: getattr(rec, p) for p in BURNED_PARTS}
    out = {
        "height": idx.height, "hash": idx.hash.hex(), "since": rec.since,
        "total": rec.total, "total_coins": _coins(rec.total),
        "genesis": rec.genesis, "minted": minted, "minted_total": rec.minted, "burned": burned,
        "burned_total": rec.burned, "expected_total": rec.expected_total,
        "balanced": rec.total == rec.expected_total,
        "moved": {"fees": rec.fees, "withdrawn": rec.withdrawn},
        "held": {"accounts": rec.accounts, "stake_locked": rec.bonded, "pending_withdrawals": rec.exiting},
        "issuance": _issuance(node, idx, rec),
    }
    return out


def block_supply(node: Node, idx: BlockIndex) -> dict | None:
    """One block's issuance (what it added to each part), for block detail; None without a record."""
    raw = node.store.get_supply(idx.hash)
    if raw is None or idx.height == 0:
        return None
    parent_raw = node.store.get_supply(idx.parent)
    parent = SupplyRecord.decode(parent_raw) if parent_raw is not None else None
    return compute_block_issuance(SupplyRecord.decode(raw), parent) or None


def _record_at(node: Node, height: int) -> tuple[BlockIndex, SupplyRecord]:
    idx = node.chain.get_index(node.chain.get_hash_at(height))
    return idx, node.chain.get_supply(idx)


def _issuance(node: Node, idx: BlockIndex, rec: SupplyRecord) -> dict:
    """PoW: the subsidy per block now. PoS: staking issuance per epoch, measured over recent epochs, and the
    annualised yield it gives stakers (with why ours is what it is)."""
    params = node.params
    out: dict = {}
    if not is_pos_height(params, idx.height + 1):
        reward = params.block_reward(idx.height + 1)
        halving = (idx.height // params.halving_interval + 1) * params.halving_interval
        out["pow"] = {"per_block": reward, "per_block_coins": format_coins(reward),
                      "next_halving_height": halving,
                      "explain": f"{format_coins(params.initial_reward)} coins per block, halving every "
                                 f"{params.halving_interval} blocks; fees are paid by senders, not minted"}
    if not uses_validators(params):
        return out
    window = YIELD_WINDOW_EPOCHS * params.slots_per_epoch
    lo = max(rec.since, idx.height - window)  # about `window` slots back (fewer blocks if slots were missed)
    old_idx, old = _record_at(node, lo)
    slots = block_slot(idx.header) - block_slot(old_idx.header)
    epochs = slots / params.slots_per_epoch
    rewards = (rec.attestation_rewards + rec.proposer_rewards + rec.whistleblower
               - old.attestation_rewards - old.proposer_rewards - old.whistleblower)
    losses = rec.penalties + rec.leak + rec.slashing - old.penalties - old.leak - old.slashing
    net = rewards - losses
    # a PoS epoch is slots of slot_time; a hybrid one, that many PoW blocks of the target spacing
    pos_now = is_pos_height(params, idx.height + 1)
    epoch_seconds = params.slots_per_epoch * (params.slot_time if pos_now else params.target_spacing)
    per_epoch = net / epochs if epochs > 0 else 0.0
    stake = rec.bonded or 1
    per_epoch_rate = per_epoch / stake
    growth = YEAR / epoch_seconds * math.log1p(per_epoch_rate) if per_epoch_rate > -1 else -math.inf
    annual = math.expm1(growth) if growth < 30 else None  # None: beyond e^30, no number says more
    active = _total_active(node)
    max_rate = (params.base_reward_factor / max(1, math.isqrt(active))) if active else 0.0
    out["pos"] = {
        "epochs_measured": round(epochs, 2), "rewards": rewards, "losses": losses,
        "per_epoch": round(per_epoch),
        "per_epoch_coins": _coins(round(per_epoch)), "stake": rec.bonded,
        "epoch_seconds": epoch_seconds, "yield_per_epoch": per_epoch_rate,
        "annualised_yield": annual,  # compounding every epoch (None: beyond e^30)
        "annual_rate": per_epoch_rate * YEAR / epoch_seconds,  # simple, not compounded (an APR)
        "max_yield_per_epoch": max_rate,
        "explain": (
            f"staking issuance over the last {epochs:.3g} epoch(s): rewards {_coins(rewards)} minus "
            f"penalties {_coins(losses)}, on {_coins(rec.bonded)} coins staked. Real networks pay stakers "
            "3-15% a year "
            f"(Ethereum ~3%: base reward factor 64, 32 slots of 12 s per epoch). Ours pays fast so rewards "
            f"are visible within minutes: base reward factor {params.base_reward_factor} and epochs of "
            f"{params.slots_per_epoch} × {epoch_seconds / params.slots_per_epoch:g} s, so at most "
            f"{max_rate:.3%} per epoch with every vote on time, compounding to an absurd yearly figure"),
    }
    return out


def _total_active(node: Node) -> int:
    view = node.chain.new_view()
    cs = pos.get_consensus(view)
    return pos.get_total_active_balance(pos.get_validators(view, cs), pos.get_current_epoch(cs, node.params),
                                        node.params)


def verify_supply(node: Node) -> list[str]:
    """db verify's supply check, over the whole main chain: the balances summed from the stored state at the
    head, then walked back block by block with each block's undo data, must equal the ledger's record at
    every height — and each record must equal genesis + minted - burned."""
    chain, store = node.chain, node.store
    errors: list[str] = []
    held: dict[bytes, Holdings] = {}
    for key, raw in store.iter_state():
        if key[:1] in (TAG_ACCOUNT, TAG_VALIDATOR):
            try:
                held[key] = get_holdings(key, decode_record(key, raw))
            except DecodeError:
                errors.append(f"supply: state record {key.hex()} does not decode")
    totals = compute_holdings(())
    for h in held.values():
        totals = totals + h
    for height in range(chain.head.height, -1, -1):
        block_hash = store.get_hash_at(height)
        raw = store.get_supply(block_hash) if block_hash is not None else None
        if raw is None:
            if height == 0 or store.get_supply(store.get_hash_at(height - 1) or b"") is not None:
                errors.append(f"supply: height {height} has no ledger record")
            break  # a data dir older than the ledger: it starts after here
        try:
            rec = SupplyRecord.decode(raw)
        except DecodeError:
            errors.append(f"supply: the ledger record at height {height} does not decode")
            break
        if rec.expected_total != rec.total:
            errors.append(f"supply: at height {height} the ledger's holdings ({rec.total}) are not genesis + "
                          f"minted - burned ({rec.expected_total})")
        problem = compute_imbalance(rec, totals)
        if problem:
            errors.append(f"supply: at height {height} {problem}")
            if len(errors) > 20:
                break
        if height == 0 or rec.since == height:
            break
        raw_undo = store.get_undo(block_hash)
        if raw_undo is None:
            break  # verify_db reports the missing undo data
        for key, prior in Undo.decode(raw_undo).priors:
            if key[:1] not in (TAG_ACCOUNT, TAG_VALIDATOR):
                continue
            before = get_holdings(key, decode_record(key, prior)) if prior is not None else Holdings()
            totals = totals - held.get(key, Holdings()) + before
            held[key] = before
    return errors


# -- energy ---------------------------------------------------------------------------------------
def _joules(us: int, watts: float) -> float:
    return us / 1e6 * watts


def _per(value: float, n: int) -> float | None:
    return value / n if n else None


def energy_view(node: Node, watts: float | None = None, last: int = 40) -> dict:
    """What this node spent producing (PoW: the nonce search) and securing (PoS: validator duties) the chain,
    in CPU seconds and, by the watts-per-busy-core model, joules; per block and per transaction."""
    w = get_watts_per_core(watts)
    chain = node.chain
    raw = node.store.get_energy(chain.head.hash)
    rec = EnergyRecord.decode(raw) if raw is not None else None
    recent = []
    for height in range(chain.head.height, max(0, chain.head.height - last), -1):
        r = node.store.get_energy(chain.get_hash_at(height))
        if r is None:
            break
        e = EnergyRecord.decode(r)
        recent.append({"height": height, "measured": bool(e.measured), "pos_block": bool(e.is_pos),
                       "pow_cpu_seconds": e.pow_us / 1e6, "pos_cpu_seconds": e.pos_us / 1e6,
                       "joules": _joules(e.pow_us + e.pos_us, w)})
    recent.reverse()
    model = {"watts_per_core": w,
             "explain": f"joules = CPU seconds the OS counted × {w:g} W per busy core (set with --watts or "
                        "CHAINTOP_WATTS_PER_CORE); an idle core counts as nothing, the machine's base load "
                        "is left out"}
    out: dict = {"height": chain.head.height, "model": model, "recent": recent, "since": None}
    if rec is None:
        out.update(pow=None, pos=None, reduction=None)
        return out
    pow_us, pos_on_pow_us = rec.pow_blocks_pow_us, rec.pow_blocks_pos_us
    pow_blocks_us = pow_us + pos_on_pow_us
    out["since"] = rec.since
    out["pow"] = {  # blocks made by proof of work: the search, and (hybrid) the committees beside it
        "blocks": rec.pow_blocks, "txs": rec.pow_txs,
        "search_cpu_seconds": pow_us / 1e6, "votes_cpu_seconds": pos_on_pow_us / 1e6,
        "joules": _joules(pow_blocks_us, w), "search_joules": _joules(pow_us, w),
        "votes_joules": _joules(pos_on_pow_us, w),
        "joules_per_block": _per(_joules(pow_blocks_us, w), rec.pow_blocks),
        "search_joules_per_block": _per(_joules(pow_us, w), rec.pow_blocks),
        "votes_joules_per_block": _per(_joules(pos_on_pow_us, w), rec.pow_blocks),
        "joules_per_tx": _per(_joules(pow_blocks_us, w), rec.pow_txs),
    }
    out["pos"] = {  # blocks made by a stake-chosen proposer: validator duties only
        "blocks": rec.pos_blocks, "txs": rec.pos_txs, "cpu_seconds": rec.pos_blocks_us / 1e6,
        "joules": _joules(rec.pos_blocks_us, w),
        "joules_per_block": _per(_joules(rec.pos_blocks_us, w), rec.pos_blocks),
        "joules_per_tx": _per(_joules(rec.pos_blocks_us, w), rec.pos_txs),
    }
    out["reduction"] = _reduction(out)
    return out


def _reduction(view: dict) -> dict | None:
    """How much less energy a block costs under PoS: after the merge against before it (merge devnets), or
    the committees against the search on the same PoW blocks (hybrid)."""
    p, s = view["pow"], view["pos"]
    if p["joules_per_block"] and s["joules_per_block"] is not None:
        before, after, what = p["joules_per_block"], s["joules_per_block"], "PoS blocks against PoW blocks"
    elif p["search_joules_per_block"] and p["votes_joules_per_block"] is not None and p["votes_cpu_seconds"]:
        before, after = p["search_joules_per_block"], p["votes_joules_per_block"]
        what = "the PoS committees' votes against the PoW search, per block"
    else:
        return None
    return {"before_joules_per_block": before, "after_joules_per_block": after, "compared": what,
            "percent": round(100 * (1 - after / before), 4) if before else None,
            "explain": "Ethereum's switch to proof of stake (the Merge, 2022) cut its energy use by ~99.99%; "
                       "this is the same comparison on your machine"}


def block_energy(node: Node, idx: BlockIndex, watts: float | None = None) -> dict | None:
    raw = node.store.get_energy(idx.hash)
    if raw is None:
        return None
    e = EnergyRecord.decode(raw)
    w = get_watts_per_core(watts)
    return {"measured": bool(e.measured), "pow_cpu_seconds": e.pow_us / 1e6,
            "pos_cpu_seconds": e.pos_us / 1e6,
            "joules": _joules(e.pow_us + e.pos_us, w), "watts_per_core": w}


__all__ = ["supply_view", "block_supply", "verify_supply", "energy_view", "block_energy"]
