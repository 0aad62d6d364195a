"""The 51% attack playground (issue 13): one devnet node reverses a payment with a private branch.

    honest:   … ── P-1 ── P(pay) ── … ── H          (the payment has K confirmations, or is finalized)
    attacker: … ── P-1 ── P'(conflict) ── … ── A    (mined alone, more work than H; released on heal)

Steps, each a NodeAPI call (the attacker is the node the command talks to, the honest nodes are its devnet
peers, each through its own RPC): pay and wait for K confirmations (and, with validators, for finality),
`net partition`, `invalidate_block` of the payment's block (below the finalized checkpoint only with the
`below_finality` override, which nothing but this playground passes), a conflicting spend of the same nonce,
a private branch with more work, `net heal`, then watch the honest nodes: PoW ones follow the most work (a
double spend); with finality they refuse a branch without their finalized checkpoint. Heal, reconsider and the
mining mode are always restored, on failure and Ctrl-C too. What it saw is one JSON-ready dict
(node/attack_words.py says it in plain words).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chain import crypto
from chain.consensus.pow import work_from_bits
from chain.errors import ChaintopError, NotFound, UsageError
from chain.params import COIN
from node.attack_words import summarize

Say = Callable[[str], None]
MARGIN_BLOCKS = 2  # the private branch's lead over the honest chain, in blocks, when it is released
STEP_WAIT = 30.0  # seconds one wait (a block to propagate, a proposal) may take


@dataclass
class Attack:
    """The attacker and the honest nodes (name -> NodeAPI), and what the attack is asked to do."""

    attacker: object
    honest: dict[str, object]
    attacker_account: str = "dev0"
    victim_account: str = "dev1"
    target: str | None = None
    confirmations: int = 2
    amount: int = 10 * COIN
    timeout: float = 240.0
    # where the attacker writes its branch to hand it to each honest node (export/import, all on this
    # machine: a devnet is on loopback); None: gossip and sync alone
    branch_file: str | None = None
    say: Say = field(default=lambda text: None)
    stop: Callable[[], bool] = field(default=lambda: False)  # e.g. the TUI quitting: give up, heal
    report: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.timeout

    # -- waiting ---------------------------------------------------------------------------
    def wait(self, what: str, predicate, bound: float = STEP_WAIT):
        end = min(self.deadline, time.monotonic() + bound)
        while True:
            self.check_stop()
            value = predicate()
            if value:
                return value
            if time.monotonic() > end:
                raise UsageError("attack-timeout", f"gave up waiting: {what}")
            time.sleep(0.2)

    def check_stop(self) -> None:
        if self.stop():
            raise UsageError("attack-stopped", "the attack was stopped (healed and reconsidered)")

    def honest_views(self, txid: str) -> dict[str, dict | None]:
        out = {}
        for name, api in self.honest.items():
            try:
                out[name] = api.tx(txid)
            except NotFound:
                out[name] = None
        return out


def run(attack: Attack) -> dict:
    """The whole attack; returns the report (raises ChaintopError with a reason code before it starts)."""
    a, r = attack.attacker, attack.report
    _preflight(attack)
    mode = None
    with contextlib.suppress(ChaintopError):
        mode = a.mining_state()["mode"]
        a.set_mining("manual")  # the attacker's blocks come from this command alone
    partitioned = block = None
    try:
        payment = _payment(attack)
        _confirm(attack, payment)
        attack.say("partitioning the attacker from its peers")
        a.net_partition()
        partitioned = True
        block = r["payment"]["block"]
        _rewind_and_conflict(attack, payment)
        _private_branch(attack)
        attack.say("healing: the attacker releases its branch")
        a.net_heal()
        partitioned = False
        _watch(attack)
    finally:
        if partitioned:
            with contextlib.suppress(ChaintopError):
                a.net_heal()
        if block is not None:  # the attacker takes its own chain's rules back (bitcoind's reconsiderblock)
            with contextlib.suppress(ChaintopError):
                r["reconsidered"] = a.reconsider_block(block)["head_moved"]
        if mode is not None:
            with contextlib.suppress(ChaintopError):
                a.set_mining(mode)
    r["summary"] = summarize(r)
    return r


def _preflight(attack: Attack) -> None:
    a, r = attack.attacker, attack.report
    if attack.confirmations < 1:
        raise UsageError("bad-confirmations", "--confirmations is at least 1")
    view = a.peers()  # no-network when the node is not on one
    if view.get("partitioned"):
        raise UsageError("already-partitioned",
                         "the attacker is partitioned already: `chaintop net heal` first")
    if not view["peers"]:
        raise UsageError("no-peers", "the attacker has no peers: nobody to attack (start a devnet with "
                                     "`chaintop devnet up --nodes 3`)")
    if not attack.honest:
        raise UsageError("no-honest-nodes", "no other running devnet node to watch (the attack needs at "
                                            "least two nodes: `chaintop devnet up --nodes 3`)")
    status = a.status()
    r.update(network=status["network"], consensus=status["consensus"],
             finality=status.get("producer") is not None, producer=status.get("producer", "pow"),
             honest_nodes=sorted(attack.honest))


def _payment(attack: Attack) -> dict:
    a, r = attack.attacker, attack.report
    if attack.target is None:
        attack.say(f"paying {attack.amount // COIN} coins from {attack.attacker_account} to "
                   f"{attack.victim_account}")
        txid = a.send(attack.attacker_account, attack.victim_account, attack.amount)["txid"]
        made = True
    else:
        txid, made = attack.target.strip().lower(), False
        if len(txid) != 64 or any(c not in "0123456789abcdef" for c in txid):
            raise UsageError("bad-txid", f"--target {attack.target!r}: a txid is 64 hex digits")
    tx = a.tx(txid)  # tx-not-found
    if tx["kind"] != "transfer":
        raise UsageError("not-a-payment",
                         f"{txid} is a {tx['kind']}, not a transfer: nothing to double-spend")
    labels = {k["address"]: k["label"] for k in a.keys()}
    sender = labels.get(tx["from"])
    if sender is None:
        raise UsageError("sender-not-attacker", f"the payment's sender {tx['from']} is no dev account: the "
                                                "attacker cannot sign a conflicting spend of it")
    if not made and tx["status"] != "confirmed":
        raise UsageError("tx-not-confirmed", f"{txid} is {tx['status']}, not in a block: nothing to reverse")
    r["payment"] = {"txid": txid, "from": tx["from"], "from_label": sender, "to": tx["to"],
                    "amount": tx["amount"], "fee": tx["fee"], "nonce": tx["nonce"], "made_here": made}
    return r["payment"]


def _honest_confirmations(attack: Attack, txid: str) -> int:
    views = attack.honest_views(txid)
    return min((v or {}).get("confirmations", 0) if (v or {}).get("status") == "confirmed" else 0
               for v in views.values())


def _confirm(attack: Attack, payment: dict) -> None:
    """Until every honest node holds the payment with K confirmations (and, with validators, finalized):
    a PoW attacker mines the blocks itself (it has the hash power), one at a time so the honest nodes'
    votes keep up; under PoS the slots bring them."""
    a, r, txid = attack.attacker, attack.report, payment["txid"]
    finality = r["finality"]
    want = f"{attack.confirmations} confirmation(s)" + (" and finality" if finality else "")
    attack.say(f"waiting for the payment to have {want} on the honest nodes")

    def done() -> bool:
        views = attack.honest_views(txid)
        return all(v is not None and v["status"] == "confirmed" and v["confirmations"] >= attack.confirmations
                   and (not finality or v.get("finalized")) for v in views.values())

    while not done():
        attack.check_stop()
        if time.monotonic() > attack.deadline:
            raise UsageError("attack-timeout", f"the payment did not get {want} on the honest nodes in time")
        if r["producer"] == "pow":
            head = a.mine(1, to=attack.attacker_account)["blocks"][0]
            attack.wait("the honest nodes to take the attacker's block",
                        lambda h=head: all(_has_block(api, h) for api in attack.honest.values()))
            time.sleep(0.3 if finality else 0)  # the honest committees' votes reach the attacker's next block
        else:
            time.sleep(0.5)
    tx = a.tx(txid)
    payment.update(block=tx["block"], height=tx["height"])
    r["payment"]["block"], r["payment"]["height"] = tx["block"], tx["height"]
    r["confirmations_at_partition"] = _honest_confirmations(attack, txid)
    if finality:
        honest = next(iter(attack.honest.values()))
        f = honest.finality()
        r["finalized_before"] = {"epoch": f["finalized_epoch"], "root": f["finalized_root"]}
        r["validators_before"] = {v["index"]: v["slashed"] for v in honest.validators()}


def _has_block(api, block_hash: str) -> bool:
    try:
        return bool(api.block(block_hash)["main_chain"])
    except NotFound:
        return False


def _rewind_and_conflict(attack: Attack, payment: dict) -> None:
    a, r = attack.attacker, attack.report
    finality = r["finality"]
    attack.say(f"rewinding the attacker to block {payment['height'] - 1}, before the payment"
               + (" (below its own finalized checkpoint: the playground's override)" if finality else ""))
    rewound = a.invalidate_block(payment["block"], below_finality=finality)
    r["attacker_rewound"] = {"blocks": len(rewound["reverted"]), "to_height": rewound["head_height"],
                             "below_finality": rewound["below_finality"]}
    r["fork_height"] = rewound["head_height"]
    with contextlib.suppress(ChaintopError):
        a.drop_tx(payment["txid"])  # back in its pool after the rewind; the conflict takes its nonce
    params = a.params_view()
    stash = crypto.encode_address(params["hrp"], crypto.dev_keypair(params["dev_accounts"]).address)
    conflict = a.send(payment["from_label"], stash, payment["amount"], fee=payment["fee"] * 2,
                      nonce=payment["nonce"])["txid"]
    r["conflict"] = {"txid": conflict, "to": stash, "amount": payment["amount"], "nonce": payment["nonce"]}
    attack.say(f"conflicting spend {conflict[:16]}…: the same coins, nonce {payment['nonce']}, to the "
               "attacker's stash")


def _honest_work(attack: Attack) -> int:
    return max(int(api.status()["chain_work"], 16) for api in attack.honest.values())


def _work(api) -> int:
    return int(api.status()["chain_work"], 16)


def _private_branch(attack: Attack) -> None:
    """PoW producer: mine enough blocks for more work than the honest chain (computed, then topped up, as
    the honest nodes go on mining). PoS: the attacker's validators propose in their own slots; wait for
    the conflicting spend to be in a block and a block after it."""
    a, r = attack.attacker, attack.report
    conflict = r["conflict"]["txid"]
    start = time.monotonic()
    if r["producer"] == "pow":
        honest = _honest_work(attack)
        s = a.status()
        per_block = work_from_bits(int(s["next_bits"], 16))
        need = max(1, -(-(honest - int(s["chain_work"], 16)) // per_block) + MARGIN_BLOCKS)
        r["blocks_needed"] = {"honest_work": f"{honest:x}", "attacker_work_at_fork": s["chain_work"],
                              "work_per_block": per_block, "blocks": need}
        attack.say(f"mining {need} blocks privately: the honest chain has {honest - int(s['chain_work'], 16)}"
                   f" more work than the fork point, {per_block} per block, plus {MARGIN_BLOCKS}")
        mined = len(a.mine(need, to=attack.attacker_account)["blocks"])
        while _work(a) <= _honest_work(attack) + MARGIN_BLOCKS * per_block // 2:
            if time.monotonic() > attack.deadline:
                raise UsageError("attack-timeout", "the honest nodes out-mined the private branch")
            mined += len(a.mine(1, to=attack.attacker_account)["blocks"])
    else:
        attack.say("the attacker's validators propose its private branch in their slots")
        fork = r["fork_height"]
        attack.wait("the attacker's validators to propose the conflicting spend and a block on it",
                    lambda: a.tx(conflict)["status"] == "confirmed" and a.status()["height"] >= fork + 2,
                    bound=attack.timeout)
        mined = 0  # proposed in the attacker's slots, not mined by this command
    s = a.status()
    r["private_branch"] = {"blocks": s["height"] - r["fork_height"], "mined_by_command": mined,
                           "head": s["head"], "height": s["height"], "work": s["chain_work"],
                           "honest_work": f"{_honest_work(attack):x}",
                           "seconds": round(time.monotonic() - start, 2)}
    r["branch_first"] = a.block(r["fork_height"] + 1)["hash"]
    r["honest_before_release"] = {name: _branch(api, r["fork_height"]) for name, api in attack.honest.items()}
    r["confirmations_at_release"] = _honest_confirmations(attack, r["payment"]["txid"])


def _branch(api, fork: int) -> dict:
    """An honest node's blocks above the fork point: their hashes and transactions."""
    top = api.status()["height"]
    views = [api.block(h) for h in range(fork + 1, top + 1)]
    return {"height": top, "hashes": [v["hash"] for v in views], "txs": [t for v in views for t in v["txs"]]}


def _watch(attack: Attack) -> None:
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
        if _work(a) <= _honest_work(attack):  # an honest block came first: the attacker mines one more
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

    def refused() -> str | None:
        for api in attack.honest.values():
            for p in api.peers()["peers"]:
                if p.get("sync_note"):
                    return p["sync_note"]
        return None

    with contextlib.suppress(UsageError):
        r["refusal_note"] = attack.wait("an honest node to refuse the attacker's branch", refused,
                                        bound=5 if attack.branch_file else 15)
    if attack.branch_file:
        _hand_over(attack)
    r["branch_adopted_by"] = [n for n, api in attack.honest.items() if _has_block(api, first)]
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
        reverted = sum(1 for h in before["hashes"] if not _has_block(api, h))
        reversed_txs = [t for t in before["txs"] if _status(api, t) != "confirmed"]
        r["honest_after"][name] = {
            "head": api.status()["head"], "height": api.status()["height"],
            "payment": (views[name] or {}).get("status", "gone"),
            "payment_confirmations": (views[name] or {}).get("confirmations", 0),
            "conflict": (others[name] or {}).get("status", "gone"),
            "on_attacker_branch": _has_block(api, r["branch_first"]),
            "blocks_reverted": reverted, "txs_reversed": reversed_txs}
    node = next(iter(r["honest_after"].values()))
    r["blocks_reverted"] = node["blocks_reverted"]
    r["txs_reversed"] = node["txs_reversed"]
    if r["finality"]:
        honest = next(iter(attack.honest.values()))
        f = honest.finality()
        held = _has_block(honest, r["finalized_before"]["root"])
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
