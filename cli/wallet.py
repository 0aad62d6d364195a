"""Key commands: keys list|new|import|export. Keystore keys are encrypted at rest; dev keys are public."""

from __future__ import annotations

from typing import Annotated

import typer

from chain import crypto
from chain.params import get_preset
from cli import output
from cli.common import datadir_for, handle_errors, settings
from cli.options import JsonOpt, NewLabelArg
from cli.signing import get_password

keys_app = typer.Typer(help="Keys you can sign with: the public dev keys and your encrypted keystore.",
                       no_args_is_help=True)


def _hrp() -> str:
    """The address prefix of this data dir's network (keys themselves are network-independent)."""
    from node.datadir import read_hrp

    return read_hrp(datadir_for()) or get_preset(settings.network).hrp


def _list(hrp: str) -> list[dict]:
    from wallet.keystore import Keystore

    dev = get_preset(settings.network).dev_accounts
    rows = [{"label": f"dev{i}", "address": crypto.encode_address(hrp, crypto.dev_keypair(i).address),
             "dev": True}
            for i in range(dev)]
    for e in Keystore(datadir_for()).entries():
        pub = bytes.fromhex(e["pubkey"])
        rows.append({"label": e["label"], "address": crypto.encode_address(hrp, crypto.compute_address(pub)),
                     "dev": False, "pubkey": e["pubkey"]})
    return rows


@keys_app.command("list")
@handle_errors
def keys_list(as_json: JsonOpt = False) -> None:
    """Every key with its label and address; dev keys are marked dev-only."""
    data = _list(_hrp())
    output.emit(data, as_json, lambda rows: output.list_table(
        ["label", "address", "kind"],
        [(k["label"], k["address"],
          "DEV (public seed — never real value)" if k["dev"] else "keystore (encrypted)")
         for k in rows], title="keys", keep=("label", "address")))


@keys_app.command("new")
@handle_errors
def keys_new(label: NewLabelArg, as_json: JsonOpt = False) -> None:
    """Generate a key and store it encrypted (password from CHAINTOP_PASSWORD or a prompt)."""
    from wallet.keystore import Keystore

    key = crypto.KeyPair.generate()
    Keystore(datadir_for()).add(label, key, get_password("new keystore password", confirm=True))
    data = {"label": label, "address": crypto.encode_address(_hrp(), key.address), "dev": False,
            "pubkey": key.pubkey.hex()}
    output.emit(data, as_json, lambda d: f"new key {d['label']}: {d['address']}")


@keys_app.command("import")
@handle_errors
def keys_import(
    label: NewLabelArg,
    seed: Annotated[str | None, typer.Option(
        "--seed", help="The 32-byte private seed as hex (default: read stdin).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a private key (hex seed, as `keys export` prints it) into the keystore."""
    import sys

    from wallet.keystore import Keystore, parse_seed

    key = parse_seed(seed if seed is not None else sys.stdin.readline())
    Keystore(datadir_for()).add(label, key,
                                get_password("keystore password for the imported key", confirm=True))
    data = {"label": label, "address": crypto.encode_address(_hrp(), key.address), "dev": False,
            "pubkey": key.pubkey.hex()}
    output.emit(data, as_json, lambda d: f"imported {d['label']}: {d['address']}")


@keys_app.command("export")
@handle_errors
def keys_export(label: Annotated[str, typer.Argument(help="The key's label.")],
                as_json: JsonOpt = False) -> None:
    """Print a key's private seed (hex) after checking the password. Anyone with it can spend."""
    from chain.errors import NotFound, WalletError
    from wallet.keystore import RESERVED, Keystore

    store = Keystore(datadir_for())
    if store.find(label) is None:  # say so before asking for a password
        if RESERVED.match(label):
            raise WalletError("dev-key", f"{label} is a dev key: its seed is public (derived from the "
                                         "published dev seed) and not in the keystore; nothing to export")
        raise NotFound("unknown-key",
                       f"no key {label!r} in the keystore; `chaintop keys list` shows the keys")
    key = store.unlock(label, get_password(f"password for {label}"))
    data = {"label": label, "seed": key.seed().hex(), "pubkey": key.pubkey.hex()}
    output.emit(data, as_json, lambda d: d["seed"])


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
