"""Proof-of-stake commands: stake, unstake, validators, committees, finality, duties, validator FAULT
INDEX."""

from __future__ import annotations

from typing import Annotated

import typer

from chain.errors import UsageError
from chain.params import format_coins, parse_coins
from cli import output
from cli.common import handle_errors, open_node
from cli.options import FeeOpt, JsonOpt, StakerOpt

validator_app = typer.Typer(help="Fault injection for validators this node runs: offline, online, "
                                 "equivocate.", no_args_is_help=True)


def _coins(units: int) -> str:
    """Four decimals on screen (exact values are in --json)."""
    return format_coins(units) if units % 10_000 == 0 else f"{units / 10**8:.4f}"


def render_validators(rows: list[dict]):
    def status(v: dict) -> str:
        s = v["status"]
        if v["slashed"]:
            s = f"[bold red]SLASHED[/] {s}"
        if v["offline"]:
            s += " [yellow](offline)[/]"
        return s

    return output.list_table(
        ["#", "status", "eff.", "balance", "rewards", "active@", "exit@", "free@", "owner", "local"],
        [(v["index"], status(v), _coins(v["effective_balance"]), _coins(v["balance"]),
          ("+" if v["rewards"] >= 0 else "-") + _coins(abs(v["rewards"])), v["activation_epoch"],
          "" if v["exit_epoch"] is None else v["exit_epoch"],
          "" if v["withdrawable_epoch"] is None else v["withdrawable_epoch"], output.short(v["address"], 12),
          "yes" if v["local"] else "")
         for v in rows],
        title=f"validators ({sum(1 for v in rows if v['status'] in ('active', 'exiting'))} active "
              f"of {len(rows)}); amounts in coins",
    )


def render_committees(d: dict):
    return output.list_table(
        ["slot", "proposer", "committee (validator indices)"],
        [(s["slot"], "—" if s["proposer"] is None else s["proposer"], " ".join(map(str, s["committee"])))
         for s in d["slots"]],
        title=f"epoch {d['epoch']}: one committee per slot, from the swap-or-not shuffle",
    )


def render_finality(f: dict):
    return output.kv_table([
        ("epoch / slot", f"{f['current_epoch']} / {f['current_slot']}"),
        ("justified", f"epoch {f['justified_epoch']}  {f['justified_root'][:16]}…"),
        ("finalized", f"epoch {f['finalized_epoch']}  {f['finalized_root'][:16]}…"),
        ("participation", f"{f['participation']:.1%} of active stake voted for last epoch's target "
                          "(2/3 justifies)"),
        ("this epoch", f"{f['target_votes']:.1%} so far"),
        ("finality delay", f"{f['finality_delay']} epoch(s)"
                           + ("  [bold red]INACTIVITY LEAK[/]" if f["leaking"] else "")),
        ("active stake", f"{_coins(f['total_active_stake'])} coins"),
    ], title="Casper FFG finality")


def register(app: typer.Typer) -> None:
    app.add_typer(validator_app, name="validator")

    @app.command()
    @handle_errors
    def stake(
        sender: StakerOpt,
        amount: Annotated[str, typer.Option(
            "--amount", metavar="COINS", help="Coins to bond (a new validator needs the minimum).")],
        fee: FeeOpt = None,
        validator_key: Annotated[str | None, typer.Option(
            "--validator-key", metavar="SEED",
            help="Validator seed (hex); default: a fresh dev validator key this node runs.")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Bond coins to a validator; it joins the activation queue and, once active, proposes and votes."""
        units = parse_coins(amount, "amount")
        if units == 0:
            raise UsageError("bad-amount", "the amount must be more than zero")
        with open_node() as api:
            data = api.stake(sender, units, parse_coins(fee, "fee") if fee is not None else None,
                             validator_key)
        output.emit(data, as_json, lambda d: f"staked: txid {d['txid']} "
                                             f"(validator key {d['validator_pubkey'][:16]}…); "
                                             "it activates after the queue: watch `chaintop validators`")

    @app.command()
    @handle_errors
    def unstake(
        sender: StakerOpt,
        index: Annotated[int, typer.Option("--validator", metavar="INDEX",
                                                           help="The validator's index.")],
        fee: FeeOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        ("Start a validator's exit; its balance returns to the account after the withdrawal delay "
         "(the lock-up).")
        with open_node() as api:
            data = api.unstake(sender, index, parse_coins(fee, "fee") if fee is not None else None)
        output.emit(data, as_json, lambda d: f"unstaking: txid {d['txid']}")

    @app.command()
    @handle_errors
    def validators(as_json: JsonOpt = False) -> None:
        """Every validator: status, effective balance, balance, rewards, slashed."""
        with open_node() as api:
            data = api.validators()
        output.emit(data, as_json, render_validators)

    @app.command()
    @handle_errors
    def committees(epoch: Annotated[int | None, typer.Option(
                       "--epoch", metavar="EPOCH", help="Default: the current epoch.")] = None,
                   as_json: JsonOpt = False) -> None:
        """An epoch's committee per slot and (under PoS) each slot's proposer."""
        with open_node() as api:
            data = api.committees(epoch)
        output.emit(data, as_json, render_committees)

    @app.command()
    @handle_errors
    def finality(as_json: JsonOpt = False) -> None:
        """Justified and finalized checkpoints, participation, and whether the inactivity leak runs."""
        with open_node() as api:
            data = api.finality()
        output.emit(data, as_json, render_finality)

    @app.command()
    @handle_errors
    def duties(as_json: JsonOpt = False) -> None:
        """Upcoming proposals and votes of the validators this node runs."""
        with open_node() as api:
            data = api.duties()
        output.emit(data, as_json, lambda rows: output.list_table(
            ["slot", "epoch", "validator", "duty"],
            [(d["slot"], d["epoch"], d["index"], d["kind"]) for d in rows],
            title="duties of local validators"))


def _fault(mode: str):
    @handle_errors
    def command(index: Annotated[int, typer.Argument(help="Validator index.")],
                as_json: JsonOpt = False) -> None:
        # a fault lives in the running node's validator duties: a node opened here would forget it on exit
        with open_node(embedded_ok=False) as api:
            data = api.validator_fault(index, mode)
        output.emit(data, as_json, lambda d: f"validator {d['index']}: offline={d['offline']} "
                                             f"equivocate={d['equivocate']}")

    command.__doc__ = {
        "offline": "Stop a local validator's duties (it misses votes and proposals and is penalised).",
        "online": "Resume a local validator's duties.",
        "equivocate": "Make a local validator double-vote or double-propose once, so it gets slashed.",
    }[mode]
    return command


for _mode in ("offline", "online", "equivocate"):
    validator_app.command(_mode)(_fault(_mode))
