"""Client-side signing: a key from the dev seed or the keystore signs here; the node only sees the signed
bytes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer

from chain import crypto
from chain.errors import NotFound, WalletError
from chain.params import Params
from chain.tx import Tx, make_transfer
from cli.common import datadir_for

if TYPE_CHECKING:
    from node.api import NodeAPI


def get_password(prompt: str = "keystore password", confirm: bool = False) -> str:
    env = os.environ.get("CHAINTOP_PASSWORD")
    if env is not None:
        return env
    if not os.isatty(0):
        raise WalletError("password-required",
                          "set CHAINTOP_PASSWORD or run on a terminal to be asked for the password")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def dev_key(label: str, params: Params) -> crypto.KeyPair | None:
    i = crypto.parse_dev_label(label, params.dev_accounts)
    return None if i is None else crypto.dev_keypair(i)


def resolve_signer(who: str, params: Params) -> crypto.KeyPair:
    """A dev label or address (public seed), or a keystore label, address or public key (asks for the
    password)."""
    from wallet.keystore import Keystore

    who = who.strip()
    key = dev_key(who, params)
    if key is not None:
        return key
    for i in range(params.dev_accounts):
        k = crypto.dev_keypair(i)
        if who == crypto.encode_address(params.hrp, k.address):
            return k
    store = Keystore(datadir_for())
    entry = store.find(who)
    if entry is None:
        for e in store.entries():
            if crypto.encode_address(params.hrp, crypto.compute_address(bytes.fromhex(e["pubkey"]))) == who:
                entry = e
                break
    if entry is None:
        raise NotFound("unknown-key", f"no key {who!r} here; `chaintop keys list` shows the keys you can "
                                      "sign with")
    return store.unlock(entry["label"], get_password(f"password for {entry['label']}"))


def build_transfer(api: NodeAPI, sender_pubkey: bytes, to: str, amount: int, fee: int | None,
                   nonce: int | None) -> Tx:
    """An unsigned transfer; the nonce comes from the node (past the sender's pending ones) unless given."""
    params = Params.from_dict(api.params_view())
    recipient = resolve_recipient(api, to, params)
    if nonce is None:
        nonce = api.account(crypto.encode_address(params.hrp,
                                                  crypto.compute_address(sender_pubkey)))["next_nonce"]
    fee = params.min_fee if fee is None else fee
    return make_transfer(params.chain_id, nonce, fee, sender_pubkey, recipient, amount)


def resolve_pubkey(who: str, params: Params) -> bytes:
    """The public key of a sender without unlocking anything: keystore entry, dev key, or 64 hex digits."""
    from wallet.keystore import Keystore

    entry = Keystore(datadir_for()).find(who.strip())
    if entry is not None:
        return bytes.fromhex(entry["pubkey"])
    key = dev_key(who.strip(), params)
    if key is not None:
        return key.pubkey
    try:
        raw = bytes.fromhex(who.strip())
    except ValueError:
        raw = b""
    if len(raw) == 32:
        return raw
    for e in Keystore(datadir_for()).entries():
        if crypto.encode_address(params.hrp,
                                 crypto.compute_address(bytes.fromhex(e["pubkey"]))) == who.strip():
            return bytes.fromhex(e["pubkey"])
    for i in range(params.dev_accounts):
        k = crypto.dev_keypair(i)
        if crypto.encode_address(params.hrp, k.address) == who.strip():
            return k.pubkey
    raise NotFound("unknown-key", f"{who!r} is not a key label, a known address or a 64-hex public key; "
                                  "an address alone does not reveal its public key")


def resolve_recipient(api: NodeAPI, to: str, params: Params) -> bytes:
    from node.keys import decode_address_or_label
    from wallet.keystore import Keystore

    key = dev_key(to.strip(), params)
    if key is not None:
        return key.address
    entry = Keystore(datadir_for()).find(to.strip())
    if entry is not None:
        return crypto.compute_address(bytes.fromhex(entry["pubkey"]))
    return decode_address_or_label(params.hrp, to)
