"""User mistakes through the real console script: one house line each (JSON with --json), a reason code, no
traceback; exit 1 when a command ran and refused, 2 when the command line does not parse. And options that
used to be ignored without a word (issue 9: items 6, 8, 9, 16, 17, 19)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("chaintop")
CHAINTOP = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "cli.main"]
EXPORT_MAGIC = b"CHAINTOP-BLOCKS\x01"


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run(datadir: Path | None, *args: str, stdin: bytes | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess:
    """Bytes in, text out (stdout stays bytes for `export -`)."""
    cmd = [*CHAINTOP, *(["--datadir", str(datadir)] if datadir is not None else []), *args]
    p = subprocess.run(cmd, capture_output=True, cwd=ROOT, env=_env(), timeout=timeout,
                       input=stdin if stdin is not None else b"")
    p.stderr = p.stderr.decode()
    return p


def ok(datadir: Path, *args: str) -> str:
    p = run(datadir, *args)
    assert p.returncode == 0, f"chaintop {' '.join(args)} exited {p.returncode}: {p.stderr}"
    assert "Traceback" not in p.stderr
    return p.stdout.decode()


def js(datadir: Path, *args: str):
    return json.loads(ok(datadir, *args, "--json"))


def fails(datadir: Path | None, *args: str, code: str, exit_code: int = 1) -> str:
    """One `error: ... (code)` line on stderr, nothing on stdout, no traceback, the given exit code."""
    p = run(datadir, *args)
    assert "Traceback" not in p.stderr, p.stderr
    assert p.returncode == exit_code, f"chaintop {' '.join(args)}: exit {p.returncode}, stderr {p.stderr!r}"
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one error line, got {p.stderr!r}"
    assert lines[0].startswith("error: "), lines[0]
    assert lines[0].endswith(f"({code})"), f"expected reason ({code}) in {lines[0]!r}"
    assert p.stdout == b"", p.stdout
    return lines[0]


def fails_json(datadir: Path | None, *args: str, code: str, exit_code: int = 1) -> dict:
    p = run(datadir, *args)
    assert p.returncode == exit_code, p.stderr
    assert p.stdout == b""
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    doc = json.loads(lines[0])
    assert set(doc) == {"error"} and set(doc["error"]) == {"reason", "message"}, doc
    assert doc["error"]["reason"] == code, doc
    return doc["error"]


@pytest.fixture(scope="module")
def regtest(tmp_path_factory) -> Path:
    """A regtest chain with one block; tests here only read it or fail on it."""
    d = tmp_path_factory.mktemp("mistakes") / "chain"
    js(d, "init", "--network", "regtest")
    ok(d, "mine", "--blocks", "1")
    return d


@pytest.fixture(scope="module")
def devnet(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("mistakes") / "devnet"
    js(d, "init", "--network", "devnet")
    return d


def start_node(d: Path, *args: str) -> subprocess.Popen:
    node = subprocess.Popen([*CHAINTOP, "--datadir", str(d), "node", "--workers", "1", *args], cwd=ROOT,
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while True:
        try:
            if json.loads((d / "node.json").read_text())["pid"] == node.pid:
                return node
        except (OSError, ValueError, KeyError):
            pass
        if node.poll() is not None or time.monotonic() > deadline:
            stop_node(node)
            raise AssertionError(f"node did not start: {node.stderr.read() if node.stderr else ''}")
        time.sleep(0.03)


def stop_node(node: subprocess.Popen) -> None:
    if node.poll() is None:
        node.terminate()
    try:
        node.wait(20)
    except subprocess.TimeoutExpired:
        node.kill()
        node.wait(10)
    if node.stderr:
        node.stderr.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """A regtest data dir with a `chaintop node` on it."""
    d = tmp_path_factory.mktemp("mistakes") / "running"
    js(d, "init", "--network", "regtest")
    node = start_node(d)
    try:
        yield d
    finally:
        stop_node(node)


# -- 6: tracebacks and Click's boxed usage errors become house lines ---------------------------------


def test_init_on_a_datadir_that_is_a_file(tmp_path):
    f = tmp_path / "a-file"
    f.write_text("not a directory\n")
    fails(f, "init", "--network", "regtest", code="datadir-not-a-directory")  # was FileExistsError
    fails(f / "below", "init", "--network", "regtest", code="datadir-not-a-directory")  # NotADirectoryError
    assert f.read_text() == "not a directory\n"


def test_tx_sign_and_broadcast_of_a_binary_file(regtest, tmp_path):
    binary = tmp_path / "random.bin"
    binary.write_bytes(bytes(range(256)) * 4)  # 0x80.. is not UTF-8: was UnicodeDecodeError
    fails(regtest, "tx", "sign", str(binary), code="bad-tx-file")
    fails(regtest, "tx", "broadcast", str(binary), code="bad-tx-file")
    p = run(regtest, "tx", "sign", "-", stdin=binary.read_bytes())
    assert p.returncode == 1 and p.stderr.strip().endswith("(bad-tx-file)"), p.stderr


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_node_rpc_port_out_of_range(regtest, port):
    line = fails(regtest, "node", "--rpc-port", port, code="bad-rpc-port")  # 99999 was OverflowError
    assert port in line


@pytest.mark.parametrize(("args", "code", "exit_code"), [
    # a negative number is a value (as in argparse): the command says what is wrong with it
    (("block", "-1"), "bad-height", 1),
    (("blocks", "--last", "-1"), "bad-count", 1),
    # the command line itself does not parse: one line, Click's exit code 2
    (("unstake", "--from", "dev0", "--validator", "abc"), "bad-value", 2),
    (("send", "--from", "dev0", "--to", "dev1", "--amount", "1", "--no-such-option"), "unknown-option", 2),
    (("send", "--to", "dev1", "--amount", "1"), "missing-parameter", 2),
    (("mine", "--blocks"), "bad-usage", 2),
    (("no-such-command",), "unknown-command", 2),
    (("validator", "offline", "one"), "bad-value", 2),
])
def test_usage_mistakes_are_one_house_line(regtest, args, code, exit_code):
    line = fails(regtest, *args, code=code, exit_code=exit_code)
    assert "╭" not in line and "Usage:" not in line


def test_usage_error_names_the_help_to_read(regtest):
    line = fails(regtest, "unstake", "--from", "dev0", "--validator", "abc", code="bad-value", exit_code=2)
    assert "--validator" in line and " unstake --help`" in line


def test_errors_are_json_on_stderr_with_json(regtest):
    err = fails_json(regtest, "block", "99", "--json", code="block-not-found")
    assert "99" in err["message"]
    fails_json(regtest, "status", "--json", "--no-such-option", code="unknown-option", exit_code=2)
    fails_json(regtest, "unstake", "--from", "dev0", "--validator", "abc", "--json", code="bad-value",
               exit_code=2)


def test_rpc_passes_a_negative_parameter(running):
    p = run(running, "rpc", "blocks", "-1")  # was "No such option: -1"
    assert p.returncode == 1, p.stderr
    reply = json.loads(p.stdout)
    assert reply["data"]["reason"] == "bad-count", reply  # the node got -1 as an integer
    assert json.loads(ok(running, "rpc", "blocks", "--", "1"))[0]["height"] == 0


# -- 8: fault injection needs the node whose duties it changes ---------------------------------------


@pytest.mark.parametrize("fault", ["offline", "online", "equivocate"])
def test_validator_fault_without_a_running_node(devnet, fault):
    line = fails(devnet, "validator", fault, "3", code="no-node")  # was "validator 3: offline=True", rc 0
    assert "chaintop node" in line


# -- 9: `mining` checks every value before it changes any ----------------------------------------------


def test_mining_refuses_all_settings_if_one_is_wrong(running):
    before = js(running, "mining")
    assert before["mode"] == "manual"
    fails(running, "mining", "auto", "--workers", "0", code="bad-workers")
    fails(running, "mining", "auto", "--traffic", "-1", code="bad-traffic-rate")
    fails(running, "mining", "off", "--workers", "500", code="bad-workers")
    after = js(running, "mining")
    assert (after["mode"], after["workers"], after["traffic"]) == ("manual", before["workers"], 0.0)


# -- 16: options that were silently ignored --------------------------------------------------------


def test_network_option_on_a_datadir_of_another_network(regtest):
    p = run(regtest, "--network", "devnet", "status")
    assert p.returncode == 0, p.stderr
    assert "regtest" in p.stdout.decode()
    notes = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(notes) == 1 and notes[0].startswith("note: "), p.stderr
    assert "--network devnet" in notes[0] and "regtest" in notes[0]
    assert notes[0].endswith("(network-mismatch)")
    # scripts: stdout is the same JSON, the note is JSON on stderr
    p = run(regtest, "--network", "devnet", "status", "--json")
    assert json.loads(p.stdout)["network"] == "regtest"
    assert json.loads(p.stderr)["note"]["reason"] == "network-mismatch"
    # the data dir's own network, or no --network at all: no note
    for args in (("--network", "regtest", "status"), ("status",)):
        p = run(regtest, *args)
        assert p.returncode == 0 and p.stderr == "", p.stderr


@pytest.mark.parametrize(("network", "option"), [
    ("regtest", ("--slot-time", "0.5")),
    ("regtest", ("--merge-height", "5")),
    ("pow-devnet", ("--slot-time", "0.5")),
    ("devnet", ("--slot-time", "0.5")),  # the hybrid's slots are its block heights
    ("pos-devnet", ("--merge-height", "5")),
])
def test_init_refuses_options_the_network_has_no_use_for(tmp_path, network, option):
    d = tmp_path / "c"
    line = fails(d, "init", "--network", network, *option, code="not-for-network")
    assert option[0] in line and network in line
    assert not (d / "chain").exists()


@pytest.mark.parametrize(("network", "option", "code"), [
    ("devnet", ("--slot-time", "0.5"), "not-for-network"),  # the hybrid's epochs are block heights
    ("pow-devnet", ("--slot-time", "0.5"), "not-for-network"),
    ("pos-devnet", ("--block-time", "1"), "not-for-network"),  # its nodes would not start (was so)
    ("pos-devnet", ("--slot-time", "0"), "bad-slot-time"),
])
def test_devnet_up_refuses_a_block_time_the_network_has_no_use_for(tmp_path, network, option, code):
    root = tmp_path / "net"
    fails(None, "--network", network, "devnet", "up", "--dir", str(root), *option, code=code)
    assert not root.exists(), "nothing made, nothing started"


@pytest.mark.parametrize("workers", ["0", "-5", "500"])
def test_node_workers_follow_the_mining_rule(regtest, workers):
    # was: 0 and -5 meant "all cores" and 500 started 500 processes, while `mining --workers` took 1-64
    line = fails(regtest, "node", "--workers", workers, code="bad-workers")
    assert "1 and 64" in line


# -- 17: `mine` says why it stopped early ------------------------------------------------------------


def test_mine_says_why_it_stopped_at_the_merge(tmp_path):
    d = tmp_path / "merge"
    js(d, "init", "--network", "merge-devnet", "--merge-height", "4")
    first = js(d, "mine", "--blocks", "1")
    assert first["stopped"] is None and len(first["blocks"]) == 1
    p = run(d, "mine", "--blocks", "5")
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.decode().splitlines()) == 2  # blocks 2 and 3; block 4 is the first PoS block
    notes = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(notes) == 1 and notes[0].startswith("note: ") and notes[0].endswith("(pos-height)"), p.stderr
    assert "2 of 5" in notes[0] and "block 4" in notes[0]

    e = tmp_path / "merge-json"
    js(e, "init", "--network", "merge-devnet", "--merge-height", "4")
    data = js(e, "mine", "--blocks", "12")
    assert len(data["blocks"]) == 3 and data["requested"] == 12
    assert data["stopped"]["reason"] == "pos-height" and "block 4" in data["stopped"]["message"]


# -- 19: the small ones ------------------------------------------------------------------------------


def test_committees_of_a_negative_epoch(devnet):
    line = fails(devnet, "committees", "--epoch", "-1", code="bad-epoch")
    assert "0 or more" in line and "ahead" not in line


@pytest.mark.parametrize(("label", "code"), [("dev0", "dev-key"), ("nobody", "unknown-key")])
def test_keys_export_says_what_is_wrong_before_asking_a_password(regtest, label, code):
    # no CHAINTOP_PASSWORD and no terminal: it used to stop at password-required before looking
    line = fails(regtest, "keys", "export", label, code=code)
    assert label in line


@pytest.mark.parametrize("args", [
    ("send", "--from", "dev0", "--to", "nobody", "--amount", "1"),
    ("tx", "create", "--from", "dev0", "--to", "bob1", "--amount", "1"),
    ("mine", "--to", "nobody"),
])
def test_a_mistyped_label_is_an_unknown_label(regtest, args):
    line = fails(regtest, *args, code="unknown-label")  # was "address has no '1' separator"
    assert "chaintop keys list" in line


def test_an_address_of_a_known_network_is_still_checked_as_an_address(regtest):
    fails(regtest, "send", "--from", "dev0", "--to", "ctreg1qqqq", "--amount", "1", code="bad-address-format")


def test_export_keeps_an_existing_file_unless_forced(regtest, tmp_path):
    target = tmp_path / "chain.blk"
    target.write_bytes(b"precious")
    line = fails(regtest, "export", str(target), code="file-exists")
    assert "--force" in line
    assert target.read_bytes() == b"precious"
    assert js(regtest, "export", str(target), "--force")["blocks"] == 1
    assert target.read_bytes().startswith(EXPORT_MAGIC)


def test_export_dash_writes_stdout_and_import_dash_reads_stdin(regtest, tmp_path):
    p = run(regtest, "export", "-")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(EXPORT_MAGIC)
    assert "to stdout" in p.stderr
    assert not (ROOT / "-").exists()
    other = tmp_path / "other"
    js(other, "init", "--network", "regtest")
    q = run(other, "import", "-", "--json", stdin=p.stdout)
    assert q.returncode == 0, q.stderr
    assert json.loads(q.stdout)["connected"] == 1
    assert js(other, "status")["head"] == js(regtest, "status")["head"]


def test_devnet_status_names_the_dir_in_its_tui_hint_when_it_is_not_the_default(tmp_path):
    root = tmp_path / "net"
    root.mkdir()
    (root / "devnet.json").write_text(json.dumps({"network": "pos-devnet", "nodes": [], "mining": None}))
    p = subprocess.run([*CHAINTOP, "devnet", "status", "--dir", str(root)], capture_output=True, text=True,
                       cwd=ROOT, env=_env() | {"COLUMNS": "300"}, timeout=60)
    assert p.returncode == 0, p.stderr
    # (the terminal wraps a long line at spaces: a long temporary path may push the hint onto two lines)
    assert f"`chaintop --network pos-devnet devnet tui NODE --dir {root}`" in " ".join(p.stdout.split())


def test_a_node_command_without_datadir_while_the_default_devnet_runs_says_how_to_reach_a_node(tmp_path):
    env = _env() | {"XDG_DATA_HOME": str(tmp_path / "data"), "COLUMNS": "300"}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*CHAINTOP, "--network", "regtest", *args], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=90)

    up = cli("devnet", "up", "--nodes", "1", "--mining", "manual", "--json")
    try:
        assert up.returncode == 0, up.stderr
        node1 = json.loads(up.stdout)["nodes"][0]["datadir"]
        p = cli("net", "partition")
        assert p.returncode == 1 and p.stderr.strip().endswith("(no-node)"), p.stderr
        assert f"a devnet runs: name one of its nodes, e.g. `chaintop --datadir {node1} ...`" in p.stderr
    finally:
        down = cli("devnet", "down")
    assert down.returncode == 0, down.stderr
    assert "a devnet runs" not in cli("net", "partition").stderr  # stopped: the plain message
