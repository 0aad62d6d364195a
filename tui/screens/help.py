"""Help (?): the keys, and what each screen's numbers mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

# A backslash ending a line inside these strings joins it to the next one (the text is unchanged, and a
# Markdown table row stays one row): it keeps the source within 110 columns.
GLOBAL = """\
## Keys everywhere

| key | does |
|---|---|
| `1`…`8` | Dashboard, Blocks, Mempool, Mining, Validators, Wallet, Events, Network |
| `/` | search: a height, a block hash, a txid, an address or a dev label (`dev3`) |
| `ctrl+p` | the command palette: every chain operation by \
name ("block: go to height", "mine 1 block", "mining: auto") |
| `escape` | back (close a detail view or dialog) |
| `?` | this help |
| `q`, `ctrl+q` | quit: the node stops cleanly and saves its mempool |

Every action prints its `chaintop` command on the line above the footer: run it in another
terminal while this TUI runs and it reaches this node over RPC.
"""

SCREENS = {
    "dashboard": """\
## Dashboard

- **height / head / age**: the newest block on the best chain, its hash, and how long ago its timestamp was.
- **next block**: when the next block is due, given the \
mining mode; while searching, the *expected* time at the
  current hash rate (it never "gets closer": each hash is an independent try).
- **mining**: the mode (auto mines whenever transactions \
wait; interval mines one block per target spacing; manual
  only on request; off never), the hash rate and its history.
- **difficulty**: how many times harder than the easiest \
target the current one is. PoW networks retarget every
  *window* of blocks so blocks come every *target spacing*; \
the bar is how far into the window we are and *next*
  previews the change if blocks keep their current pace \
(clamped to x4 either way, and timed over 19 gaps for 20
  blocks, both as in Bitcoin: an exact pace still comes out ~5% harder).
- **mempool**: transactions waiting, and the fee rates (base units per byte) they pay.
- **finality**: on proof-of-stake chains, the epoch and \
slot, the last justified and finalized checkpoints and the
  share of stake that voted for this epoch's target (2/3 \
justifies). On proof of work there is no finality gadget:
  count confirmations.

Keys: `space` mine one block · `a` auto mining on/off · `enter` open the head block.
""",
    "blocks": """\
## Blocks

Newest first; older pages load as the cursor nears the bottom, so a long chain opens as fast as a short one.
Columns: height, hash (shortened), age of the timestamp, transactions, difficulty, beneficiary (who was paid).
Keys: `enter` open a block · `g` go to a height · `r` reload.

**Block detail**: every header field with a one-line meaning, the reward (new coins + fees), its transactions
(`enter` opens one), and on PoS chains its attestations and slashing evidence.
Keys: `[` parent · `]` child · `b` beneficiary's account · `escape` back.

**Transaction**: status, confirmations, finality and the RFC 6962 inclusion proof: the sibling hashes that,
hashed up from the txid, give the tx root in the header. Keys: `b` block · `f` sender · `t` recipient.

**Account**: balance, nonce (transactions sent and confirmed), \
next nonce (counting pending ones), pending count,
and its history (every confirmed transaction that sent from or paid to it, newest first).
""",
    "mempool": """\
## Mempool

- **table**: pending transactions by fee rate (fee / size in bytes), best first: the order a miner takes them,
  within each sender's nonce order.
- **histogram**: how many transactions pay each band of fee rates.
- **projected next block**: what a block template built \
now would take (ready transactions only, up to the size
  limit) and the fees it would pay the miner.
- **replaced / evicted / expired**: a replacement is the \
same sender and nonce with a higher fee; an eviction is the
  lowest fee rate pushed out of a full pool; an expiry waited too long.

Keys: `enter` open a transaction · `f` fee estimate (what recent blocks paid).
""",
    "mining": """\
## Mining

- **mode**: auto / interval / manual / off (keys `a` `i` `m` `o`); `space` mines one block now; `t` cycles the
  traffic generator (0 → 10 → 200 transfers a second among the dev accounts).
- **current search**: hashes tried against the *expected* \
number (2^256 / (target + 1)); the bar can pass 100% —
  luck, not a bug. **best** is the lowest hash seen so far; a block is found when a hash is at or below the
  **target**. Leading zero bits make the two comparable at a glance.
- **charts**: difficulty per block and the seconds between blocks over the last 40 blocks.
- **workers**: processes searching nonces; `+` / `-` add \
or remove one (`chaintop mining --workers N` does the same
  from a script).
""",
    "validators": """\
## Validators and committees (proof of stake)

- **validators**: index, status (pending → active → exiting → exited → withdrawable → withdrawn), effective
  balance (the stake that counts, in whole steps), balance, \
rewards earned, flags (ours = keys this node holds;
  OFFLINE = fault injected). SLASHED marks a validator caught signing two conflicting messages.
- **committees**: per slot of this epoch, the proposer \
and the committee that attests; votes = attestations seen
  (live, or carried by recent blocks); on hybrid chains \
slot = height and a block's votes ride in the next block.
- **finality**: votes for this epoch's target as a share of active stake; at 2/3 the epoch is *justified*; a
  justified epoch followed by a justified child *finalizes* — it can never be reverted. With too little stake
  online, finality stalls and the *inactivity leak* drains the offline validators until the rest have 2/3.

Keys: `s` stake from a dev account · `u` unstake the \
selected validator · `o` take it offline / bring it back ·
`e` make it equivocate (sign two blocks or votes for one slot: it will be slashed) · `r` reload.
""",
    "wallet": """\
## Wallet

The dev accounts this node can sign for (their seed is \
public: devnets only). Balances in coins (1 coin = 10^8 base
units); nonce = confirmed transactions sent; pending = waiting in the mempool.

**Send**: from a dev account to an address (or a dev label); \
amount and optional fee in coins. Mistakes are shown
under the field and nothing is sent. **Stake**: lock coins as a validator deposit (proof-of-stake networks).
Keys: `n` new transfer · `s` stake · `enter` open the selected account · `tab` next field · `escape` leave
the form (then `1`…`8` switch screens again; `?` opens this help even from a field).
""",
    "events": """\
## Events

Every event the node emits: blocks connected, reorgs, transactions added and removed (and why), mining state,
slots, checkpoints, validator activations, exits, slashings and the inactivity leak (in red). Per-slot
attestations are counted on Validators instead of listed. \
The caption counts the events since this TUI opened; a
burst too fast to read is summed up on one line. Keys: `t` hide/show transaction events · `c` clear.
""",
    "network": """\
## Network (key `8`)

- **peers**: each peer's node id (first 8 hex digits), address, who dialled (`out`: this node, `in`: it),
  its **head** height as its last Status said, its **score** (0 is clean; invalid gossip lowers it, and an
  invalid block bans it at -100), **ping** (round trip of the last Ping, every 2 s) and blocks/txs received.
- **blocks received**: blocks that came by gossip, newest first: who made it (on proof of stake the proposer,
  *validator N*; on proof of work its beneficiary, or *this node*), the peer it came from, the **delay**
  from its origin's publication to its arrival here, and what accepting it did (*connected*; *reorg*: it
  made a heavier branch the chain; *side*: stored off the chain).
- **forks and reorgs**: each reorg as a fork point with the branch that won (green) and the branch it
  reverted (red), with how many transactions went back to the mempool; a *side* block is a competitor that
  is not (yet) heavier (stored off the main chain: a stale block unless its branch wins). The caption counts
  both since this TUI opened.
- `p` **partitions** this node (every peer dropped, none dialled or accepted: it mines alone) and, pressed
  again, **heals** it (the peers are redialled and the lighter branch reorgs). Same as `chaintop net
  partition` / `chaintop net heal`.
- `a` runs the **51% attack** with this node as the attacker (a devnet's node: `chaintop devnet tui node1`):
  it pays the next node 10 coins, waits for 2 confirmations (with validators: for finality), splits off,
  rewinds to before the payment, spends the same coins to itself and builds a heavier private branch, then
  heals. On proof of work the honest nodes reorg onto it (a double spend); with finality they refuse it at
  the finalized checkpoint. The echo line shows each step and the outcome, a notification the summary. Same
  as `chaintop attack majority`.
""",
}


def help_markdown(screen: str) -> str:
    return SCREENS.get(screen, "") + "\n" + GLOBAL


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    def __init__(self, screen: str) -> None:
        super().__init__()
        self.screen_name = screen

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Markdown(help_markdown(self.screen_name))

    def action_close(self) -> None:
        self.dismiss(None)
