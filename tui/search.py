"""What a search string names: a height, a 64-hex id (block hash or txid), an address or a dev label."""

from __future__ import annotations

import string
from dataclasses import dataclass

from chain.crypto import parse_dev_label

HEX = set(string.hexdigits)


@dataclass(frozen=True)
class Query:
    kind: str  # height, hash (block or tx: asked in that order), address, none
    value: str
    why: str = ""  # for kind "none": what was wrong, shown to the user


def classify(text: str, hrp: str) -> Query:
    t = text.strip()
    if not t:
        return Query("none", t, "type a height, a block hash, a txid or an address")
    if t.startswith("#"):
        t = t[1:]
    if t.isdigit():
        if len(t) > 12:
            return Query("none", t, f"{t} is too large for a block height")
        return Query("height", str(int(t)))
    if t.lower().startswith("0x"):
        t = t[2:]
    if set(t) <= HEX:
        if len(t) == 64:
            return Query("hash", t.lower())
        return Query("none", t, f"{len(t)} hex digits: a block hash or txid has 64")
    if parse_dev_label(t, None) is not None:  # the backend checks it against this chain's dev accounts
        return Query("address", t)
    if t.lower().startswith(hrp + "1"):
        return Query("address", t)
    if "1" in t and t.split("1", 1)[0].isalpha():
        return Query("none", t, f"an address of another network ({t.split('1', 1)[0]}1…); "
                                f"this one uses {hrp}1…")
    return Query("none", t, f"{t!r} is not a height, a 64-hex block hash or txid, an address ({hrp}1…) "
                            "or a dev label")
