"""The node's keys: the dev accounts (dev0, dev1, ...), whose seeds are public, so the node holds them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chain import crypto
from chain.errors import InvalidAddress, NotFound
from chain.params import PRESETS

if TYPE_CHECKING:
    from node.node import Node


def dev_label(node: Node, address: bytes) -> str | None:
    for i, k in enumerate(node._dev_keys):
        if k.address == address:
            return f"dev{i}"
    return None


def key_by_label(node: Node, label: str) -> crypto.KeyPair | None:
    i = crypto.parse_dev_label(label, len(node._dev_keys))
    return None if i is None else node._dev_keys[i]


def resolve_address(node: Node, text: str) -> bytes:
    """A bech32m address of this network, or a dev key's label (dev0, dev1, ...)."""
    text = text.strip()
    key = key_by_label(node, text)
    if key is not None:
        return key.address
    return decode_address_or_label(node.params.hrp, text)


# what a keystore label may be (wallet.keystore.LABEL_RE); an address is longer than 32 characters
_LABEL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")


def decode_address_or_label(hrp: str, text: str) -> bytes:
    """An address of the network whose prefix is `hrp`. Text that cannot be an address of any network but
    could be a key label (`nobody`, `alcie`) is reported as an unknown label, not as bad bech32."""
    try:
        return crypto.decode_address(hrp, text)
    except InvalidAddress:
        prefix = text.strip().lower().rpartition("1")[0]
        if _LABEL_LIKE.match(text.strip()) and prefix not in {p.hrp for p in PRESETS.values()}:
            raise NotFound("unknown-label", f"{text.strip()!r} is neither a key label nor an address; "
                                            "`chaintop keys list` shows the labels") from None
        raise


def resolve_key(node: Node, text: str) -> crypto.KeyPair:
    key = key_by_label(node, text)
    if key is not None:
        return key
    address = resolve_address(node, text)
    for k in node._dev_keys:
        if k.address == address:
            return k
    raise NotFound("unknown-key",
                   f"no key for {text} in this node; `chaintop keys list` shows the keys it holds")


def keys(node: Node) -> list[dict]:
    hrp = node.params.hrp
    return [{"label": f"dev{i}", "address": crypto.encode_address(hrp, k.address), "dev": True}
            for i, k in enumerate(node._dev_keys)]
