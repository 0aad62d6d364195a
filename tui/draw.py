"""Drawing primitives as plain strings: sparklines, bars, gauges and histograms (no Textual, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence

BLOCKS = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int) -> str:
    """The last `width` values as one line of eighth-blocks, scaled to their own maximum."""
    vals = list(values)[-width:] if width > 0 else []
    if not vals:
        return ""
    top = max(vals)
    if top <= 0:
        return "▁" * len(vals)
    return "".join(BLOCKS[max(1, min(8, round(8 * v / top)))] for v in vals)


def bar(fraction: float, width: int, fill: str = "█", empty: str = "░") -> str:
    """A horizontal bar; fractions outside [0, 1] are clamped (a search can run past its expected hashes)."""
    f = 0.0 if fraction != fraction else max(0.0, min(1.0, fraction))
    n = int(round(f * width))
    return fill * n + empty * (width - n)


def gauge(fraction: float, threshold: float, width: int) -> str:
    """A bar with a '|' at the threshold (e.g. 2/3 of stake for justification)."""
    b = list(bar(fraction, width))
    mark = min(width - 1, max(0, int(round(threshold * width))))
    b[mark] = "┃"
    return "".join(b)


def histogram(values: Sequence[float], buckets: int) -> list[tuple[float, float, int]]:
    """Equal-width buckets between min and max: [(low, high, count)]; one bucket when all values are equal."""
    vals = [v for v in values if v == v]
    if not vals:
        return []
    lo, hi = min(vals), max(vals)
    if hi <= lo:
        return [(lo, hi, len(vals))]
    step = (hi - lo) / buckets
    counts = [0] * buckets
    for v in vals:
        counts[min(buckets - 1, int((v - lo) / step))] += 1
    return [(lo + i * step, lo + (i + 1) * step, c) for i, c in enumerate(counts)]


def column_chart(values: Sequence[float], height: int) -> list[str]:
    """Vertical bars, one column per value, `height` rows tall (top row first)."""
    vals = list(values)
    if not vals or height < 1:
        return []
    top = max(vals) or 1.0
    rows = []
    for r in range(height, 0, -1):
        line = []
        for v in vals:
            level = v / top * height  # in rows
            if level >= r:
                line.append("█")
            elif level > r - 1:
                line.append(BLOCKS[max(1, int((level - (r - 1)) * 8))])
            else:
                line.append(" ")
        rows.append("".join(line))
    return rows
