"""Transaction commands: tx [show] TXID, tx create|sign|broadcast (offline signing), send, proof."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from chain.errors import InvalidTx, UsageError
from chain.params import parse_coins
from chain.tx import Tx, get_transfer
from cli import output
from cli.common import handle_errors, open_node
from cli.options import AmountOpt, FeeOpt, JsonOpt, NonceOpt, RecipientOpt, SenderOpt, SignerOpt, TxidArg
from cli.signing import build_transfer, resolve_pubkey, resolve_signer


class _DefaultShow(TyperGroup):
    """`chaintop tx TXID` means `chaintop tx show TXID`; create, sign and broadcast are subcommands."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args.insert(0, "show")
        return super().resolve_command(ctx, args)


tx_app = typer.Typer(cls=_DefaultShow,
                     help="Show a transaction (tx TXID), or create, sign and broadcast one offline.",
                     no_args_is_help=True)


def _status(t: dict) -> str:
    if t["status"] == "pending":
        return f"pending, {output.tx_state(t)}"
    if t["status"] == "removed":
        reason = t["removed_reason"]
        if t.get("replaced_by"):
            return f"removed from the mempool: replaced by {t['replaced_by']} (same nonce, higher fee)"
        if reason.startswith("invalid:"):
            return f"removed from the mempool: no longer valid ({reason[8:]})"
        return f"removed from the mempool: {reason}"
    return t["status"]


def render_tx(t: dict):
    rows = [("txid", t["txid"]), ("status", _status(t)), ("kind", t["kind"]), ("from", t["from"])]
    if t["kind"] == "transfer":
        rows += [("to", t["to"]), ("amount", output.coins(t["amount"]))]
    elif t["kind"] == "stake":
        index = t.get("validator_index")
        rows += [("what", output.tx_what(t)), ("amount", output.coins(t["amount"])),
                 ("validator key", t["validator_pubkey"]),
                 ("validator", "not created yet (a new validator)" if index is None else f"#{index}")]
    elif t["kind"] == "unstake":
        rows += [("what", output.tx_what(t))]
    rows += [("fee", f"{t['fee_coins']} coins ({t['fee_rate']} units/byte)"), ("nonce", t["nonce"])]
    if t["status"] == "confirmed":
        rows += [("block", f"{t['height']}  {t['block']}"), ("confirmations", t["confirmations"])]
    return output.kv_table(rows, title="transaction")


def render_proof(p: dict):
    rows = [("txid", p["txid"]), ("block", f"{p['height']}  {p['block']}"),
            ("position", f"{p['index']} of {p['tree_size']}"), ("tx root", p["tx_root"]),
            ("verified", "yes — the path hashes to the header's tx root" if p["verified"] else "NO")]
    rows += [(f"path[{i}]", h) for i, h in enumerate(p["proof"])]
    return output.kv_table(rows, title="inclusion proof (RFC 6962)")


def _read_doc(source: str) -> dict:
    try:
        text = sys.stdin.buffer.read().decode() if source == "-" else _read_file(source)
    except UnicodeDecodeError:
        raise UsageError("bad-tx-file", f"{'stdin' if source == '-' else source} is not text: not JSON "
                                        "from `chaintop tx create` or `tx sign`") from None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise UsageError("bad-tx-file",
                         f"{source} is not JSON from `chaintop tx create` or `tx sign`") from None
    if not isinstance(doc, dict):
        raise UsageError("bad-tx-file", f"{source} is not a transaction document")
    return doc


def _read_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError("cannot-read", f"cannot read {path}: {e.strerror}") from None


def _unsigned_doc(tx: Tx) -> dict:
    t = get_transfer(tx)
    return {"chain_id": tx.chain_id, "kind": "transfer", "nonce": tx.nonce, "fee": tx.fee,
            "sender": tx.sender.hex(), "to": t.to.hex(), "amount": t.amount, "txid": tx.txid.hex(),
            "unsigned": tx.signing_bytes().hex()}


def _tx_from_unsigned(doc: dict) -> Tx:
    try:
        raw = bytes.fromhex(doc["unsigned"])
    except (KeyError, ValueError, TypeError):
        raise UsageError("bad-tx-file", "the document has no valid 'unsigned' hex") from None
    return Tx.decode(raw + bytes(64))


@tx_app.command("show")
@handle_errors
def show(txid: TxidArg, as_json: JsonOpt = False) -> None:
    """A transaction: pending or confirmed, with its block and confirmations."""
    with open_node() as api:
        data = api.tx(txid)
    output.emit(data, as_json, render_tx)


@tx_app.command("create")
@handle_errors
def create(
    sender: SenderOpt,
    to: RecipientOpt,
    amount: AmountOpt,
    fee: FeeOpt = None,
    nonce: NonceOpt = None,
) -> None:
    """An unsigned transfer as JSON: carry it to the machine with the key, then `tx sign`."""
    from chain.params import Params

    units, fee_units = parse_coins(amount, "amount"), parse_coins(fee, "fee") if fee is not None else None
    with open_node() as api:
        pub = resolve_pubkey(sender, Params.from_dict(api.params_view()))
        tx = build_transfer(api, pub, to, units, fee_units, nonce)
    output.emit(_unsigned_doc(tx), True)


@tx_app.command("sign")
@handle_errors
def sign(source: Annotated[str, typer.Argument(
        metavar="FILE", help="Output of `tx create` (or - for stdin).")]) -> None:
    """Sign an unsigned transfer with a keystore or dev key; needs no node, only the keystore."""
    from chain.crypto import compute_address, encode_address
    from chain.params import PRESETS

    tx = _tx_from_unsigned(_read_doc(source))
    params = next((p for p in PRESETS.values() if p.chain_id == tx.chain_id), None)
    if params is None:
        raise UsageError("wrong-chain-id", f"unknown chain id {tx.chain_id:#x}")
    key = resolve_signer(encode_address(params.hrp, compute_address(tx.sender)), params)
    signed = tx.signed(key)
    output.emit({"txid": signed.txid.hex(), "raw": signed.encode().hex()}, True)


@tx_app.command("broadcast")
@handle_errors
def broadcast(source: Annotated[str, typer.Argument(
                  metavar="FILE|HEX", help="Output of `tx sign`, raw hex, or -.")],
              as_json: JsonOpt = False) -> None:
    """Submit a signed transaction to the mempool."""
    text = source.strip()
    if all(c in "0123456789abcdefABCDEF" for c in text) and len(text) > 64:
        raw = text
    else:
        doc = _read_doc(source)
        raw = doc.get("raw")
        if not isinstance(raw, str):
            raise UsageError("bad-tx-file",
                             "the document has no 'raw' hex; sign it first with `chaintop tx sign`")
    with open_node() as api:
        data = api.submit_tx(raw)
    output.emit(data, as_json, lambda d: f"broadcast: txid {d['txid']}")


SEND_RETRIES = 50  # parallel sends from one account each lose the race for a nonce at most this often


def _submit_transfer(api, key, to: str, units: int, fee_units: int | None, nonce: int | None) -> dict:
    """Sign and submit. With the nonce left to us, a concurrent send from the same account (another process)
    may take it between our asking and submitting: the node refuses to replace (nonce-taken) or the block
    took it (nonce-too-low), and we sign again with the next free nonce, instead of failing or replacing."""
    for _ in range(SEND_RETRIES):
        tx = build_transfer(api, key.pubkey, to, units, fee_units, nonce).signed(key)
        if nonce is not None:
            return api.submit_tx(tx.encode().hex())
        try:
            return api.submit_tx(tx.encode().hex(), replace=False)
        except InvalidTx as e:
            if e.code not in ("nonce-taken", "nonce-too-low"):
                raise
    raise InvalidTx("nonce-taken", f"lost the race for a nonce {SEND_RETRIES} times; too many parallel "
                                   "sends from this account: retry, or pass --nonce")


def register(app: typer.Typer) -> None:
    app.add_typer(tx_app, name="tx")

    @app.command()
    @handle_errors
    def send(
        sender: SignerOpt,
        to: RecipientOpt,
        amount: AmountOpt,
        fee: FeeOpt = None,
        nonce: NonceOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Sign a transfer here and put it in the node's mempool."""
        from chain.params import Params

        units = parse_coins(amount, "amount")
        if units == 0:
            raise UsageError("bad-amount", "the amount must be more than zero")
        fee_units = parse_coins(fee, "fee") if fee is not None else None
        with open_node() as api:
            key = resolve_signer(sender, Params.from_dict(api.params_view()))
            data = _submit_transfer(api, key, to, units, fee_units, nonce)
        output.emit(data, as_json, lambda d: f"sent: txid {d['txid']}"
                    + (f" (replaced {d['replaced']})" if d.get("replaced") else ""))

    @app.command()
    @handle_errors
    def proof(txid: TxidArg, as_json: JsonOpt = False) -> None:
        """A Merkle inclusion proof of a confirmed transaction against its block's tx root."""
        with open_node() as api:
            data = api.proof(txid)
        output.emit(data, as_json, render_proof)
