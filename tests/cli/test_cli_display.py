"""What people read: stake and unstake in words, human numbers (ages, difficulty, chain work, coins in
errors), tables that fit 80 columns, PoS blocks by slot and proposer, --help that names values, --version,
and a line of words for every event `watch` can print."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from rich.text import Text
from typer.testing import CliRunner

from chain.params import COIN
from cli import output
from cli.main import app
from cli.node import _DESCRIBE, _describe
from node import events as ev
from tests.functional.pos_helpers import (  # noqa: F401 (close_pos_nodes: autouse fixture)
    close_pos_nodes,
    drive_slots,
    pos_node,
)

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("chaintop")
CHAINTOP = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "cli.main"]


def run(datadir: Path | None, *args: str, columns: int = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINTOP_")}
    env.update(PYTHONUNBUFFERED="1", COLUMNS=str(columns))
    cmd = [*CHAINTOP, *(["--datadir", str(datadir)] if datadir is not None else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)


def ok(datadir: Path | None, *args: str, columns: int = 120) -> str:
    p = run(datadir, *args, columns=columns)
    assert p.returncode == 0, f"chaintop {' '.join(args)} exited {p.returncode}: {p.stderr}"
    assert "Traceback" not in p.stdout + p.stderr
    return p.stdout


def js(datadir: Path, *args: str):
    return json.loads(ok(datadir, *args, "--json"))


def flat(text: str) -> str:
    """Table text with its wrapping undone, for phrases a narrow column may fold."""
    return " ".join(text.split())


# -- stake and unstake --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def staking_chain(tmp_path_factory) -> dict:
    """A hybrid devnet with a pending stake (a new validator) and a pending unstake of validator 0."""
    d = tmp_path_factory.mktemp("stake") / "chain"
    ok(d, "init", "--network", "devnet")
    ok(d, "mine", "--blocks", "2")
    stake = js(d, "stake", "--from", "dev1", "--amount", "32")
    unstake = js(d, "unstake", "--from", "dev0", "--validator", "0")
    return {"dir": d, "stake": stake, "unstake": unstake,
            "pending": {"stake": ok(d, "tx", stake["txid"]), "unstake": ok(d, "tx", unstake["txid"]),
                        "mempool": ok(d, "mempool"), "mempool_json": js(d, "mempool")}}


def test_a_pending_stake_and_unstake_say_what_they_do(staking_chain):
    s = staking_chain
    stake, unstake = s["pending"]["stake"], s["pending"]["unstake"]
    assert "None" not in stake + unstake
    key = s["stake"]["validator_pubkey"]
    assert re.search(r"what\s+stake 32 coins → new validator 0x" + key[:16] + "…", stake), stake
    assert re.search(r"amount\s+32 coins", stake) and re.search(r"validator key\s+" + key, stake)
    assert re.search(r"what\s+unstake validator #0", unstake), unstake
    assert "amount" not in unstake
    pool = flat(s["pending"]["mempool"])
    assert "stake → new validator 0x" + key[:10] in pool and "unstake validator #0" in pool
    rows = {t["kind"]: t for t in s["pending"]["mempool_json"]}
    assert (rows["stake"]["amount"], rows["stake"]["validator_pubkey"]) == (32 * COIN, key)
    assert rows["stake"]["validator_index"] is None and rows["unstake"]["validator_index"] == 0


def test_a_confirmed_stake_names_its_validator_in_tx_and_history(staking_chain):
    d, s = staking_chain["dir"], staking_chain
    ok(d, "mine", "--blocks", "1")
    index = js(d, "tx", s["stake"]["txid"])["validator_index"]
    assert index == len(js(d, "validators")) - 1
    shown = ok(d, "tx", s["stake"]["txid"])
    assert f"stake 32 coins → validator #{index} (0x" in shown
    assert re.search(rf"validator\s+#{index}", shown)
    history = flat(ok(d, "account", "dev1", "--history"))
    assert f"stake → validator #{index}" in history and "-32" in history
    assert "unstake validator #0" in flat(ok(d, "account", "dev0", "--history"))


# -- numbers in words ---------------------------------------------------------------------------------
def test_formatters():
    assert [output.age(s) for s in (3, 300, 7200, 28_935_467)] == ["3 s", "5 min", "2 h", "334 days"]
    assert output.difficulty(262_144.0) == "262,144" and output.difficulty(1.0) == "1"
    assert output.chain_work("e") == "0xe (14 hashes expected)"
    assert output.yes_no(False) == "no"


@pytest.fixture(scope="module")
def regtest(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("regtest") / "chain"
    ok(d, "init", "--network", "regtest")
    ok(d, "mine", "--blocks", "1")
    return d


def test_status_reads_as_words(regtest):
    text = ok(regtest, "status")
    age = re.search(r"head age\s+(\d+) (s|min|h|days) *\n", text)
    assert age and (age.group(2) != "s" or int(age.group(1)) < 60), text
    work = int(js(regtest, "status")["chain_work"], 16)
    assert re.search(rf"chain work\s+0x{work:x} \({work:,} hashes expected\)", text), text
    assert "e+" not in text and "difficulty 1;" in text


def test_balance_errors_are_in_coins(regtest):
    p = run(regtest, "send", "--from", "dev0", "--to", "dev1", "--amount", "99999999999")
    assert p.returncode == 1 and "(insufficient-balance)" in p.stderr
    assert "99999999999.00001 coins" in p.stderr and "base units" not in p.stderr


def test_fee_estimate_shows_coins_beside_units(regtest):
    text = ok(regtest, "fee-estimate")
    assert re.search(r"low\s+[\d.]+ units/byte -> 1000 units = 0.00001 coins for a transfer", text), text


def test_key_tables_fit_80_columns(regtest, staking_chain):
    keys = ok(regtest, "keys", "list", columns=80)
    lines = keys.splitlines()
    for k in js(regtest, "keys", "list"):
        assert any(k["address"] in line for line in lines), f"{k['address']} is cut at 80 columns:\n{keys}"
    assert max(len(line) for line in lines) <= 80
    validators = ok(staking_chain["dir"], "validators", columns=80)
    header = next(line for line in validators.splitlines() if line.lstrip().startswith("#"))
    assert re.search(r"\bbalance\b.*\brewards\b.*\bowner\b.*\blocal\b", header), validators
    blocks = ok(regtest, "blocks", columns=80)
    assert "confs" in blocks and all(len(line) <= 80 for line in blocks.splitlines())


def test_pos_blocks_show_slot_and_proposer(tmp_path):
    node = pos_node(tmp_path)
    drive_slots(node, 1, 4)
    proposers = {b["height"]: b["proposer_index"] for b in node.blocks(4)}
    node.close()
    d = tmp_path / "pos"
    rows = js(d, "blocks", "--last", "4")
    assert [(b["engine"], b["slot"]) for b in rows] == [("pos", s) for s in (4, 3, 2, 1)]
    text = ok(d, "blocks", "--last", "4")
    assert "bits 00000000" not in text
    for b in rows:
        assert f"slot {b['slot']}, proposer #{proposers[b['height']]}" in text
    one = ok(d, "block", "4")
    assert f"proof of stake: slot 4, proposer #{proposers[4]}" in one and "nonce" not in one


# -- --help and --version ---------------------------------------------------------------------------
def _command_paths(group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name)
        if hasattr(cmd, "commands"):
            yield from _command_paths(cmd, (*prefix, name))


def test_help_names_values_never_python_types():
    import typer.main

    runner = CliRunner()
    paths = [(), *_command_paths(typer.main.get_command(app))]
    assert ("mempool", "drop") in paths and ("send",) in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.output)
        bad = re.findall(r"<(?:str|bool|int|float|list\[str\]|Path)>", result.output)
        assert not bad, f"chaintop {' '.join(path)} --help shows {bad}:\n{result.output}"
    send = runner.invoke(app, ["send", "--help"], env={"COLUMNS": "120"}).output
    for option, metavar in (("--from", "KEY"), ("--to", "ADDRESS"), ("--amount", "COINS"), ("--fee", "COINS"),
                            ("--nonce", "N")):
        assert re.search(rf"{option}\s+{metavar}\s", send), (option, send)
    assert re.search(r"--json\s+Print JSON", send)  # a flag names no value


def test_a_groups_command_list_flows_each_first_paragraph():
    """A docstring wrapped at 110 columns reads as one paragraph in its group's list, not as ragged lines."""
    import typer.main

    runner = CliRunner()
    group_paths = [p for p in [(), *_command_paths(typer.main.get_command(app))]
                   if hasattr(_resolve(typer.main.get_command(app), p), "commands")]
    assert ("devnet",) in group_paths
    for path in group_paths:
        group = _resolve(typer.main.get_command(app), path)
        out = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "250"}).output
        rows = [line.strip("│ ").rstrip() for line in out.splitlines()]
        for name, cmd in group.commands.items():
            first = " ".join((cmd.help or "").split("\n\n")[0].split())
            if cmd.hidden or not first or first.startswith("\b"):
                continue
            row = next((r for r in rows if r.startswith(name + " ")), None)
            assert row is not None, (path, name, out)
            shown = " ".join(row[len(name):].split())
            where = f"chaintop {' '.join(path)} --help"
            assert shown.startswith(first[:120]), f"{where}: {name!r} shows {shown!r}"


def _resolve(group, path):
    for name in path:
        group = group.commands[name]
    return group


def test_version():
    assert ok(None, "--version").strip() == f"chaintop {version('chaintop')}"


# -- watch ------------------------------------------------------------------------------------------
def _sample(annotation: str):
    kind = annotation.split("|")[0].strip()
    return {"int": 3, "float": 1.5, "bool": True, "str": "ab" * 32}.get(kind, ["cd" * 32])


def _event_types() -> list[type]:
    return [cls for _, cls in inspect.getmembers(ev, inspect.isclass)
            if issubclass(cls, ev.Event) and cls is not ev.Event and dataclasses.is_dataclass(cls)]


def test_watch_has_words_for_every_event_type():
    types = _event_types()
    assert len(types) >= 18
    missing = sorted(cls.__name__ for cls in types if cls.__name__ not in _DESCRIBE)
    assert not missing, f"add a line of words for {missing} to cli/node.py's _DESCRIBE"
    for cls in types:
        event = cls(**{f.name: _sample(str(f.type)) for f in dataclasses.fields(cls)})
        line = Text.from_markup(_describe(event.to_dict())).plain
        assert "{" not in line and cls.__name__ not in line, line


def test_watch_says_why_a_tx_left_the_pool():
    def words(reason: str) -> str:
        return Text.from_markup(_describe(ev.TxRemoved("ab" * 32, reason).to_dict())).plain

    assert words("dropped").endswith("dropped (mempool drop)")
    assert words("replaced").endswith("replaced (same nonce, higher fee)")
    assert words("invalid:duplicate-validator-key").endswith("no longer valid (duplicate-validator-key)")
    unknown = Text.from_markup(_describe({"event": "SomethingNew", "height": 5, "new_head": "ab"})).plain
    assert unknown.endswith("SomethingNew: height 5, new head ab")  # still words, never raw JSON
