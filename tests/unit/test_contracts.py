"""The import contracts in pyproject.toml hold on the tree, and a planted violation breaks the named one."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["chain", "storage", "wallet", "node", "cli", "tui"]
FRONT_ENDS = "The TUI and the CLI never import storage"
PURE_CORE = "The pure core (chain, chain.consensus) never imports"
LAYERS = "Layers: cli | tui above node"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    """Run the real `lint-imports` on the packages under `cwd`, with the pyproject.toml found there."""
    env = {**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "400"}  # wide: contract names stay on one line
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run([sys.executable, "-c", code, "--no-cache", "--no-logo"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the product packages and pyproject.toml, to plant violations in."""
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.tcss"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plant(tree: Path, path: str, line: str) -> None:
    (tree / path).write_text(f'"""A planted violation."""\n\n{line}\n')


def broken_contracts(output: str) -> list[str]:
    """The names on the summary lines that end in BROKEN (optionally followed by "(N ignored imports)")."""
    return [m[1] for line in output.splitlines() if (m := re.match(r"^(.+) BROKEN( \(.*\))?$", line))]


def test_the_real_tree_keeps_every_contract():
    p = lint_imports(ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 broken" in p.stdout


def test_the_copy_keeps_every_contract_too(tree: Path):
    """The planted cases below differ from this one by a single module."""
    p = lint_imports(tree)
    assert p.returncode == 0, p.stdout + p.stderr


def test_a_tui_module_importing_storage_is_caught(tree: Path):
    plant(tree, "tui/planted.py", "from storage.store import ChainStore")
    p = lint_imports(tree)
    assert p.returncode != 0
    broken = broken_contracts(p.stdout)
    assert len(broken) == 1 and broken[0].startswith(FRONT_ENDS), p.stdout
    assert "tui.planted -> storage.store" in p.stdout


def test_the_core_reaching_the_node_is_caught_even_indirectly(tree: Path):
    """chain.consensus -> chain.planted -> node: the pure-core contract follows it; the layers break."""
    plant(tree, "chain/planted.py", "import node.events")
    plant(tree, "chain/consensus/planted.py", "import chain.planted")
    p = lint_imports(tree)
    assert p.returncode != 0
    broken = broken_contracts(p.stdout)
    assert any(b.startswith(PURE_CORE) for b in broken), p.stdout
    assert any(b.startswith(LAYERS) for b in broken), p.stdout


def test_the_tui_exception_covers_only_the_tui_command(tree: Path):
    """cli.tui_cmd may start the app; any other CLI module importing tui/ breaks the layers."""
    plant(tree, "cli/planted.py", "import tui.fmt")
    p = lint_imports(tree)
    assert p.returncode != 0
    assert [b for b in broken_contracts(p.stdout) if b.startswith(LAYERS)], p.stdout
