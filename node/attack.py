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
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chain import crypto
from chain.consensus.pow import work_from_bits
from chain.errors import ChaintopError, NotFound, UsageError
from chain.params import COIN
from node.attack_watch import STEP_WAIT, has_block, honest_work, watch, work_of
from node.attack_words import summarize

Say = Callable[[str], None]
MARGIN_BLOCKS = 2  # the private branch's lead over the honest chain, in blocks, when it is released


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
    peer_addresses: list[str] = field(default_factory=list)  # the attacker's peers before: redialled after

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
        watch(attack)
    finally:
        if partitioned:
            with contextlib.suppress(ChaintopError):
                a.net_heal()
        if block is not None:  # the attacker takes its own chain's rules back (bitcoind's reconsiderblock)
            with contextlib.suppress(ChaintopError):
                r["reconsidered"] = a.reconsider_block(block)["head_moved"]
        if block is not None:
            _redial(attack)
        if mode is not None:
            with contextlib.suppress(ChaintopError):
                a.set_mining(mode)
    with contextlib.suppress(UsageError):
        attack.wait("the attacker back with its peers", lambda: _missing_peers(attack) == [], bound=15)
    r["attacker_peers_after"] = len(a.peers()["peers"])
    r["summary"] = summarize(r)
    return r


def _missing_peers(attack: Attack) -> list[str]:
    now = {p["address"] for p in attack.attacker.peers()["peers"]}
    return [address for address in attack.peer_addresses if address not in now]


def _redial(attack: Attack) -> None:
    """Honest nodes that met the attacker's branch said Goodbye (irrelevant network: its finalized checkpoint
    conflicted) and will not dial it again; reconsidered, its chain is theirs again, so it dials them."""
    with contextlib.suppress(ChaintopError):
        for address in _missing_peers(attack):
            with contextlib.suppress(ChaintopError):
                attack.attacker.net_connect(address)


def _preflight(attack: Attack) -> None:
    a, r = attack.attacker, attack.report
    if attack.confirmations < 1:
        raise UsageError("bad-confirmations", "--confirmations is at least 1")
    view = a.peers()  # no-network when the node is not on one
    if view.get("partitioned"):
        raise UsageError("already-partitioned",
                         "the attacker is partitioned already: `chaintop net heal` first")
    attack.peer_addresses = [p["address"] for p in view["peers"]]
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
                        lambda h=head: all(has_block(api, h) for api in attack.honest.values()))
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






def _private_branch(attack: Attack) -> None:
    """PoW producer: mine enough blocks for more work than the honest chain (computed, then topped up, as
    the honest nodes go on mining). PoS: the attacker's validators propose in their own slots; wait for
    the conflicting spend to be in a block and a block after it."""
    a, r = attack.attacker, attack.report
    conflict = r["conflict"]["txid"]
    start = time.monotonic()
    if r["producer"] == "pow":
        honest = honest_work(attack)
        s = a.status()
        per_block = work_from_bits(int(s["next_bits"], 16))
        need = max(1, -(-(honest - int(s["chain_work"], 16)) // per_block) + MARGIN_BLOCKS)
        r["blocks_needed"] = {"honest_work": f"{honest:x}", "attacker_work_at_fork": s["chain_work"],
                              "work_per_block": per_block, "blocks": need}
        attack.say(f"mining {need} blocks privately: the honest chain has {honest - int(s['chain_work'], 16)}"
                   f" more work than the fork point, {per_block} per block, plus {MARGIN_BLOCKS}")
        mined = len(a.mine(need, to=attack.attacker_account)["blocks"])
        while work_of(a) <= honest_work(attack) + MARGIN_BLOCKS * per_block // 2:
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
                           "honest_work": f"{honest_work(attack):x}",
                           "seconds": round(time.monotonic() - start, 2)}
    r["branch_first"] = a.block(r["fork_height"] + 1)["hash"]
    r["honest_before_release"] = {name: _branch(api, r["fork_height"]) for name, api in attack.honest.items()}
    r["confirmations_at_release"] = _honest_confirmations(attack, r["payment"]["txid"])


def _branch(api, fork: int) -> dict:
    """An honest node's blocks above the fork point: their hashes and transactions."""
    top = api.status()["height"]
    views = [api.block(h) for h in range(fork + 1, top + 1)]
    return {"height": top, "hashes": [v["hash"] for v in views], "txs": [t for v in views for t in v["txs"]]}
