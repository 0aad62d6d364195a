"""--help in words: a value is named by its metavar (ADDRESS, COINS, N) or its type in capitals; a flag by
nothing; a group's list of commands shows each one's first paragraph as flowing text.

Typer 0.29 prints every parameter's Python type (`<str>`, `<bool>`, `<list[str]>`), flags and --help included,
and in its rich markup mode keeps a docstring's line breaks in a group's command list (so a wrapped docstring
came out as ragged lines, "... (same" / "data dir, ..."); these overrides give click's familiar style back.
Imported once by cli.main.
"""

from __future__ import annotations

import inspect

from typer import core, rich_utils

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


_command_help = rich_utils._make_command_help


def _flowing_command_help(*, help_text: str, markup_mode):
    first, sep, rest = inspect.cleandoc(help_text).partition("\n\n")
    if not first.startswith("\b"):  # (click's marker for a paragraph whose breaks are meant)
        first = " ".join(first.split())
    return _command_help(help_text=first + sep + rest, markup_mode=markup_mode)


rich_utils._make_command_help = _flowing_command_help
