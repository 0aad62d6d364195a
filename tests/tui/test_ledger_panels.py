"""The ledgers on screen: the energy panel (PoW vs PoS to scale), the supply panel, per-worker hash rates,
and both on the Mining screen of the running hybrid chain."""

from __future__ import annotations

from rich.console import Console

from tests.tui.conftest import SIZE, panel_text, run, settle
from tui.widgets.energy_panel import render_energy
from tui.widgets.search_progress import render_search_progress
from tui.widgets.supply_panel import render_supply


def text(renderable, width: int = 100) -> str:
    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def energy(search: float, votes: float, reduction: float | None) -> dict:
    red = None if reduction is None else {"percent": reduction, "before_joules_per_block": search,
                                          "after_joules_per_block": votes}
    return {"model": {"watts_per_core": 15.0}, "recent": [{"joules": 1.0}, {"joules": 3.0}],
            "pow": {"blocks": 40, "search_joules_per_block": search, "votes_joules_per_block": votes,
                    "votes_cpu_seconds": 0.5},
            "pos": {"blocks": 0}, "reduction": red, "width": 20}


def test_energy_bars_are_to_scale_and_the_model_is_stated():
    out = text(render_energy(energy(2.0, 0.02, 99.0)))
    search, votes = (line for line in out.splitlines() if "J/block" in line)
    assert search.count("█") == 20 and votes.count("█") == 0  # 1% of the bar rounds to nothing
    assert "2 J/block" in search and "20 mJ/block" in votes
    assert "99% less per block under PoS" in out and "99.99%" in out
    assert "15 W per busy core" in out and "CPU seconds the OS counted" in out


def test_energy_says_when_the_search_is_still_cheaper():
    out = text(render_energy(energy(0.001, 0.01, -900.0)))
    assert "PoS costs 10x the search" in out and "difficulty is still low" in out


def test_energy_before_anything_is_measured():
    assert "nothing measured yet" in text(render_energy({"model": {"watts_per_core": 15.0}}))


def supply(balanced: bool = True) -> dict:
    return {"total": 1_000 * 10**8, "genesis": 990 * 10**8, "minted_total": 12 * 10**8,
            "burned_total": 2 * 10**8, "balanced": balanced,
            "minted": {"subsidy": 10 * 10**8, "attestation_rewards": 2 * 10**8, "proposer_rewards": 0,
                       "whistleblower": 0},
            "burned": {"penalties": 10**8, "leak": 0, "slashing": 10**8},
            "held": {"accounts": 900 * 10**8, "stake_locked": 96 * 10**8, "pending_withdrawals": 4 * 10**8},
            "moved": {"fees": 5_000, "withdrawn": 0},
            "issuance": {"pow": {"per_block_coins": "50"},
                         "pos": {"per_epoch": 10**7, "yield_per_epoch": 0.001}}}


def test_supply_panel_shows_the_sum_and_its_parts():
    out = text(render_supply(supply()))
    assert "1000 coins = genesis 990 + minted 12 − burned 2 ✓ balanced" in out
    assert "subsidy 10" in out and "slashing 1" in out and "pending withdrawals 4" in out
    assert "50 coins/block" in out and "0.100% of the stake per epoch" in out and "3-15%" in out
    assert "IMBALANCED" in text(render_supply(supply(balanced=False)))


def test_search_progress_shows_each_workers_rate():
    p = {"height": 7, "hashes": 3_000_000, "expected_hashes": 6_000_000, "hash_rate": 1_800_000.0,
         "eta": 3.3, "workers": 2, "best_hash": "00" * 3 + "ff" * 29, "target": "00" * 4 + "ff" * 28,
         "worker_rates": [900_000.0, 900_000.0]}
    out = text(render_search_progress({"progress": p, "width": 20}), width=120)
    assert "per worker" in out and out.count("900.0 kH/s") == 2
    assert "50%" in out


def test_mining_screen_shows_both_ledgers_on_the_hybrid_chain(hybrid_app):
    async def go():
        async with hybrid_app.run_test(size=SIZE) as pilot:
            await pilot.press("4")
            await settle(pilot)
            screen = pilot.app.screen
            energy_text = panel_text(screen.query_one("#mining-energy"))
            supply_text = panel_text(screen.query_one("#mining-supply"))
            assert "PoW search" in energy_text and "PoS votes" in energy_text
            assert "less per block" in energy_text
            assert "✓ balanced" in supply_text and "slashing 4" in supply_text

    run(go())
