"""The retarget preview is the chain's own rule over the same window: on a real pow-devnet chain it predicts
the bits the retarget block then gets, including the first window, which starts at genesis' timestamp."""

from __future__ import annotations

from chain.consensus import pow as pow_rules
from chain.params import get_preset
from node.node import Node
from tests.tui.conftest import StepClock
from tui.screens.dashboard import difficulty_view
from tui.widgets.difficulty_panel import render_difficulty

DAY = 86_400


def _text(view: dict) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(render_difficulty(view))
    return console.export_text()


def _ratio(node: Node, height: int) -> float:
    """old target / new target at `height`: above 1 means harder, as the preview says it."""
    old, new = (pow_rules.bits_to_target(int(node.block(h)["bits"], 16)) for h in (height - 1, height))
    return old / new


def test_preview_predicts_the_retarget_blocks_bits(tmp_path):
    params = get_preset("pow-devnet")
    genesis = params.genesis_time
    clock = StepClock(genesis + DAY)  # a chain created a day after the preset's fixed genesis date
    node = Node.create(tmp_path / "pow", "pow-devnet", clock=clock)
    try:
        def mine_to(height: int, start: int, spacing: int) -> None:
            while node.status()["height"] < height:
                clock.now = start + spacing * (node.status()["height"] + 1)
                node.mine(1)

        def view() -> dict:
            return difficulty_view(node.status(), node.blocks(last=64), node.params)

        mine_to(12, genesis + DAY, 10)
        early = view()
        assert early["from_genesis"] and early["clamp"] == "easier" and early["capped"]
        assert early["preview"] == 1.0, "a day since genesis: clamped x4 easier, capped at the easiest target"
        text = _text(early)
        assert "first window starts at genesis' timestamp" in text and "at block 20, in 8 blocks" in text
        mine_to(19, genesis + DAY, 10)
        exact = view()
        assert exact["exact"] and "at the next block" in _text(exact)
        mine_to(20, genesis + DAY, 10)
        assert _ratio(node, 20) == exact["preview"] == 1.0  # block 20 kept the same bits, as predicted

        # the second window at 9 s a block: 19 gaps of 9 s = 171 s against 20 x 10 s = 200 s, so harder
        start = node.block(20)["timestamp"] - 9 * 20
        mine_to(30, start, 9)
        projected = view()
        assert not projected["from_genesis"] and projected["avg_spacing"] == 9.0
        assert "~2m51s from block 20 to 39 (19 gaps) against 20 × 10 s = 200 s" in _text(projected)
        mine_to(39, start, 9)
        final = view()
        mine_to(40, start, 9)
        assert _ratio(node, 40) == final["preview"] == projected["preview"] > 1.1
        assert "(harder) at the next block" in _text(final)
    finally:
        node.close()
