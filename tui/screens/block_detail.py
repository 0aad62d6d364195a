"""One block: every header field with what it means, the reward breakdown, its transactions (and PoS
extras)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from tui import equivalents, fmt
from tui.screens.base import ChainScreen
from tui.widgets.field_table import FieldTable
from tui.widgets.placeholder import Placeholder

EXPLAIN = {
    "height": "blocks between this one and genesis (genesis is 0)",
    "hash": "double SHA-256 of the header: the block's id; for PoW it must be at or below the target",
    "parent": "the hash of the block this one builds on — the chain link",
    "timestamp": "miner-chosen time: above the median of the last 11, at most 2 h in the future",
    "version": "header format version",
    "tx_root": "RFC 6962 Merkle root over the txids: commits to the exact transaction list",
    "state_root": "MuHash3072 digest of every account after this block: commits to the whole state",
    "beneficiary": "who receives the block reward and the fees",
    "bits": "the compact target (Bitcoin's nBits): the hash must be at or below it",
    "nonce": "the number the miner varied until the hash fell under the target",
    "difficulty": "how many times harder than the easiest target",
    "chain_work": "expected hashes of the whole chain up to here: fork choice keeps the most work",
    "confirmations": "this block plus the blocks on top of it; each makes reversing it costlier",
    "size": "encoded bytes (header and transactions)",
    "slot": "PoS: the time slot this block fills",
    "proposer_index": "PoS: the validator chosen (by stake) to propose in this slot",
    "randao_reveal": "PoS: the proposer's signature over the epoch, mixed into the randomness",
    "operations_root": "PoS: commits to the attestations and slashing evidence carried",
    "proposer_signature": "PoS: the proposer's Ed25519 signature over the header",
    "status": "valid, or invalid (failed a consensus rule; never reconsidered)",
    "main_chain": "on the best chain, or a side branch that lost fork choice",
}
ORDER = ("height", "hash", "parent", "timestamp", "confirmations", "main_chain", "status", "beneficiary",
         "bits", "nonce", "difficulty", "chain_work", "slot", "proposer_index", "randao_reveal",
         "operations_root", "proposer_signature", "tx_root", "state_root", "size", "version")


def header_rows(block: dict, now: float) -> list[tuple]:
    rows = []
    for key in ORDER:
        if key not in block:
            continue
        value = block[key]
        if key == "timestamp":
            value = f"{value} ({fmt.age(now - value)} ago)"
        elif key == "difficulty":
            value = f"{value:.6g}"
        rows.append((key.replace("_", " "), value, EXPLAIN.get(key, "")))
    return rows


def subsidy_text(height: int, params) -> str:
    """What the subsidy row means on this chain: the halving schedule with its numbers."""
    if not getattr(params, "initial_reward", 0):
        return "no new coins per block on this chain (validators earn rewards for their duties instead)"
    every = params.halving_interval
    halvings = height // every
    if halvings >= 64:
        return f"new coins this height mints: none any more (halved every {every:,} blocks)"
    return (f"new coins this height mints: {fmt.coins(params.initial_reward)} coins at genesis, halved every "
            f"{every:,} blocks; the next halving is at block {(halvings + 1) * every:,}")


def reward_rows(block: dict, params=None) -> list[tuple]:
    reward, fees = block.get("reward", 0), block.get("fees", 0)
    return [
        ("subsidy", f"{fmt.coins(reward)} coins",
         subsidy_text(block.get("height", 0), params) if params is not None
         else "new coins this height mints"),
        ("fees", f"{fmt.coins(fees)} coins", "what its transactions paid"),
        ("total", Text(f"{fmt.coins(reward + fees)} coins", style="bold"),
         f"to {block.get('beneficiary', '?')}"),
    ] + ledger_rows(block)


ISSUED = (("subsidy", "subsidy"), ("attestation_rewards", "vote rewards"), ("proposer_rewards", "inclusion"),
          ("whistleblower", "whistleblower"), ("penalties", "penalties"), ("leak", "leak"),
          ("slashing", "slashing"))


def ledger_rows(block: dict) -> list[tuple]:
    """The two ledgers' figures for one block: what it added to the supply, what it cost this node."""
    rows = []
    issued = block.get("issuance")
    if issued:
        parts = ", ".join(f"{word} {fmt.coins(issued[k])}" for k, word in ISSUED if issued.get(k))
        rows.append(("issued", f"{fmt.coins(issued['net'])} coins net" + (f" ({parts})" if parts else ""),
                     "what this block added to the supply: minted - burned (`chaintop supply`: the total)"))
    energy = block.get("energy")
    if energy:
        value = (f"{energy['pow_cpu_seconds']:.4g} CPU s search + {energy['pos_cpu_seconds']:.4g} CPU s "
                 f"validator duties = {energy['joules']:.4g} J")
        rows.append(("energy", value if energy["measured"] else "not measured (connected in a reorg)",
                     f"what this node spent on it: OS-counted CPU seconds × {energy['watts_per_core']:g} W "
                     "per busy core (`chaintop energy`)"))
    return rows


EVIDENCE = {
    "double-proposal": "signed two different blocks for one slot",
    "attester": "signed two conflicting votes (double or surround)",
}
VOTE_GROUPS = 40  # a block's votes beyond this many distinct (slot, vote) groups are summed up on one line


def render_votes(attestations: list[dict] | None, evidence: list[dict] | None) -> Text | None:
    """A block's votes grouped by what they vote for — (slot, head, source -> target) with the voters'
    indices — then its slashing evidence; None when the block carries neither field (a node without PoS
    views)."""
    if attestations is None and evidence is None:
        return None
    groups: dict[tuple, list[int]] = {}
    for a in attestations or []:
        key = (a.get("slot"), a.get("head"), a.get("source_epoch"), a.get("target_epoch"))
        groups.setdefault(key, []).append(a.get("validator"))
    t = Text()
    if not groups:
        t.append("no attestations\n", style="dim")
    else:
        t.append(f"{len(attestations)} vote(s):\n", style="bold")
    ordered = sorted(((key, sorted(v)) for key, v in groups.items()), key=lambda g: (g[0][0], g[1]))
    for n, ((slot, head, source, target), voters) in enumerate(ordered):
        if n == VOTE_GROUPS:
            rest = sum(len(v) for _, v in ordered[n:])
            t.append(f"  … and {len(ordered) - n} more group(s), {rest} vote(s)\n", style="dim")
            break
        t.append(f"  slot {slot}  ", style="cyan")
        t.append(f"epoch {source} -> {target}  head {fmt.short(head)}  ")
        t.append(f"{len(voters)} vote(s) by " + ", ".join(f"#{v}" for v in voters) + "\n", style="dim")
    for e in evidence or []:
        what = EVIDENCE.get(e.get("kind"), e.get("kind", "?"))
        t.append(" SLASHING EVIDENCE ", style="bold white on red")
        t.append(f" validator #{e.get('validator', '?')} {what}: this block slashes it\n", style="bold")
    t.rstrip()
    return t


class BlockDetailScreen(ChainScreen):
    TAB = "blocks"
    BINDINGS = [
        Binding("escape", "back", "Back", id="block.back"),
        Binding("left_square_bracket", "step(-1)", "Parent", id="block.parent"),
        Binding("right_square_bracket", "step(1)", "Child", id="block.child"),
        Binding("b", "beneficiary", "Beneficiary", id="block.beneficiary"),
        Binding("x", "explain", "Explanations", id="block.explain"),
    ]

    def __init__(self, ident: str | int) -> None:
        super().__init__()
        self.ident = str(ident)
        self.block: dict | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="block-scroll"):
            yield Placeholder(id="block-status")
            yield FieldTable("reward", id="block-reward")
            table = DataTable(id="block-txs", cursor_type="row", zebra_stripes=True)
            table.border_title = "transactions (enter opens one)"
            yield table
            yield Static("", id="block-pos", classes="panel")
            yield FieldTable("header", id="block-header")

    def on_mount(self) -> None:
        table = self.query_one("#block-txs", DataTable)
        for col in ("#", "txid", "kind", "from", "to", "amount", "fee"):
            table.add_column(col, key=col)
        super().on_mount()

    def reload(self) -> None:
        self.query_one("#block-status", Placeholder).show({"title": f"loading block {self.ident}…"})
        self.call(self.backend.block, self.ident, done=self._got_block, failed=self._failed, group="block")

    def _failed(self, error) -> None:
        # One inline message, not empty reward, transaction and header boxes under it.
        what = f"at height {self.ident}" if self.ident.isdigit() else fmt.short(self.ident, 16)
        self.block = None
        self._show_sections(False)
        status = self.query_one("#block-status", Placeholder)
        status.display = True
        status.show({"title": f"no block {what}", "message": str(getattr(error, "message", error))
                     + "\nescape goes back · / searches for another height or hash"})

    def _show_sections(self, shown: bool) -> None:
        for sel in ("#block-reward", "#block-txs", "#block-header"):
            self.query_one(sel).display = shown
        if not shown:
            self.query_one("#block-pos").display = False

    def _got_block(self, block: dict) -> None:
        self.block = block
        status = self.query_one("#block-status", Placeholder)
        status.display = False
        self._show_sections(True)
        self.query_one("#block-header", FieldTable).border_title = (f"block {block['height']}: header fields "
                                                                    "(x hides the explanations)")
        self._draw_fields()
        self._show_pos(block)
        table = self.query_one("#block-txs", DataTable)
        table.clear()
        n = len(block.get("txs", []))
        table.border_title = f"{n} transaction(s) — enter opens one" if n else "no transactions"
        if n:
            self.call(self.backend.block_txs, block, done=self._got_txs, group="block-txs")

    def _show_pos(self, block: dict) -> None:
        pos = self.query_one("#block-pos", Static)
        # PoW blocks carry empty vote lists: no section for them on a PoW network
        drawn = (render_votes(block.get("attestations"), block.get("evidence")) if self.backend.is_pos
                 else None)
        pos.display = drawn is not None
        if drawn is not None:
            pos.border_title = "attestations and evidence"
            pos.update(drawn)

    def _got_txs(self, txs: list[dict]) -> None:
        table = self.query_one("#block-txs", DataTable)
        table.clear()
        for i, tx in enumerate(txs):
            name = self.model.name
            table.add_row(i, fmt.short(tx["txid"], 16), tx.get("kind", "?"), name(tx.get("from")),
                          name(tx.get("to")) if tx.get("to") else "-",
                          fmt.coins(tx.get("amount")) if tx.get("amount") is not None else "-",
                          fmt.coins(tx.get("fee")), key=tx["txid"])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.app.open_tx(event.row_key.value)

    def update_live(self, topics: frozenset[str]) -> None:
        if "head" in topics and self.block is not None and self.due("block-conf", 1.0):
            # confirmations grow with every block on top
            self.call(self.backend.block, self.block["hash"], done=self._refresh_header, group="block")

    def _refresh_header(self, block: dict) -> None:
        self.block = block
        self._draw_fields()

    def _draw_fields(self) -> None:
        explain = self.app.explain
        self.query_one("#block-header", FieldTable).show({"rows": header_rows(self.block, self.now()),
                                                           "explain": explain})
        self.query_one("#block-reward", FieldTable).border_title = f"block {self.block['height']}: reward"
        self.query_one("#block-reward", FieldTable).show({"rows": reward_rows(self.block,
                                                                              self.backend.params),
                                                           "explain": explain})

    def action_explain(self) -> None:
        self.app.explain = not self.app.explain
        if self.block is not None:
            self._draw_fields()

    @property
    def command(self) -> str:
        """The chaintop command for what this screen shows (the echo line names it)."""
        return equivalents.block(self.ident)

    def action_back(self) -> None:
        self.app.close_drill_down()

    def action_step(self, delta: int) -> None:
        if self.block is None:
            return
        target = self.block["height"] + delta
        if target < 0 or target > self.model.status.get("height", target):
            self.app.notify("no block there: this is the " + ("genesis" if target < 0 else "head"), timeout=2)
            return
        self.ident = str(target)
        self.app.show_command(equivalents.block(target))
        self.reload()

    def action_beneficiary(self) -> None:
        if self.block is not None:
            self.app.open_account(self.block["beneficiary"])
