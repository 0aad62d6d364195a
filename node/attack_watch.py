"""The attack playground's last part (node/attack.py): watching the honest nodes after the release, and what
each of them holds in the end, asked of each over its RPC."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from chain.errors import ChaintopError, NotFound, UsageError

if TYPE_CHECKING:
    from node.attack import Attack

STEP_WAIT = 30.0  # seconds one wait (a block to propagate, a proposal) may take


def has_block(api, block_hash: str) -> bool:
    try:
        return bool(api.block(block_hash)["main_chain"])
    except NotFound:
        return False


def honest_work(attack: Attack) -> int:
    return max(int(api.status()["chain_work"], 16) for api in attack.honest.values())


def work_of(api) -> int:
    return int(api.status()["chain_work"], 16)


def watch(attack: Attack) -> None:
    a, r = attack.attacker, attack.report
    attack.wait("the attacker to reconnect", lambda: a.peers()["peers"], bound=STEP_WAIT)
    if r["finality"]:
        _watch_refusal(attack)
    else:
        _watch_reorg(attack)


def _watch_reorg(attack: Attack) -> None:
    a, r = attack.attacker, attack.report
    pay, conflict = r["payment"]["txid"], r["conflict"]["txid"]
    attack.say("watching the honest nodes: do they follow the most work?")

    def reorged() -> bool:
        if work_of(a) <= honest_work(attack):  # an honest block came first: the attacker mines one more
            with contextlib.suppress(ChaintopError):
                a.mine(1, to=attack.attacker_account)
        views, others = attack.honest_views(pay), attack.honest_views(conflict)
        return all((views[n] or {}).get("status") != "confirmed" and (others[n] or {}).get("status") ==
                   "confirmed" for n in attack.honest)

    try:
        attack.wait("the honest nodes to reorg onto the attacker's branch", reorged, bound=60)
        r["outcome"] = "double-spend"
    except UsageError:
        r["outcome"] = "not-reorged"
    _after(attack)


def _watch_refusal(attack: Attack) -> None:
    a, r = attack.attacker, attack.report
    attack.say("releasing a new block on the attacker's branch to the honest nodes")
    if r["producer"] == "pow":
        with contextlib.suppress(ChaintopError):
            a.mine(1, to=attack.attacker_account)
    else:
        height = a.status()["height"]
        with contextlib.suppress(UsageError):
            attack.wait("the attacker's next proposal", lambda: a.status()["height"] > height)
    first = r["branch_first"]

    def refused() -> str | None:  # an honest node that met the branch and refused the attacker (Goodbye)
        for api in attack.honest.values():
            for c in api.peers().get("conflicts", []):
                return c["reason"]
        return None

    with contextlib.suppress(UsageError):
        r["refusal_note"] = attack.wait("an honest node to refuse the attacker's branch", refused,
                                        bound=5 if attack.branch_file else 15)
    if attack.branch_file:
        _hand_over(attack)
    r["branch_adopted_by"] = [n for n, api in attack.honest.items() if has_block(api, first)]
    r["outcome"] = "refused" if not r["branch_adopted_by"] else "reorged-despite-finality"
    _after(attack)


def _hand_over(attack: Attack) -> None:
    """Gossip and sync may never fetch the branch (an honest node syncs only from a peer with a newer
    finalized checkpoint); so the attacker also hands the whole branch to each honest node, as an import,
    and the node answers with its reason."""
    a, r = attack.attacker, attack.report
    head = a.status()["height"]
    a.export_blocks(attack.branch_file, r["fork_height"] + 1, head)
    r["handed_over"] = {}
    for name, api in attack.honest.items():
        try:
            done = api.import_blocks(attack.branch_file)
            r["handed_over"][name] = {"accepted": True, "result": done}
        except ChaintopError as e:
            r["handed_over"][name] = {"accepted": False, "reason": e.code, "message": e.message}
    with contextlib.suppress(OSError):
        os.unlink(attack.branch_file)


def _after(attack: Attack) -> None:
    """What the honest nodes hold now, asked of each one: the payment, the conflict, their heads."""
    r = attack.report
    pay, conflict = r["payment"]["txid"], r["conflict"]["txid"]
    views, others = attack.honest_views(pay), attack.honest_views(conflict)
    r["honest_after"] = {}
    for name, api in attack.honest.items():
        before = r["honest_before_release"][name]
        reverted = sum(1 for h in before["hashes"] if not has_block(api, h))
        reversed_txs = [t for t in before["txs"] if _status(api, t) != "confirmed"]
        r["honest_after"][name] = {
            "head": api.status()["head"], "height": api.status()["height"],
            "payment": (views[name] or {}).get("status", "gone"),
            "payment_confirmations": (views[name] or {}).get("confirmations", 0),
            "conflict": (others[name] or {}).get("status", "gone"),
            "on_attacker_branch": has_block(api, r["branch_first"]),
            "blocks_reverted": reverted, "txs_reversed": reversed_txs}
    node = next(iter(r["honest_after"].values()))
    r["blocks_reverted"] = node["blocks_reverted"]
    r["txs_reversed"] = node["txs_reversed"]
    if r["finality"]:
        honest = next(iter(attack.honest.values()))
        f = honest.finality()
        held = has_block(honest, r["finalized_before"]["root"])
        r["finalized_checkpoint"] = {**r["finalized_before"], "held": held,
                                     "finalized_epoch_now": f["finalized_epoch"]}
        after = {v["index"]: v for v in honest.validators()}
        newly = [i for i, v in after.items() if v["slashed"] and not r["validators_before"].get(i)]
        r["slashed"] = {"validators": newly, "stake": sum(after[i]["effective_balance"] for i in newly)}
    else:  # no finality gadget: nothing to hold, no stake to slash
        r["finalized_checkpoint"] = r["slashed"] = None
    r.pop("validators_before", None)


def _status(api, txid: str) -> str:
    try:
        return api.tx(txid)["status"]
    except NotFound:
        return "gone"
