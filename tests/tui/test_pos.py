"""Validators screen on a proof-of-stake network: the table, committees, staking, unstaking, fault injection;
and on the deterministic hybrid chain, fault injection followed through mined blocks to the slashing."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import DataTable, Input, Label

from node.daemon import RunningNode
from node.node import Node
from tests.tui.conftest import SIZE, make_app, panel_text, run, settle, wait_for
from tui.screens.prompt import ConfirmScreen
from tui.screens.staking import StakeScreen, UnstakeScreen
from tui.screens.validators import ValidatorsScreen

POS_API = ("validators", "committees", "finality", "duties", "stake", "unstake", "validator_fault")


def require_pos_api() -> None:
    missing = [name for name in POS_API if not hasattr(Node, name)]
    assert not missing, (f"the node's proof-of-stake API has not landed yet: Node lacks {', '.join(missing)} "
                         "(see the PoS issue); these TUI tests exercise it")


@pytest.fixture
def pos_running(tmp_path):
    require_pos_api()
    datadir = tmp_path / "pos"
    Node.create(datadir, "pos-devnet").close()
    node = RunningNode(datadir, mining="manual", traffic=0.0, workers=1).start()
    yield node
    node.close()


def pending_kinds(node) -> list[str]:
    return [t["kind"] for t in node.mempool_view()]


def submitted_kinds(node) -> list[str]:
    """Kinds of the dev accounts' transactions pending or already in a block: the node proposes every slot,
    so a transaction can leave the mempool before a busy test loop looks."""
    return pending_kinds(node) + [t["kind"] for k in node.keys() for t in node.account_history(k["label"])]


def test_validators_screen_shows_the_set_committees_and_finality(pos_running):
    app = make_app(pos_running)

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("5")
            await settle(pilot)
            assert isinstance(app.screen, ValidatorsScreen)
            table = app.screen.query_one("#validators-table", DataTable)
            assert table.row_count == len(pos_running.node.validators()) > 0
            committees = panel_text(app.screen.query_one("#validators-committees"))
            assert "proposer" in committees
            finality = panel_text(app.screen.query_one("#validators-finality"))
            assert "justified" in finality and "2/3" in finality
            assert app.last_command == "validators"

    run(scenario())


def test_stake_and_unstake_from_the_keyboard(pos_running):
    app = make_app(pos_running)
    node = pos_running.node

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("5")
            await settle(pilot)
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, StakeScreen), what="the stake dialog")
            app.screen.query_one("#stake-amount", Input).value = "1"
            await pilot.press("enter")
            label = app.screen.query_one("#stake-amount-error", Label)
            assert label.display and "at least" in str(label.render()), \
                "below the minimum stake: inline error"
            assert "stake" not in pending_kinds(node)
            app.screen.query_one("#stake-amount", Input).value = "32"
            await pilot.press("enter")
            await wait_for(pilot, lambda: "stake" in submitted_kinds(node),
                           what="a stake transaction in the mempool (or a block)")
            assert app.last_command == "stake --from dev0 --amount 32"
            await settle(pilot)
            assert isinstance(app.screen, ValidatorsScreen)
            await pilot.press("down", "down")  # validator 2
            await pilot.press("u")
            await wait_for(pilot, lambda: isinstance(app.screen, UnstakeScreen), what="the unstake dialog")
            app.screen.query_one("#unstake-submit").press()
            await wait_for(pilot, lambda: "unstake" in submitted_kinds(node), what="an unstake transaction")
            assert (app.last_command.startswith("unstake --from dev")
                    and app.last_command.endswith("--validator 2"))

    run(scenario())


def test_fault_injection_offline_online_equivocate(pos_running):
    app = make_app(pos_running)
    vc = pos_running.node.validator

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("5")
            await settle(pilot)
            await pilot.press("down", "down", "down")  # validator 3
            await pilot.press("o")
            await wait_for(pilot, lambda: 3 in vc.offline, what="validator 3 offline")
            assert app.last_command == "validator offline 3"
            await wait_for(pilot, lambda: "OFFLINE" in str(app.screen.query_one("#validators-table",
                                                                                DataTable).get_row("3")[2]),
                           what="the OFFLINE flag drawn")
            await pilot.press("o")
            await wait_for(pilot, lambda: 3 not in vc.offline, what="validator 3 back online")
            assert app.last_command == "validator online 3"
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
            await pilot.press("y")
            await wait_for(pilot, lambda: app.last_command == "validator equivocate 3",
                           what="the equivocate call")
            await wait_for(pilot, lambda: any("equivocate" in n.message for n in app._notifications),
                           what="the result notification")

    run(scenario())


def row_of(app, index: int) -> tuple:
    return app.screen.query_one("#validators-table", DataTable).get_row(str(index))


async def select_validator(pilot, index: int) -> None:
    """Move the table's cursor to a validator with the arrow keys (rows are in index order)."""
    table = pilot.app.screen.query_one("#validators-table", DataTable)
    target = table.get_row_index(str(index))
    step = "down" if target > table.cursor_row else "up"
    await pilot.press(*[step] * abs(target - table.cursor_row))
    assert table.cursor_row == target


def next_voter(node) -> tuple[int, int]:
    """(validator, slot): a local validator in the committee of the next slot after the head (slot =
    height)."""
    height = node.status()["height"]
    duty = min((d for d in node.duties() if d["kind"] == "attest" and d["slot"] > height),
               key=lambda d: d["slot"])
    return duty["index"], duty["slot"]


def voters_in(node, height: int, slot: int) -> set[int]:
    return {a["validator"] for a in node.block(height)["attestations"] if a["slot"] == slot}


def test_hybrid_offline_skips_its_vote_and_equivocating_gets_it_slashed(hybrid_running, hybrid_app):
    """hybrid: the committee of slot h votes when block h connects and the votes ride in block h+1."""
    app, node = hybrid_app, hybrid_running.node
    vc = node.validator

    async def mine(blocks: int) -> None:
        await asyncio.to_thread(node.mine, blocks)

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("5")
            await settle(pilot)
            sleeper, slot = next_voter(node)
            await select_validator(pilot, sleeper)
            await pilot.press("o")
            await wait_for(pilot, lambda: sleeper in vc.offline, what=f"validator {sleeper} offline")
            assert app.last_command == f"validator offline {sleeper}"
            await wait_for(pilot, lambda: "OFFLINE" in str(row_of(app, sleeper)[2]),
                           what="the OFFLINE flag drawn")
            # its slot's block, then the block carrying the votes
            await mine(slot + 1 - node.status()["height"])
            voted = voters_in(node, slot + 1, slot)
            assert voted and sleeper not in voted, \
                "an offline validator does not vote; its committee partner does"
            await pilot.press("o")
            await wait_for(pilot, lambda: sleeper not in vc.offline, what=f"validator {sleeper} back online")
            assert app.last_command == f"validator online {sleeper}"
            await wait_for(pilot, lambda: "OFFLINE" not in str(row_of(app, sleeper)[2]),
                           what="the flag cleared")

            cheat, slot = next_voter(node)
            assert "SLASHED" not in str(row_of(app, cheat)[1])
            await select_validator(pilot, cheat)
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
            await pilot.press("y")
            await wait_for(pilot, lambda: cheat in vc.equivocating,
                           what=f"validator {cheat} set to equivocate")
            assert app.last_command == f"validator equivocate {cheat}"
            # it double-votes in its slot; the next block slashes it
            await mine(slot + 1 - node.status()["height"])
            assert {"kind": "attester", "validator": cheat} in node.block(slot + 1)["evidence"]
            await wait_for(pilot, lambda: "SLASHED" in str(row_of(app, cheat)[1]),
                           what=f"validator {cheat} shown SLASHED (the screen reloads after the last block)")
            assert next(v for v in node.validators() if v["index"] == cheat)["slashed"]

    run(scenario())


def test_pow_network_explains_why_there_are_no_validators(app):
    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("5")
            await settle(pilot)
            text = panel_text(app.screen.query_one("#validators-unavailable"))
            assert "runs pow consensus" in text and "pos-devnet" in text

    run(scenario())
