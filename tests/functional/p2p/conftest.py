"""The network tests' fixture: every node process a test starts is stopped at its end."""

from __future__ import annotations

import pytest

from tests.functional.p2p.helpers import NodeProc


@pytest.fixture
def procs():
    """Node processes a test started; each is stopped (SIGTERM, exit 0 expected) at the end."""
    started: list[NodeProc] = []
    yield started
    for p in reversed(started):
        if p.proc.poll() is None:
            p.stop()
