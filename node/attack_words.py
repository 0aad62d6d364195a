"""The attack playground's ending in plain words (node/attack.py gathers the facts; this says them)."""

from __future__ import annotations

from chain.params import format_coins


def _short(h: str) -> str:
    return h[:12] + "…"


def summarize(r: dict) -> str:
    """A few sentences a learner can read: what happened, and why the chain's rules made it so."""
    if "outcome" not in r:
        return "The attack did not get as far as releasing a branch (see the error)."
    p, c = r["payment"], r["conflict"]
    pay = f"The payment {_short(p['txid'])} of {format_coins(p['amount'])} coins from {p['from_label']}"
    before = r.get("confirmations_at_partition", 0)
    at_release = r.get("confirmations_at_release", before)
    branch = r["private_branch"]
    setup = (f"{pay} had {before} confirmation(s) on the honest nodes when the attacker split itself off "
             f"({at_release} when it came back). The attacker rewound its own chain to block "
             f"{r['fork_height']}, just before the payment, spent the same coins again (nonce {c['nonce']}) "
             f"to its own stash in {_short(c['txid'])}, and built {branch['blocks']} block(s) in private.")
    if r["outcome"] == "double-spend":
        need = r.get("blocks_needed", {})
        return (f"DOUBLE SPEND. {setup} Its branch has more work than the honest chain (it needed "
                f"{need.get('blocks', '?')} block(s) at {need.get('work_per_block', '?')} hashes each; its "
                "bulk `mine` stands in for a majority of the hash power). When it rejoined, the honest nodes "
                "did what proof of work tells them: follow the most work. They reverted "
                f"{r['blocks_reverted']} block(s) and {len(r['txs_reversed'])} transaction(s) with them: the "
                "payment is gone from their chain and the attacker's conflicting spend is in its place. "
                "Confirmations are only probabilistic finality: whoever out-mines everyone else can "
                "rewrite them.")
    if r["outcome"] == "not-reorged":
        return (f"NO REORG (YET). {setup} The honest nodes had not moved onto its branch within the wait: "
                "their own blocks kept pace. With more hash power than everyone else the attacker wins this "
                "race sooner or later; run it again or with --confirmations 1.")
    cp = r["finalized_checkpoint"]
    slashed = r["slashed"]
    stake = (f"Stake slashed: {format_coins(slashed['stake'])} coins (validators {slashed['validators']})."
             if slashed["validators"] else
             "Stake slashed: 0. The attacker's validators signed nothing that conflicts with what they "
             "signed before (their slashing protection refuses a vote for an epoch they already voted on, "
             "and its private blocks were for new slots), so there is no evidence to slash them; the "
             "checkpoint held without it.")
    producer = ("mined privately with more work than the honest chain" if r["producer"] == "pow" else
                "proposed by its validators in their slots (under proof of stake hash power counts for "
                "nothing)")
    if r["outcome"] == "refused":
        reasons = sorted({h["reason"] for h in r.get("handed_over", {}).values() if not h["accepted"]})
        if reasons:
            why = f" (handed the whole branch, each answered {', '.join(reasons)})"
        elif r.get("refusal_note"):
            why = f" (they said: {r['refusal_note']})"
        else:
            why = (" (their sync ranks a newer finalized checkpoint above any amount of work, so they never "
                   "took it)")
        return (f"ATTACK REFUSED: FINALIZED CHECKPOINT HELD AT EPOCH {cp['epoch']}. {setup} The payment was "
                "finalized, so the rewind went below the attacker's own finalized checkpoint, an override "
                f"only this playground uses. Its branch was {producer}. When it rejoined, the honest nodes "
                f"refused it{why}: a branch without their finalized checkpoint is never followed, whatever "
                f"its work or length. The payment is still confirmed on every honest node. {stake}")
    return (f"FINALITY BROKEN? {setup} Honest node(s) {r['branch_adopted_by']} are on the attacker's branch "
            f"although it does not contain the checkpoint finalized at epoch {cp['epoch']}: that is a bug.")
