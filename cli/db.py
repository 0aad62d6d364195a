"""Database commands: db verify, export, import."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import output
from cli.common import handle_errors, open_node
from cli.options import FileArg, JsonOpt

db_app = typer.Typer(help="Check the data dir.", no_args_is_help=True)


@db_app.command("verify")
@handle_errors
def verify(as_json: JsonOpt = False) -> None:
    """Re-check every main-chain block, the indexes and the state root against the stored state."""
    with open_node() as api:
        data = api.verify()

    def render(d):
        status = "[green]ok[/]" if d["ok"] else f"[red]{len(d['errors'])} problem(s)[/]"
        rows = [("result", status), ("blocks checked", d["blocks_checked"]),
                ("transactions", d["txs_checked"]), ("accounts", d["accounts"]),
                ("state root", d["state_root"])]
        rows += [("error", e) for e in d["errors"][:50]]
        return output.kv_table(rows, title="db verify")

    output.emit(data, as_json, render)
    if not data["ok"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")

    @app.command("export")
    @handle_errors
    def export_cmd(
        file: FileArg,
        start: Annotated[int, typer.Option(
            "--from", help="First height (default 1: genesis is shared).")] = 1,
        end: Annotated[int | None, typer.Option("--to", help="Last height (default the head).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Write main-chain blocks to FILE, to import into another data dir."""
        with open_node() as api:
            data = api.export_blocks(str(file), start, end)
        output.emit(data, as_json, lambda d: f"exported {d['blocks']} blocks ({d['from']}..{d['to']}) "
                                             f"to {d['file']}")

    @app.command("import")
    @handle_errors
    def import_cmd(file: FileArg, as_json: JsonOpt = False) -> None:
        """Validate and store the blocks of FILE; a branch with more work becomes the chain (a reorg)."""
        with open_node() as api:
            data = api.import_blocks(str(file))

        def render(d):
            rows = [("blocks", d["blocks"]), ("connected", d["connected"]), ("side branch", d["side"]),
                    ("already known", d["duplicate"]), ("reorgs", d["reorg"]),
                    ("head", f"{d['height']}  {d['head']}")]
            rows += [("reorg", f"depth {r['depth']}: {r['old_head'][:16]}… -> {r['new_head'][:16]}…")
                     for r in d["reorgs"]]
            return output.kv_table(rows, title="import")

        output.emit(data, as_json, render)
