"""Plain-text formatting shared by the render functions: hashes, ages, coins, rates."""

from __future__ import annotations

from chain.params import format_coins


def short(h: str | None, n: int = 12) -> str:
    """A hash or txid shortened for a table cell; the full value stays one keypress away."""
    if not h:
        return "-"
    return h if len(h) <= n + 1 else f"{h[:n]}…"


def short_addr(a: str | None, n: int = 14) -> str:
    if not a:
        return "-"
    return a if len(a) <= n + 6 else f"{a[:n]}…{a[-4:]}"


def age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(max(0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def coins(units: int | None) -> str:
    if units is None:
        return "-"
    units = int(units)
    return format_coins(units) if units >= 0 else "-" + format_coins(-units)  # a slashed validator's rewards


def hash_rate(rate: float | None) -> str:
    if not rate:
        return "0 H/s"
    for unit in ("", "k", "M", "G", "T"):
        if rate < 1000:
            return f"{rate:.1f} {unit}H/s"
        rate /= 1000
    return f"{rate:.1f} PH/s"


def big(n: float) -> str:
    """1234567 -> '1.23M': counts of hashes and the like."""
    for unit in ("", "k", "M", "G", "T", "P"):
        if abs(n) < 1000:
            return f"{n:.0f}{unit}" if unit == "" else f"{n:.2f}{unit}"
        n /= 1000
    return f"{n:.2f}E"


def seconds(s: float | None) -> str:
    if s is None or s != s or s == float("inf"):
        return "-"
    return f"{s:.1f}s" if s < 100 else age(s)


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def leading_zero_bits(hex_hash: str | None) -> int:
    """How many leading zero bits a hash (or a target) has: the intuitive measure of 'how close'."""
    if not hex_hash:
        return 0
    value = int(hex_hash, 16)
    return 256 - value.bit_length()
