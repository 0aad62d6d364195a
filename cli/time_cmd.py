"""Time control, as bitcoind's setmocktime and anvil's evm_increaseTime: time, time increase, time set."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from chain.errors import UsageError
from cli import output
from cli.common import handle_errors, open_node
from cli.options import JsonOpt

time_app = typer.Typer(help="The chain's clock: show it, move it on (kept across restarts).",
                       invoke_without_command=True)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_seconds(text: str) -> float:
    """'90', '90s', '5m', '2h', '1.5d' -> seconds."""
    t = text.strip().lower()
    scale = _UNITS.get(t[-1:], None)
    try:
        return float(t[:-1] if scale else t) * (scale or 1)
    except ValueError:
        raise UsageError("bad-seconds", f"{text!r} is not a duration: seconds, or a number with s, m, h "
                                        "or d") from None


def parse_time(text: str) -> float:
    """A unix time in seconds, or an ISO 8601 date and time (UTC unless it says otherwise)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError("bad-time", f"{text!r} is neither a unix time nor an ISO 8601 date "
                                     "(2027-01-01T12:00:00Z)") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _render(d: dict):
    rows = [("now", f"{d['utc']}  (unix {d['time']:.0f})"),
            ("shift", f"{d['time_shift']:+.0f} s from the wall clock's course" if "time_shift" in d
             else "—"),
            ("head age", output.age(d["head_age"]))]
    if "moved_by" in d:
        rows.insert(1, ("this change", f"{d['moved_by']:+.3f} s"))
    if d.get("clock") == "paused-while-closed":
        rows.append(("clock", f"stands still while the chain is closed (paused {d['last_pause']:.0f} s "
                              "on this opening)"))
    if "slot" in d:
        rows.append(("slot", str(d["slot"])))
    return output.kv_table(rows, title="time")


@time_app.callback()
@handle_errors
def time_show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show the chain's clock: now, how far `time increase` moved it, the head's age, the slot."""
    if ctx.invoked_subcommand is not None:
        return
    with open_node() as api:
        data = api.time_view()
    output.emit(data, as_json, _render)


@time_app.command("increase")
@handle_errors
def time_increase(
    seconds: Annotated[str, typer.Argument(metavar="SECONDS", help="How far: 30, 90s, 5m, 2h, 1d.")],
    as_json: JsonOpt = False,
) -> None:
    """Move the chain's clock on (evm_increaseTime).

    The next PoW block's timestamp jumps; a PoS chain's slot advances, at most two epochs at a time (the
    slots in between are empty, and a longer gap would stall finality).
    """
    with open_node() as api:
        data = api.increase_time(parse_seconds(seconds))
    output.emit(data, as_json, _render)


@time_app.command("set")
@handle_errors
def time_set(
    when: Annotated[str, typer.Argument(metavar="UNIX",
                                        help="A unix time, or an ISO date: 2027-01-01T12:00Z.")],
    as_json: JsonOpt = False,
) -> None:
    """Set the chain's clock (setmocktime); never before the head block's timestamp."""
    with open_node() as api:
        data = api.set_time(parse_time(when))
    output.emit(data, as_json, _render)


def register(app: typer.Typer) -> None:
    app.add_typer(time_app, name="time")
