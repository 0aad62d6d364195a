"""Shared benchmark plumbing: timing loops and the one JSON line format."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def emit(bench: str, metric: str, value: float, baseline: str | None = None,
         baseline_value: float | None = None, **extra) -> dict:
    row = {"bench": bench, "metric": metric, "value": round(value, 3)}
    if baseline is not None:
        row.update(baseline=baseline, baseline_value=round(baseline_value, 3),
                   ratio=round(value / baseline_value, 3) if baseline_value else None)
    row.update(extra)
    print(json.dumps(row), flush=True)
    return row


def rate(fn: Callable[[], int], min_seconds: float = 1.0) -> float:
    """Calls fn (which does some operations and returns how many) until min_seconds pass; ops per second."""
    ops, start = 0, time.perf_counter()
    while True:
        ops += fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return ops / elapsed


def raw_ed25519_verify_rate(seconds: float = 1.0, n: int = 500) -> float:
    """Raw cryptography Ed25519 verifications per second on this core (keys pre-loaded)."""
    keys = [Ed25519PrivateKey.generate() for _ in range(8)]
    msgs = []
    for k in keys:
        m = os.urandom(32)
        msgs.append((k.public_key(), k.sign(m), m))

    def batch() -> int:
        for _ in range(n // len(msgs)):
            for pub, sig, m in msgs:
                pub.verify(sig, m)
        return (n // len(msgs)) * len(msgs)

    return rate(batch, seconds)
