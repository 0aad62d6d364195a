"""One transaction: status, confirmations, finality, what it moved, and its Merkle inclusion proof."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll

from tui import equivalents, fmt
from tui.backend import PosUnavailable
from tui.screens.base import ChainScreen
from tui.widgets.field_table import FieldTable
from tui.widgets.placeholder import Placeholder


def finality_text(tx: dict, consensus: str, finalized_height: int | None) -> str:
    if tx.get("status") != "confirmed":
        return "pending: not in a block yet, so nothing is final"
    if tx.get("finalized") is not None:
        return "FINALIZED: no valid chain can revert it" if tx["finalized"] else "not finalized yet"
    if finalized_height is not None:
        if tx.get("height", 1 << 62) <= finalized_height:
            return (f"FINALIZED (its block is at or below the finalized checkpoint at height "
                    f"{finalized_height})")
        return f"not finalized yet (the finalized checkpoint is at height {finalized_height})"
    conf = tx.get("confirmations", 0)
    return (f"probabilistic: {conf} confirmation(s); reverting it needs outworking {conf} block(s)"
            + (" — 6+ is Bitcoin's habit" if conf < 6 else ""))


def tx_rows(tx: dict, finality: str) -> list[tuple]:
    rows = [("txid", tx["txid"], "SHA-256 of the transaction without its signature")]
    status = Text(tx.get("status", "?"),
                  style="bold green" if tx.get("status") == "confirmed" else "bold yellow")
    rows.append(("status", status, "pending (in the mempool) or confirmed (in a block on the main chain)"))
    if tx.get("status") == "confirmed":
        rows.append(("block", f"{tx.get('height')}  {fmt.short(tx.get('block'), 24)}",
                     "the block that includes it (b)"))
        rows.append(("confirmations", tx.get("confirmations", 0), "its block plus every block on top"))
    rows.append(("finality", finality, "whether it can still be reverted"))
    rows.append(("kind", tx.get("kind", "?"), "transfer, stake or unstake"))
    rows.append(("from", tx.get("from", "?"), "the sender: its public key signed this (f opens it)"))
    if tx.get("to"):
        rows.append(("to", tx["to"], "the recipient (t opens it)"))
    if tx.get("amount") is not None:
        rows.append(("amount", f"{fmt.coins(tx['amount'])} coins",
                     f"{tx['amount']:,} base units (1 coin = 10^8)"))
    rows.append(("fee", f"{fmt.coins(tx.get('fee'))} coins", "paid to the block's beneficiary"))
    rows.append(("fee rate", f"{tx.get('fee_rate')} units/byte", "fee / size: miners take the highest first"))
    rows.append(("nonce", tx.get("nonce"),
                 "the sender's transaction count: each nonce is used once, in order"))
    rows.append(("size", f"{tx.get('size')} bytes", "encoded size"))
    return rows


def proof_rows(proof: dict) -> list[tuple]:
    ok = proof.get("verified")
    rows = [("verified", Text("yes" if ok else "NO", style="bold green" if ok else "bold red"),
             "recomputing the root from the txid and the path gives the header's tx root"),
            ("position", f"{proof['index']} of {proof['tree_size']}",
             "leaf index in the block's transaction list"),
            ("tx root", proof["tx_root"], "RFC 6962 Merkle root in the block header")]
    for i, h in enumerate(proof.get("proof", [])):
        rows.append((f"path {i}", h, "sibling hash, leaf to root" if i == 0 else ""))
    if not proof.get("proof"):
        rows.append(("path", "(empty)", "a one-transaction block: the leaf hash is the root"))
    return rows


class TxScreen(ChainScreen):
    TAB = "blocks"
    BINDINGS = [
        Binding("escape", "back", "Back", id="tx.back"),
        Binding("b", "block", "Block", id="tx.block"),
        Binding("f", "sender", "From", id="tx.from"),
        Binding("t", "recipient", "To", id="tx.to"),
    ]

    def __init__(self, txid: str) -> None:
        super().__init__()
        self.txid = txid
        self.tx: dict | None = None
        self.finalized_height: int | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Placeholder(id="tx-status")
            yield FieldTable("transaction", id="tx-fields")
            yield FieldTable("inclusion proof (chaintop proof TXID)", id="tx-proof")

    def reload(self) -> None:
        self.query_one("#tx-status", Placeholder).show({"title": f"loading {fmt.short(self.txid, 20)}…"})
        self.call(self.backend.tx, self.txid, done=self._got_tx, failed=self._failed, group="tx")
        if self.backend.is_pos:
            self.call(self._finalized_height, done=self._got_finalized, failed=lambda e: None,
                      group="tx-final")

    def _finalized_height(self) -> int | None:
        f = self.backend.finality()
        root = f.get("finalized_root")
        if not root or set(root) == {"0"}:
            return None
        return self.backend.block(root)["height"]

    def _got_finalized(self, height: int | None) -> None:
        self.finalized_height = height
        if self.tx is not None:
            self._show()

    def _failed(self, error) -> None:
        message = (error.message if isinstance(error, PosUnavailable)
                   else getattr(error, "message", str(error)))
        self.query_one("#tx-status", Placeholder).show({"title": "no such transaction", "message": message})

    def _got_tx(self, tx: dict) -> None:
        self.tx = tx
        self.query_one("#tx-status", Placeholder).display = False
        self._show()
        proof = self.query_one("#tx-proof", FieldTable)
        if tx.get("status") == "confirmed":
            self.call(self.backend.proof, self.txid, done=lambda p: proof.show({"rows": proof_rows(p)}),
                      group="tx-proof")
        else:
            proof.show({"rows": [("proof", "none yet", "a proof exists once the transaction is in a block")]})

    def _show(self) -> None:
        fin = finality_text(self.tx, self.backend.consensus, self.finalized_height)
        self.query_one("#tx-fields", FieldTable).show({"rows": tx_rows(self.tx, fin)})

    def update_live(self, topics: frozenset[str]) -> None:
        if self.tx is not None and topics & {"head", "pos"} and self.due("tx-refresh", 1.0):
            self.call(self.backend.tx, self.txid, done=self._got_tx, failed=self._failed, group="tx")

    @property
    def command(self) -> str:
        """The chaintop command for what this screen shows (the echo line names it)."""
        return equivalents.tx(self.txid)

    def action_back(self) -> None:
        self.app.close_drill_down()

    def action_block(self) -> None:
        if self.tx and self.tx.get("block"):
            self.app.open_block(self.tx["height"])

    def action_sender(self) -> None:
        if self.tx:
            self.app.open_account(self.tx["from"])

    def action_recipient(self) -> None:
        if self.tx and self.tx.get("to"):
            self.app.open_account(self.tx["to"])
