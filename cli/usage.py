"""Command-line mistakes in the house format, and negative numbers as values.

Click reports a command line it cannot parse (an unknown option, a missing one, `--validator abc`) in a
boxed usage panel. Here every such mistake is the same one line as any other error, `error: ... (reason)`
(JSON on stderr with --json), and keeps Click's exit code 2: the command line itself was wrong, nothing
ran. Errors from a command that did run exit 1 (cli/common.handle_errors).

As in argparse, a negative number is a value, not an option: `block -1` and `validator offline -1` reach
the command (which says what is wrong with the number) and `rpc METHOD -100` passes -100 on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import typer
from typer._click import exceptions as click_errors
from typer._click.parser import _OptionParser  # the parser Typer vendors with Click; see _ValueParser
from typer.core import TyperCommand, TyperGroup

from cli import output

_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def get_usage_reason(e: click_errors.ClickException) -> str:
    """A stable reason code for each kind of command-line mistake."""
    if isinstance(e, click_errors.NoSuchOption):
        return "unknown-option"
    if isinstance(e, click_errors.MissingParameter):
        return "missing-parameter"
    if isinstance(e, click_errors.BadParameter):
        return "bad-value"
    if isinstance(e, click_errors.UsageError) and e.message.startswith("No such command"):
        return "unknown-command"
    if isinstance(e, click_errors.UsageError):
        return "bad-usage"
    return "bad-command-line"


def format_usage_error(e: click_errors.ClickException) -> str:
    """Click's message on one line, with where to read about the command."""
    message = " ".join(e.format_message().split()).rstrip(".")
    message = message[:1].lower() + message[1:]
    ctx = getattr(e, "ctx", None)
    if ctx is not None:
        message += f"; see `{ctx.command_path} --help`"
    return message


def is_json_requested(args: Sequence[str]) -> bool:
    args = list(args)
    return "--json" in (args[: args.index("--")] if "--" in args else args)


@contextmanager
def house_errors(as_json: bool) -> Iterator[None]:
    """Click's usage errors and aborts as one house line; the help screen a bare group shows passes."""
    try:
        yield
    except click_errors.NoArgsIsHelpError:
        raise
    except click_errors.ClickException as e:
        output.error(format_usage_error(e), get_usage_reason(e), as_json)
        raise typer.Exit(e.exit_code) from None
    except typer.Abort:
        # a password prompt left with Ctrl-C or end of input
        output.error("aborted", "aborted", as_json)
        raise typer.Exit(1) from None


class _ValueParser(_OptionParser):
    """Click's option parser, except that a negative number is a positional value (argparse's rule): no
    command has an option spelled like one."""

    def _process_opts(self, arg: str, state) -> None:
        if _NEGATIVE_NUMBER.match(arg) and arg not in self._short_opt:
            state.largs.append(arg)
            return
        super()._process_opts(arg, state)


class HouseCommand(TyperCommand):
    def make_parser(self, ctx) -> _OptionParser:
        parser = _ValueParser(ctx)
        for param in self.get_params(ctx):
            param.add_to_parser(parser, ctx)
        return parser


class HouseGroup(TyperGroup):
    """The top-level `chaintop` group: parse errors anywhere below it come out in the house format."""

    _json_errors = False

    def make_context(self, info_name, args, parent=None, **extra):
        self._json_errors = is_json_requested(args)
        with house_errors(self._json_errors):
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx):
        with house_errors(self._json_errors):
            return super().invoke(ctx)


def use_house_commands(app: typer.Typer) -> None:
    """Every command of `app` and its sub-apps parses with HouseCommand (negative numbers are values)."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = HouseCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            use_house_commands(group.typer_instance)
