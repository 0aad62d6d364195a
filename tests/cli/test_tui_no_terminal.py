"""`chaintop tui` without a terminal (pipes, as in a script or CI) refuses at once with no-terminal instead of
writing escape codes into the pipe and never exiting."""

from __future__ import annotations

import subprocess
import sys


def test_tui_with_pipes_refuses_with_no_terminal(tmp_path):
    datadir = tmp_path / "devnet"
    proc = subprocess.run([sys.executable, "-c", "import cli.main as m; m.run()", "--datadir", str(datadir),
                           "tui"], stdin=subprocess.PIPE, capture_output=True,
                          timeout=60, text=True)
    assert proc.returncode == 1
    assert "(no-terminal)" in proc.stderr and "needs a terminal" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "\x1b" not in proc.stdout + proc.stderr, "no escape codes"
    assert not datadir.exists(), "refused before creating anything"
