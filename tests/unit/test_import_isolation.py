"""DESIGN.md's rule: importing the domain, the store, the wallet or the node never loads textual/rich."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE_PACKAGES = ["chain", "storage", "wallet", "node"]
UI = ["textual", "rich"]


def modules_of(packages: list[str]) -> list[str]:
    """Every module under the packages, found on disk, so a module added by a later split is covered too."""
    out = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


CORE = modules_of(CORE_PACKAGES)

PROBE = """
import json, sys
for name in sys.argv[2:]:
    __import__(name)
ui = json.loads(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ui)))
"""


def loaded_ui_modules(modules: list[str]) -> list[str]:
    p = subprocess.run([sys.executable, "-c", PROBE, json.dumps(UI), *modules], capture_output=True,
                       text=True, cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_core_imports_do_not_load_textual_or_rich():
    assert loaded_ui_modules(CORE) == []


def test_the_probe_sees_rich_when_it_is_loaded():
    """The check can fail: the CLI's output module does pull in rich."""
    assert "rich" in loaded_ui_modules(["cli.output"])
