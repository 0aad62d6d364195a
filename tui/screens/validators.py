"""Validators and committees: the validator set, this epoch's committees and proposers, FFG progress,
and the staking and fault-injection actions."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable

from tui import fmt
from tui.backend import POS_HINT, PosUnavailable
from tui.screens.base import ChainScreen
from tui.widgets.committee_table import CommitteeTable
from tui.widgets.finality_panel import FinalityPanel
from tui.widgets.placeholder import Placeholder

STATUS_STYLE = {"active": "green", "pending": "yellow", "exiting": "yellow", "exited": "dim",
                "withdrawable": "dim", "withdrawn": "dim"}


def validator_row(v: dict) -> tuple:
    status = Text(v.get("status", "?"), style=STATUS_STYLE.get(v.get("status"), ""))
    if v.get("slashed"):
        status = Text("SLASHED", style="bold white on red")
    flags = " ".join(f for f, on in (("ours", v.get("local")), ("OFFLINE", v.get("offline"))) if on)
    return (v["index"], status, Text(flags, style="bold yellow" if v.get("offline") else "cyan"),
            _right(fmt.coins(v.get("effective_balance"))), _right(fmt.coins(v.get("balance"))),
            _right(fmt.coins(v.get("rewards"))), fmt.short_addr(v.get("address")))


def _right(s: str) -> Text:
    return Text(s, justify="right")


class ValidatorsScreen(ChainScreen):
    TAB = "validators"
    AUTO_FOCUS = "#validators-table"
    BINDINGS = [
        Binding("s", "stake", "Stake", id="validators.stake"),
        Binding("u", "unstake", "Unstake", id="validators.unstake"),
        Binding("o", "offline", "Offline", id="validators.offline"),
        Binding("e", "equivocate", "Equivocate", id="validators.equivocate"),
        Binding("r", "reload", "Reload", id="validators.reload", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        yield Placeholder(id="validators-unavailable")
        with VerticalScroll(id="validators-main"):
            with Horizontal(id="validators-top"):
                yield FinalityPanel("finality (FFG)", id="validators-finality")
                table = DataTable(id="validators-table", cursor_type="row", zebra_stripes=True)
                table.border_title = "validators (o offline/online · e equivocate · u unstake)"
                yield table
            yield CommitteeTable("committees this epoch", id="validators-committees")

    def on_mount(self) -> None:
        table = self.query_one("#validators-table", DataTable)
        for col in ("#", "status", "flags", "effective", "balance", "rewards", "address"):
            table.add_column(col, key=col)
        self.validators: list[dict] = []
        self.committees: dict | None = None
        self.duties: list[dict] = []
        self.included: dict[int, int] = {}  # slot -> voters whose votes recent blocks carry
        self.query_one("#validators-unavailable").display = False
        super().on_mount()

    def reload(self) -> None:
        if not self.backend.is_pos:  # known from the params: do not even ask
            self._unavailable(PosUnavailable(
                f"This chain runs {self.backend.consensus} consensus: no validators, no committees, "
                "no checkpoints; a block is as final as the work piled on it (count confirmations). "
                f"{POS_HINT}", "not-pos"))
            return
        self.call(self._fetch, done=self._got, failed=self._unavailable, group="validators")

    def _fetch(self) -> dict:
        b = self.backend
        out = {"validators": b.validators(), "finality": b.finality()}
        out["committees"] = b.committees(None)
        slots = [s["slot"] for s in (out["committees"] or {}).get("slots", [])]
        spe = getattr(b.params, "slots_per_epoch", 8)
        out["included"] = b.votes_included(min(slots), max(slots), spe + 2) if slots else {}
        try:
            out["duties"] = b.duties()
        except Exception:  # noqa: BLE001 — duties are a nicety; the rest of the screen still helps
            out["duties"] = []
        return out

    def _unavailable(self, error) -> None:
        msg = error.message if isinstance(error, PosUnavailable) else getattr(error, "message", str(error))
        ph = self.query_one("#validators-unavailable", Placeholder)
        ph.display = True
        ph.show({"title": "no validators here", "message": msg})
        self.query_one("#validators-main").display = False

    def _got(self, data: dict) -> None:
        self.query_one("#validators-unavailable").display = False
        self.query_one("#validators-main").display = True
        self.validators = data["validators"]
        self.committees = data["committees"]
        self.duties = data["duties"]
        self.included = data.get("included", {})
        self.model.load_pos(data["finality"])
        self.model.dirty.discard("pos")
        table = self.query_one("#validators-table", DataTable)
        keep = table.cursor_row
        table.clear()
        for v in self.validators:
            table.add_row(*validator_row(v), key=str(v["index"]))
        if 0 <= keep < table.row_count:
            table.move_cursor(row=keep, animate=False)
        active = sum(1 for v in self.validators if v.get("status") == "active")
        table.border_title = (f"{len(self.validators)} validators, {active} active "
                              "(o offline/online · e equivocate)")
        self._draw()

    def _draw(self) -> None:
        pos = self.model.pos
        self.query_one(FinalityPanel).show({**pos, "epoch": pos.get("current_epoch", pos.get("epoch")),
                                            "slot": pos.get("current_slot", pos.get("slot")),
                                            "slots_per_epoch": getattr(self.backend.params, "slots_per_epoch",
                                                                       None)})
        local = [v["index"] for v in self.validators if v.get("local")]
        seen = self.model.attestations  # counted live, from AttestationSeen events
        votes = {s: max(seen.get(s, 0), self.included.get(s, 0)) for s in set(seen) | set(self.included)}
        self.query_one(CommitteeTable).show({"committees": self.committees,
                                             "current_slot": pos.get("current_slot"),
                                             "attestations": votes, "local": local})

    def update_live(self, topics: frozenset[str]) -> None:
        if not self.query_one("#validators-main").display:
            return
        if "pos" in topics:
            self._draw()
            if self.due("validators", 1.0):
                self.reload()

    # -- actions ---------------------------------------------------------------------------
    def _selected(self) -> dict | None:
        table = self.query_one("#validators-table", DataTable)
        if not table.row_count:
            self.app.notify("no validator selected", severity="warning")
            return None
        index = int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)
        return next((v for v in self.validators if v["index"] == index), None)

    def action_reload(self) -> None:
        self.reload()

    def action_stake(self) -> None:
        self.app.actions.stake_dialog()

    def action_unstake(self) -> None:
        v = self._selected()
        if v is not None:
            self.app.actions.unstake_dialog(v)

    def action_offline(self) -> None:
        v = self._selected()
        if v is not None:
            # no node event follows a fault (on hybrid chains no slot ticks either): read the flags back now
            self.app.actions.fault(v["index"], "online" if v.get("offline") else "offline",
                                   done=self._reload_after)

    def action_equivocate(self) -> None:
        v = self._selected()
        if v is not None:
            self.app.actions.equivocate_dialog(v["index"], done=self._reload_after)

    def _reload_after(self, _result) -> None:
        if self.is_mounted:
            self.reload()
