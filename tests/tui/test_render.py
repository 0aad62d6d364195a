"""The TUI's pure parts without the app: render functions, validation, search classification, the live model
and the event bridge."""

from __future__ import annotations

import threading

import pytest
from rich.console import Console

from chain.params import COIN, REGTEST, get_preset
from node import events as ev
from tui import draw, equivalents, fmt
from tui.bridge import EventBridge
from tui.model import LiveModel
from tui.screens.dashboard import difficulty_view, eta_text
from tui.screens.help import SCREENS, help_markdown
from tui.screens.tx import finality_text, proof_rows
from tui.search import classify
from tui.widgets.committee_table import render_committees
from tui.widgets.field_table import render_fields
from tui.widgets.finality_panel import render_finality
from tui.widgets.search_progress import render_search_progress
from tui.widgets.send_form import validate_send
from tui.widgets.stake_form import validate_stake
from tui.widgets.tab_bar import render_tab_bar

ADDR = "ctreg1v3etgez3gup9lau8p0h8m4uyl5x0c0ykckz9y2"


def text(renderable, width: int = 120) -> str:
    console = Console(width=width, record=True, color_system=None,
                      file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


@pytest.mark.parametrize("query,kind", [
    ("42", "height"), ("#7", "height"), ("ab" * 32, "hash"), ("0x" + "AB" * 32, "hash"), ("dev3", "address"),
    (ADDR, "address"), ("hello", "none"), ("abc", "none"), ("ctdev1xyz", "none"), ("", "none"),
    ("9" * 13, "none"),
])
def test_search_classifies_heights_hashes_and_addresses(query, kind):
    q = classify(query, "ctreg")
    assert q.kind == kind
    if kind == "none":
        assert q.why


def test_search_names_the_other_network():
    assert "another network" in classify("ctdev1qqqq", "ctreg").why


def check_address(text: str):
    return None if text in ("dev1", ADDR) else "not an address of this network"


@pytest.mark.parametrize("values,field,message", [
    ({"to": "bob", "amount": "1"}, "to", "not an address"),
    ({"to": "dev1", "amount": ""}, "amount", "enter an amount"),
    ({"to": "dev1", "amount": "abc"}, "amount", "not a number"),
    ({"to": "dev1", "amount": "-1"}, "amount", "negative"),
    ({"to": "dev1", "amount": "0"}, "amount", "more than zero"),
    ({"to": "dev1", "amount": "0.123456789"}, "amount", "8 decimal places"),
    ({"to": "dev1", "amount": "20000000000000"}, "amount", "largest amount"),
    ({"to": "dev1", "amount": "11"}, "amount", "but dev0 has 10"),
    ({"to": "dev1", "amount": "1", "fee": "0.000000001"}, "fee", "decimal places"),
    ({"to": "dev1", "amount": "1", "fee": "0.000001"}, "fee", "below the relay minimum"),
])
def test_send_validation_reports_each_mistake_on_its_field(values, field, message):
    errors, _ = validate_send({"sender": "dev0", **values}, check_address, {"dev0": 10 * COIN}, 1_000)
    assert message in errors[field]


def test_send_validation_parses_good_input_to_base_units():
    errors, parsed = validate_send({"sender": "dev0", "to": "dev1", "amount": "1.5", "fee": "0.0001"},
                                   check_address, {"dev0": 10 * COIN}, 1_000)
    assert errors == {}
    assert parsed == {"sender": "dev0", "to": "dev1", "amount": 150_000_000, "fee": 10_000}


def test_stake_validation_needs_the_minimum_and_the_balance():
    assert "at least 32" in validate_stake({"sender": "dev0", "amount": "5"}, {}, 32 * COIN,
                                           1000)[0]["amount"]
    assert "has" in validate_stake({"sender": "dev0", "amount": "40"}, {"dev0": 40 * COIN}, 32 * COIN,
                                   1000)[0]["amount"]
    assert validate_stake({"sender": "dev0", "amount": "32"}, {"dev0": 40 * COIN}, 32 * COIN, 1000) == (
        {}, {"sender": "dev0", "amount": 32 * COIN})


def test_drawing_primitives():
    assert draw.sparkline([1, 2, 4, 8], 4) == "▁▂▄█"
    assert draw.sparkline([], 10) == "" and draw.sparkline([0, 0], 5) == "▁▁"
    assert draw.bar(0.5, 10) == "█████░░░░░" and draw.bar(7.0, 4) == "████"
    assert draw.gauge(0.0, 2 / 3, 9)[6] == "┃"
    assert [c for _, _, c in draw.histogram([1, 1, 2, 10], 3)] == [3, 0, 1]
    assert draw.column_chart([1, 2], 2) == [" █", "██"]
    assert (fmt.age(3725) == "1h02m" and fmt.hash_rate(1500) == "1.5 kH/s"
            and fmt.leading_zero_bits("0f" + "f" * 62) == 4)


def test_tab_bar_marks_the_active_screen_and_fits_80_columns():
    bar = render_tab_bar({"active": "mining", "width": 80, "network": "devnet", "consensus": "pow",
                          "height": 5})
    assert bar.cell_len <= 80 and "4 Mining" in bar.plain and all(f" {k} " in bar.plain for k in "1234567")
    assert bar.plain.endswith("devnet · pow · #5"), "the badge stays: the other tabs show their keys only"
    roomy = render_tab_bar({"active": "mining", "width": 90, "network": "devnet", "consensus": "pow",
                            "height": 5})
    assert "3 Pool" in roomy.plain and "7 Events" in roomy.plain and roomy.plain.endswith("#5")
    wide = render_tab_bar({"active": "mining", "width": 120, "network": "devnet", "consensus": "pow",
                           "height": 5})
    assert wide.plain.endswith("devnet · pow · #5")


def test_fields_put_explanations_beside_when_wide_and_under_when_narrow():
    rows = [("hash", "ab" * 32, "the block's id")]
    assert len(text(render_fields({"rows": rows, "width": 140}), 140).strip().splitlines()) == 1
    assert len(text(render_fields({"rows": rows, "width": 80}), 80).strip().splitlines()) == 2
    assert "the block's id" not in text(render_fields({"rows": rows, "explain": False}))


def test_finality_panel_and_ffg_gauge():
    out = text(render_finality({"epoch": 3, "slot": 27, "slots_per_epoch": 8, "justified_epoch": 2,
                                "finalized_epoch": 1, "target_votes": 0.7, "participation": 0.9,
                                "leaking": True, "finality_delay": 5}))
    assert "slot 27 (4/8)" in out and "70.0% of stake" in out and "inactivity leak" in out
    assert "PoW" in text(render_finality({"unavailable": "PoW here"}))


def test_committees_mark_local_validators_and_count_votes():
    view = {"committees": {"epoch": 0, "slots": [{"slot": 0, "proposer": 3, "committee": [1, 2]},
                                                 {"slot": 1, "proposer": None, "committee": [4]}]},
            "current_slot": 0, "attestations": {0: 1}, "local": [2, 3]}
    out = text(render_committees(view))
    assert "#3*" in out and "1/2" in out and "2*" in out and "-/1" in out


def test_search_progress_compares_best_hash_with_target():
    p = {"height": 9, "hashes": 3000, "expected_hashes": 1000.0, "hash_rate": 1500.0, "eta": 0.7,
         "workers": 2, "best_hash": "00" + "f" * 62, "target": "000" + "f" * 61}
    out = text(render_search_progress({"progress": p, "width": 20}))
    assert "300%" in out and "8 leading zero bits" in out and "12 leading zero bits needed" in out
    assert "press space" in text(render_search_progress({"progress": None, "mode": "manual"}))


def test_difficulty_preview_and_eta():
    p = get_preset("pow-devnet")
    recent = [{"height": h, "timestamp": 1000 + 5 * h} for h in range(0, 30)]
    view = difficulty_view({"height": 29, "bits": "1f00ffff", "difficulty": 8.0}, recent, p)
    assert view["window_pos"] == 10 and view["avg_spacing"] == 5.0 and view["preview"] > 1.9  # twice as fast
    assert difficulty_view({"height": 3, "bits": "207fffff", "difficulty": 1.0}, recent,
                           REGTEST)["no_retarget"]
    assert "interval" in eta_text("pow", {"mode": "interval"}, None, 100, 103, 10, 0)
    assert "expected" in eta_text("pow", {"mode": "auto", "active": True}, {"eta": 2.0, "hash_rate": 10.0},
                                  0, 0, 10, 1)
    assert "off" in eta_text("pow", {"mode": "off"}, None, 0, 0, 10, 0)


def test_tx_finality_and_proof_rows():
    assert "pending" in finality_text({"status": "pending"}, "pow", None)
    assert "6+ is Bitcoin" in finality_text({"status": "confirmed", "confirmations": 2}, "pow", None)
    assert "FINALIZED" in finality_text({"status": "confirmed", "height": 3}, "pos", 8)
    assert "not finalized" in finality_text({"status": "confirmed", "height": 9}, "pos", 8)
    rows = proof_rows({"verified": True, "index": 1, "tree_size": 3, "tx_root": "aa", "proof": ["bb", "cc"]})
    assert [r[0] for r in rows] == ["verified", "position", "tx root", "path 0", "path 1"]


def test_every_screen_has_help_and_equivalents_read_like_the_cli():
    for name in ("dashboard", "blocks", "mempool", "mining", "validators", "wallet", "events"):
        assert name in SCREENS and "Keys everywhere" in help_markdown(name)
    assert equivalents.send("dev0", "dev1", 150_000_000, None) == "send --from dev0 --to dev1 --amount 1.5"
    assert equivalents.send("dev0", "dev1", COIN, 2000) == ("send --from dev0 --to dev1 --amount 1 "
                                                             "--fee 0.00002")
    assert (equivalents.mine(3) == "mine --blocks 3"
            and equivalents.fault(4, "offline") == "validator offline 4")
    assert equivalents.stake("dev2", 32 * COIN) == "stake --from dev2 --amount 32"
    assert equivalents.workers(3) == "mining --workers 3"


def test_hint_line_says_when_the_command_only_applies_at_the_next_start():
    from tui.widgets.hint_line import render_hint

    plain = text(render_hint({"command": "mine", "prefix": "chaintop"}))
    assert plain.strip() == "$ chaintop mine"
    noted = text(render_hint({"command": "node --workers 2", "prefix": "chaintop",
                              "note": "for the next start"}))
    assert "$ chaintop node --workers 2" in noted and "next start" in noted


def test_block_votes_grouped_by_what_they_vote_for_and_evidence_named():
    from tui.screens.block_detail import render_votes

    assert render_votes(None, None) is None, "a node without PoS views: no section"
    assert "no attestations" in text(render_votes([], []))
    vote = {"slot": 9, "head": "aa" * 32, "source_epoch": 0, "target_epoch": 1}
    atts = [{**vote, "validator": 5}, {**vote, "validator": 4}, {**vote, "head": "bb" * 32, "validator": 5}]
    out = text(render_votes(atts, [{"kind": "attester", "validator": 5}]))
    lines = out.splitlines()
    assert lines[0] == "3 vote(s):"
    assert "head aaaaaaaaaaaa…" in lines[1] and "2 vote(s) by #4, #5" in lines[1]
    assert "head bbbbbbbbbbbb…" in lines[2] and "1 vote(s) by #5" in lines[2]
    assert "SLASHING EVIDENCE" in lines[3] and "validator #5 signed two conflicting votes" in lines[3]
    assert "two different blocks" in text(render_votes([], [{"kind": "double-proposal", "validator": 2}]))


def test_model_rolls_forward_from_events():
    m = LiveModel(clock=lambda: 1000.0)
    m.load_status({"height": 4, "head": "aa", "head_time": 900})
    m.apply(ev.TxAdded("t1", "ctreg1a", 0, 2000, 13.4))
    m.apply(ev.TxAdded("t2", "ctreg1b", 0, 1000, 6.7))
    m.apply(ev.TxRemoved("t2", "evicted"))
    assert set(m.pool) == {"t1"} and m.pool_events[0].text.endswith("evicted")
    m.apply(ev.MiningProgress(5, 100, 50.0, "ff" * 32, "7f" * 32, 2.0, 0.04, 1))
    assert m.progress["height"] == 5
    m.apply(ev.BlockConnected(5, "bb", "aa", 950, ["t1"], "ctreg1miner", "207fffff"))
    assert m.status["height"] == 5 and not m.pool and m.progress is None and m.recent[0]["height"] == 5
    m.apply(ev.MiningProgress(5, 200, 50.0, "ff" * 32, "7f" * 32, 2.0, 0.04, 1))
    assert m.progress is None, "a stale report for a found block is ignored"
    m.apply(ev.ValidatorSlashed(3, "double-vote", 1, 4 * COIN))
    m.apply(ev.InactivityLeak(9, 5))
    assert [a.kind for a in m.alerts] == ["ValidatorSlashed", "InactivityLeak"] and m.pos["leaking"]
    assert {"head", "mempool", "mining", "pos", "log", "alert"} <= m.take_dirty()
    m.apply(ev.AttestationSeen(16, 2, "bb", 1, 2))
    assert m.attestations == {16: 1} and m.log[-1].kind == "InactivityLeak", "votes are counted, not logged"


def test_bridge_coalesces_progress_and_wakes_once_per_batch():
    bus = ev.EventBus()
    wakes = []
    bridge = EventBridge(bus, lambda: wakes.append(1)).start()

    def burst():
        for i in range(1000):
            bus.emit(ev.MiningProgress(1, i, 1.0, "ff", "7f", 2.0, 1.0, 1))
            bus.emit(ev.TxAdded(f"{i}", "a", i, 1, 1.0))

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    drained = bridge.drain()
    assert len(wakes) == 1
    assert sum(isinstance(e, ev.TxAdded) for e in drained) == 4000
    assert sum(isinstance(e, ev.MiningProgress) for e in drained) == 1 and bridge.coalesced == 3999
    bus.emit(ev.TxAdded("x", "a", 0, 1, 1.0))
    assert len(wakes) == 2, "draining re-arms the wake-up"
    bridge.stop()
    bus.emit(ev.TxAdded("y", "a", 0, 1, 1.0))
    assert bridge.backlog == 1


def test_every_binding_has_an_id_and_a_description():
    from textual.binding import Binding

    from tui.app import ChaintopApp
    from tui.screens import (
        account,
        block_detail,
        blocks,
        dashboard,
        events,
        help,
        mempool,
        mining,
        prompt,
        staking,
        tx,
        validators,
        wallet,
    )

    classes = [ChaintopApp, account.AccountScreen, block_detail.BlockDetailScreen, blocks.BlocksScreen,
               dashboard.DashboardScreen, events.EventsScreen, help.HelpScreen, mempool.MempoolScreen,
               mining.MiningScreen, prompt.PromptScreen, prompt.ConfirmScreen, staking.StakeScreen,
               staking.UnstakeScreen, tx.TxScreen, validators.ValidatorsScreen, wallet.WalletScreen]
    ids = []
    for cls in classes:
        for b in cls.BINDINGS:
            assert isinstance(b, Binding) and b.id and b.description, (cls.__name__, b)
            ids.append(b.id)
    assert len(ids) == len(set(ids)), "binding ids are unique"
