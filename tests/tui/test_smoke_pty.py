"""`chaintop tui` in a real pseudo-terminal: first start creates the devnet, the dashboard draws, keys switch
screens, q quits with exit code 0 and the node shuts down cleanly."""

from __future__ import annotations

import os
import sys
import textwrap
import time

import pexpect

# Runs the real console entry point; registers `tui` itself only if cli/main.py does not yet.
LAUNCHER = textwrap.dedent("""
    import cli.main as main
    from cli import tui_cmd
    if not any((c.name or c.callback.__name__) == "tui" for c in main.app.registered_commands):
        tui_cmd.register(main.app)
    main.run()
""")


def test_chaintop_tui_in_a_pty_starts_navigates_and_quits_cleanly(tmp_path):
    datadir = tmp_path / "devnet"
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    env.pop("CHAINTOP_DATADIR", None)
    child = pexpect.spawn(sys.executable, ["-c", LAUNCHER, "--datadir", str(datadir), "tui", "--mining",
                                           "auto", "--traffic", "5", "--workers", "1"],
                          env=env, dimensions=(40, 120), timeout=30, encoding="utf-8", codec_errors="replace")
    try:
        child.expect("Dashboard")
        child.expect("next block")  # the dashboard's head panel has drawn
        child.send("2")
        child.expect("newest first")
        child.send("7")
        child.expect("since this TUI opened")
        child.send("?")
        child.expect("Keys everywhere")
        child.send("\x1b")  # escape closes help
        time.sleep(0.5)  # a lone ESC, not the start of an alt+key sequence
        child.send("q")
        child.expect("stopped cleanly")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    assert (datadir / "chain").exists(), "the first start created the devnet"
    assert not (datadir / "node.json").exists(), "the node removed its runtime files on the way out"
