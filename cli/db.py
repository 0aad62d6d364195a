"""Database commands: db verify, export, import."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from chain.errors import UsageError
from cli import output
from cli.common import datadir_for, handle_errors, open_node
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


@db_app.command("repair")
@handle_errors
def repair(as_json: JsonOpt = False) -> None:
    """Rebuild the chain from the blocks that survive damage: indexes, state, undo and the pending pool are
    made again by connecting each block with full validation. Says what was lost; keeps the old database
    beside the new one (chain.damaged-TIME). Stop the node first."""
    from node.client import RpcClient
    from node.repair import repair_datadir

    datadir = datadir_for()
    if RpcClient.for_datadir(datadir) is not None:
        raise UsageError("node-running",
                         f"a node is running on {datadir}; stop it first (`chaintop rpc stop`)")
    data = repair_datadir(datadir)

    def render(d):
        lost = d["heights_lost"]
        rows = [("head", f"{d['height']}  {d['head']}"),
                ("head before", f"{d['height_before']} ({d['height_before_from']})"
                 if d["height_before"] is not None else "unknown (no head record survived)"),
                ("lost", "nothing: every block came back" if lost == 0 else
                 f"{lost} block(s) at the top of the chain" if lost else "unknown"),
                ("blocks", f"{d['blocks_found']} found, {d['blocks_connected']} connected, "
                           f"{d['blocks_side']} side branch, {d['blocks_orphaned']} without a parent, "
                           f"{d['blocks_invalid']} invalid, {d['blocks_unreadable']} unreadable"),
                ("pending txs", f"{d['pending_kept']} kept, {d['pending_lost']} no longer valid"),
                ("old database", f"{d['damaged_copy']} (delete it once you are satisfied)")]
        return output.kv_table(rows, title="db repair")

    output.emit(data, as_json, render)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")

    @app.command("export")
    @handle_errors
    def export_cmd(
        file: FileArg,
        start: Annotated[int, typer.Option(
            "--from", metavar="HEIGHT", help="First height (default 1: genesis is shared).")] = 1,
        end: Annotated[int | None, typer.Option(
            "--to", metavar="HEIGHT", help="Last height (default the head).")] = None,
        force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Write main-chain blocks to FILE, to import into another data dir.

        FILE - writes the (binary) export to stdout, for a pipe or a redirect: `export - | ssh host chaintop
        import -`; the summary then goes to stderr. An existing FILE is kept unless --force.
        """
        def summary(d: dict) -> str:
            where = "stdout" if d["file"] == "-" else d["file"]
            return f"exported {d['blocks']} blocks ({d['from']}..{d['to']}) to {where}"

        if str(file) == "-":
            if sys.stdout.isatty():
                raise UsageError("stdout-is-a-terminal", "an export is binary: redirect stdout (`export - > "
                                                         "chain.blk`) or pipe it, or name a FILE")
            with tempfile.TemporaryDirectory(prefix="chaintop-export-") as tmp:
                part = Path(tmp) / "export.blk"
                with open_node() as api:
                    data = api.export_blocks(str(part), start, end)
                with part.open("rb") as f:
                    shutil.copyfileobj(f, sys.stdout.buffer)
                sys.stdout.buffer.flush()
            data["file"] = "-"
            if as_json:
                sys.stderr.write(json.dumps(data) + "\n")
            else:
                output.err_console.print(summary(data), highlight=False)
            return
        if file.is_dir():
            raise UsageError("cannot-write", f"{file} is a directory; name a file to export to")
        if file.exists() and not force:
            raise UsageError("file-exists", f"{file} already exists; pass --force to overwrite it")
        with open_node() as api:
            data = api.export_blocks(str(file), start, end)
        output.emit(data, as_json, summary)

    @app.command("import")
    @handle_errors
    def import_cmd(file: FileArg, as_json: JsonOpt = False) -> None:
        """Validate and store the blocks of FILE (- reads stdin); a branch with more work becomes the chain
        (a reorg)."""
        with tempfile.TemporaryDirectory(prefix="chaintop-import-") as tmp:
            if str(file) == "-":  # the node reads a file (it may be another process): spool stdin to one
                from node.maintenance import EXPORT_MAGIC

                head = sys.stdin.buffer.read(len(EXPORT_MAGIC))
                if head != EXPORT_MAGIC:  # before spooling: `import - < /dev/zero` would never end
                    raise UsageError("bad-export-file", "stdin is not a chaintop block export")
                file = Path(tmp) / "import.blk"
                with file.open("wb") as f:
                    f.write(head)
                    shutil.copyfileobj(sys.stdin.buffer, f)
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
