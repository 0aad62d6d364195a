"""--help in words: a value is named by its metavar (ADDRESS, COINS, N) or its type in capitals; a flag by
nothing.

Typer 0.29 prints every parameter's Python type (`<str>`, `<bool>`, `<list[str]>`), flags and --help included;
these two overrides give click's familiar style back. Imported once by cli.main.
"""

from __future__ import annotations

from typer import core

_TYPE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "Path": "PATH", "list[str]": "TEXT..."}


def _type_name(param, ctx) -> str | None:
    label = param.display_type(ctx)
    bare = label[1:-1] if label.startswith("<") and label.endswith(">") else label
    return _TYPE_NAMES.get(bare, bare)


def _option_type(self, ctx) -> str | None:
    if self.is_flag:
        return None  # --json, --help: nothing follows them
    if self.metavar is not None:
        return self.metavar
    return _type_name(self, ctx)


def _argument_type(self, ctx) -> str | None:
    name = _type_name(self, ctx)
    if self.metavar is not None or name in ("TEXT", "TEXT..."):
        return None  # its name already says what it is (ADDRESS, TXID, METHOD)
    return name


def _argument_name(self) -> str:
    return self.metavar if self.metavar is not None else self.name.upper()


core.TyperOption.display_type_rich = _option_type
core.TyperArgument.display_type_rich = _argument_type
core.TyperArgument.display_name_raw = property(_argument_name)
