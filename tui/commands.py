"""The command palette (ctrl+p): every chain operation by name, e.g. "block: go to height", "mining: auto"."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


def chain_commands(app) -> list[tuple[str, Callable[[], object], str]]:
    """(name, callback, help) for every operation; names group by their prefix before the colon."""
    a = app.actions
    out: list[tuple[str, Callable[[], object], str]] = []
    for key, mode, label in (("1", "dashboard", "dashboard"), ("2", "blocks", "blocks"),
                             ("3", "mempool", "mempool"), ("4", "mining", "mining"),
                             ("5", "validators", "validators and committees"),
                             ("6", "wallet", "wallet"), ("7", "events", "events log"),
                             ("8", "network", "network: peers and forks")):
        out.append((f"screen: {label}", partial(app.show_mode, mode), f"key {key}"))
    out += [
        ("block: go to height", a.prompt_block, "open a block by height or hash  (chaintop block ID)"),
        ("block: open the head", lambda: app.open_block(app.model.status.get("height", 0)),
         "the newest block"),
        ("tx: look up by txid", a.prompt_tx, "status, confirmations, inclusion proof  (chaintop tx TXID)"),
        ("account: look up", a.prompt_account, "balance, nonce, history  (chaintop account ADDRESS)"),
        ("search: height, hash, txid or address", app.action_search, "key /"),
        ("mine 1 block", partial(a.mine, 1), "chaintop mine"),
        ("mine 10 blocks", partial(a.mine, 10), "chaintop mine --blocks 10"),
        ("mine N blocks…", a.prompt_mine, "chaintop mine --blocks N"),
        ("mining: auto", partial(a.set_mining, "auto"),
         "mine whenever transactions wait  (chaintop mining auto)"),
        ("mining: interval", partial(a.set_mining, "interval"), "one block per target spacing"),
        ("mining: manual", partial(a.set_mining, "manual"), "only when asked"),
        ("mining: off", partial(a.set_mining, "off"), "never mine"),
        ("mining: workers…", a.prompt_workers,
         "worker processes searching nonces  (chaintop mining --workers N)"),
        ("traffic: off", partial(a.set_traffic, 0.0), "stop the generated transfers"),
        ("traffic: 10 tx/s", partial(a.set_traffic, 10.0), "generated transfers among the dev accounts"),
        ("traffic: 200 tx/s", partial(a.set_traffic, 200.0), "a busy mempool"),
        ("traffic: set rate…", a.prompt_traffic, "chaintop mining --traffic RATE"),
        ("send coins…", partial(app.show_mode, "wallet", "send-to"), "the send form  (chaintop send)"),
        ("stake…", a.stake_dialog, "lock coins as a validator  (chaintop stake)"),
        ("unstake…", a.unstake_prompt, "exit a validator  (chaintop unstake)"),
        ("validator: take offline…", partial(a.fault_prompt, "offline"), "chaintop validator offline INDEX"),
        ("validator: bring online…", partial(a.fault_prompt, "online"), "chaintop validator online INDEX"),
        ("validator: equivocate…", partial(a.fault_prompt, "equivocate"),
         "make it get slashed  (chaintop validator equivocate INDEX)"),
        ("net: partition this node", a.partition,
         "drop every peer, mine alone until healed  (chaintop net partition)"),
        ("net: heal the partition", a.heal,
         "redial the peers; the lighter branch reorgs  (chaintop net heal)"),
        ("net: 51% attack from this node", a.attack,
         "pay, rewind, double-spend; PoW reorgs, finality refuses  (chaintop attack majority)"),
        ("mempool: fee estimate", a.fee_estimate, "what recent blocks paid  (chaintop fee-estimate)"),
        ("db: verify", a.verify, "re-check the stored chain  (chaintop db verify)"),
        ("export blocks to file…", a.prompt_export, "chaintop export FILE"),
        ("help: keys and numbers explained", app.action_help, "key ?"),
        ("quit", app.action_quit_clean, "stop the node cleanly and exit (q)"),
    ]
    return out


class ChainCommands(Provider):
    async def discover(self) -> Hits:
        for name, callback, help_text in chain_commands(self.app):
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        words = query.replace(":", " ").split()
        numbers = [w for w in words if w.isdigit()]
        if numbers:  # "block 42", "42", "mine 5": offer the operation with the number filled in
            n = int(numbers[0])
            yield Hit(1.0, f"block: go to height {n}", partial(self.app.open_block, n),
                      help="open that block")
            if any(w.startswith("mine") for w in words) and 1 <= n <= 10_000:
                yield Hit(1.0, f"mine {n} blocks", partial(self.app.actions.mine, n),
                          help=f"chaintop mine --blocks {n}")
        for name, callback, help_text in chain_commands(self.app):
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
