"""The supply ledger: total supply = genesis + minted - burned (checked), its parts, where it is held, and
the issuance rate."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tui import fmt
from tui.widgets.panel import ViewPanel

MINTED = {"subsidy": "subsidy", "attestation_rewards": "vote rewards", "proposer_rewards": "inclusion",
          "whistleblower": "whistleblower"}
BURNED = {"penalties": "penalties", "leak": "leak", "slashing": "slashing"}


def _parts(values: dict, words: dict) -> str:
    return " · ".join(f"{words[k]} {fmt.coins(values.get(k, 0))}" for k in words)


def render_supply(view: dict) -> Table | Text:
    """view: a supply_view dict (node/ledgers.py)."""
    if not view:
        return Text("loading the supply ledger…", style="dim")
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column(overflow="fold")
    ok = (Text(" ✓ balanced", style="green") if view.get("balanced")
          else Text(" ✗ IMBALANCED", style="bold red"))
    t.add_row("total", Text(f"{fmt.coins(view['total'])} coins", style="bold")
              + f" = genesis {fmt.coins(view['genesis'])} + minted {fmt.coins(view['minted_total'])}"
              + f" − burned {fmt.coins(view['burned_total'])}" + ok)
    t.add_row("minted", _parts(view["minted"], MINTED))
    t.add_row("burned", _parts(view["burned"], BURNED))
    held = view["held"]
    t.add_row("held", f"accounts {fmt.coins(held['accounts'])} · staked {fmt.coins(held['stake_locked'])} · "
                      f"pending withdrawals {fmt.coins(held['pending_withdrawals'])}")
    t.add_row("moved", Text(f"fees {fmt.coins(view['moved']['fees'])} (paid by senders, not minted) · "
                            f"withdrawn {fmt.coins(view['moved']['withdrawn'])}", style="dim"))
    issuance = []
    pow_i, pos_i = view.get("issuance", {}).get("pow"), view.get("issuance", {}).get("pos")
    if pow_i:
        issuance.append(f"{pow_i['per_block_coins']} coins/block (PoW subsidy)")
    if pos_i:
        issuance.append(f"{fmt.coins(pos_i['per_epoch'])} coins/epoch to stakers "
                        f"({pos_i['yield_per_epoch']:.3%} of the stake per epoch)")
    if issuance:
        t.add_row("issuance", "; ".join(issuance))
    if pos_i:
        t.add_row("", Text("real networks pay stakers 3-15% a year; this devnet pays ~30x Ethereum's "
                           "reward per epoch in far shorter epochs, so rewards show within minutes",
                           style="dim"))
    return t


class SupplyPanel(ViewPanel):
    render_view = staticmethod(render_supply)
