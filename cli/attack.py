"""attack majority: the 51% attack playground on a devnet (node/attack.py does it; this prints it)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli import output
from cli.common import handle_errors
from cli.devnet import DirOpt, devnet_root
from cli.options import JsonOpt


def register(app: typer.Typer) -> None:
    attack = typer.Typer(help="The attack playground: rewrite a devnet's history, or watch finality refuse.",
                         no_args_is_help=True)
    app.add_typer(attack, name="attack")

    @attack.command("majority")
    @handle_errors
    def majority(
        node: Annotated[str, typer.Option("--node", metavar="NODE",
                                          help="The attacker: a devnet node (node1, node2, ...).")] = "node1",
        target: Annotated[str | None, typer.Option(
            "--target", metavar="TXID",
            help="A confirmed payment from a dev account to reverse (default: the attacker pays 10 coins to "
                 "the next node's account and waits for the confirmations).")] = None,
        confirmations: Annotated[int, typer.Option(
            "--confirmations", metavar="K",
            help="Confirmations the payment gets on the honest nodes before the attack (with validators: "
                 "and until it is finalized).")] = 2,
        timeout: Annotated[float, typer.Option("--timeout", metavar="SECONDS",
                                               help="Give up (and heal) after this long.")] = 240.0,
        directory: DirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """A majority attacker double-spends: it confirms a payment, splits off, rewinds before it, spends the
        same coins to itself, mines a heavier private branch and releases it. Proof of work reorgs onto it;
        with finality (hybrid, pos-devnet) the honest nodes refuse it at the finalized checkpoint."""
        from node import attack as atk
        from node import devnet as dn
        from node.client import RpcClient

        datadir = dn.node_datadir(devnet_root(directory), node)
        attacker = RpcClient.for_datadir(datadir)
        if attacker is None:
            from chain.errors import StoreError

            raise StoreError("node-not-running", f"{node} is not running: `chaintop devnet up` starts it")
        _, honest, mine_account, victim = dn.attack_sides(datadir)
        plan = atk.Attack(attacker, honest, mine_account, victim, target, confirmations, timeout=timeout,
                          branch_file=str(datadir / "attack-branch.blk"),
                          say=lambda text: print(f"[attack] {text}", file=sys.stderr, flush=True))
        output.emit(atk.run(plan), as_json, render)


def render(r: dict) -> str:
    lines = [r["summary"], ""]
    lines.append(f"payment {r['payment']['txid']} (block {r['payment'].get('height')}); conflicting spend "
                 f"{r['conflict']['txid']}")
    for name, h in r.get("honest_after", {}).items():
        lines.append(f"{name}: head {h['height']} {h['head'][:12]}…, payment {h['payment']} "
                     f"({h['payment_confirmations']} conf.), conflict {h['conflict']}, "
                     f"{h['blocks_reverted']} block(s) reverted")
    if r.get("finalized_checkpoint"):
        cp = r["finalized_checkpoint"]
        lines.append(f"finalized checkpoint epoch {cp['epoch']} {'held' if cp['held'] else 'LOST'}; "
                     f"stake slashed {r['slashed']['stake']}")
    return "\n".join(lines)
