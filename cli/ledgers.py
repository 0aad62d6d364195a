"""The two ledgers: `supply` (where every coin came from) and `energy` (what producing and securing each
block cost this machine)."""

from __future__ import annotations

from typing import Annotated

import typer

from chain.params import format_coins
from cli import output
from cli.common import handle_errors, open_node
from cli.options import JsonOpt
from node.energy import format_joules as _j
from node.energy import get_watts_per_core

PART_WORDS = {
    "subsidy": "block subsidies (PoW rewards)",
    "attestation_rewards": "staking rewards for votes",
    "proposer_rewards": "rewards for including votes",
    "whistleblower": "whistleblower rewards",
    "penalties": "penalties for missed votes",
    "leak": "inactivity-leak losses",
    "slashing": "slashing burns",
}


def coins(units: int) -> str:
    return (format_coins(units) if units >= 0 else "-" + format_coins(-units)) + " coins"


def percent(rate: float | None) -> str:
    return "beyond e^30" if rate is None else f"{rate:.4%}"


def render_supply(d: dict):
    rows = [("height", f"{d['height']}  {d['hash'][:16]}…"),
            ("total supply", f"{coins(d['total'])}  (every account and validator balance)"),
            ("genesis", coins(d["genesis"]) + ("" if not d["since"] else
                                              f"  (balances at height {d['since']}, where this data dir's "
                                              "ledger starts)"))]
    rows += [(f"+ {PART_WORDS[k]}", coins(v)) for k, v in d["minted"].items()]
    rows += [(f"- {PART_WORDS[k]}", coins(v)) for k, v in d["burned"].items()]
    check = "[green]balanced[/]" if d["balanced"] else "[red]IMBALANCED[/]"
    rows.append(("= genesis + minted - burned", f"{coins(d['expected_total'])}  {check}"))
    rows += [("fees (moved, not minted)", coins(d["moved"]["fees"])),
             ("withdrawn (moved back)", coins(d["moved"]["withdrawn"])),
             ("held in accounts", coins(d["held"]["accounts"])),
             ("stake locked in validators", coins(d["held"]["stake_locked"])),
             ("pending withdrawals", f"{coins(d['held']['pending_withdrawals'])}  (exiting, still locked)")]
    pow_i, pos_i = d["issuance"].get("pow"), d["issuance"].get("pos")
    if pow_i:
        rows.append(("PoW issuance", f"{pow_i['per_block_coins']} coins per block (next halving at "
                                     f"{pow_i['next_halving_height']}); {pow_i['explain']}"))
    if pos_i:
        rows.append(("PoS issuance", f"{pos_i['per_epoch_coins']} coins per epoch net of penalties "
                                     f"({pos_i['yield_per_epoch']:.4%} of the stake per "
                                     f"{pos_i['epoch_seconds']:g} s epoch; a year of that: "
                                     f"{pos_i['annual_rate']:.4g}x the stake simple, "
                                     f"{percent(pos_i['annualised_yield'])} compounded)"))
        rows.append(("", f"[dim]{pos_i['explain']}[/]"))
    return output.kv_table(rows, title="supply")


def render_energy(d: dict):
    rows = [("model", d["model"]["explain"])]
    p, s = d["pow"], d["pos"]
    if p is None:
        rows.append(("measured", "nothing yet: this node records what it spends on each block it connects"))
        return output.kv_table(rows, title="energy")
    rows.append(("since", f"height {d['since']} (what this node measured while it ran)"))
    if p["blocks"]:
        rows.append(("PoW blocks", f"{p['blocks']}: nonce search {p['search_cpu_seconds']:.3f} CPU s = "
                                   f"{_j(p['search_joules'])}; committee votes {p['votes_cpu_seconds']:.3f} "
                                   f"CPU s = {_j(p['votes_joules'])}"))
        rows.append(("  per block", f"{_j(p['joules_per_block'])} "
                                    f"(search {_j(p['search_joules_per_block'])}, "
                                    f"votes {_j(p['votes_joules_per_block'])}); per transaction "
                                    f"{_j(p['joules_per_tx'])}"))
    if s["blocks"]:
        rows.append(("PoS blocks", f"{s['blocks']}: validator duties {s['cpu_seconds']:.3f} CPU s = "
                                   f"{_j(s['joules'])}"))
        rows.append(("  per block", f"{_j(s['joules_per_block'])}; per transaction {_j(s['joules_per_tx'])}"))
    r = d["reduction"]
    if r and r["percent"] is not None:
        rows.append(("reduction", f"{r['percent']:.4g}% less per block ({r['compared']}: "
                                  f"{_j(r['before_joules_per_block'])} -> "
                                  f"{_j(r['after_joules_per_block'])})"))
        rows.append(("", f"[dim]{r['explain']}[/]"))
    return output.kv_table(rows, title="energy")


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def supply(
        at: Annotated[int | None, typer.Option(
            "--at", metavar="HEIGHT", help="A main-chain height (default the head).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Total supply and where every coin came from: genesis, minted, burned, moved, where it is held."""
        with open_node() as api:
            data = api.supply(at)
        output.emit(data, as_json, render_supply)

    @app.command()
    @handle_errors
    def energy(
        watts: Annotated[float | None, typer.Option(
            "--watts", metavar="W",
            help="Watts one busy core draws (default $CHAINTOP_WATTS_PER_CORE, else 15).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """CPU seconds and joules this node spent per block: the PoW nonce search against PoS duties."""
        watts = get_watts_per_core(watts)  # this shell's $CHAINTOP_WATTS_PER_CORE, not the node's
        with open_node() as api:
            data = api.energy(watts)
        output.emit(data, as_json, render_energy)


__all__ = ["register"]
