"""The modal prompts at the smallest supported terminal: buttons in sight, their own keys."""

from __future__ import annotations

from rich.text import Text
from textual.app import App

from screens.confirm import ConfirmScreen, NumberPrompt
from screens.widgets.keybar import KeyBar
from tests.app.waiting import wait_for


class PromptApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.answers: list[object] = []


async def test_a_long_confirmation_keeps_apply_and_cancel_on_screen_at_80x24() -> None:
    app = PromptApp()
    body = Text("\n".join(f"form line {i}: value" for i in range(80)))
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ConfirmScreen("Drain node2?", body, action="Apply"), app.answers.append)
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.pause()
        dialog = app.screen
        for button in ("#confirm-yes", "#confirm-no"):
            region = dialog.query_one(button).region
            assert region.height == 3 and dialog.region.contains_region(region), button
        bar = dialog.query_one(KeyBar)
        assert not bar.region.overlaps(dialog.query_one("#confirm-yes").region)
        await pilot.press("y")
        await wait_for(lambda: app.answers == [True])


def test_number_prompt_takes_what_httpd_takes() -> None:
    prompt = NumberPrompt("factor", low=1, high=100, decimals=2)
    assert prompt.parse("1.5") == 1.5
    assert prompt.parse(" 2.50 ") == 2.5
    assert prompt.parse("100") == 100.0
    for refused in ("1.005", "0.99", "101", "1.5x", "", "nan", "inf", "1e400", "-3"):
        assert prompt.parse(refused) is None, refused
    whole = NumberPrompt("weight", low=0, high=256)
    assert whole.parse("7") == 7.0 and whole.parse("7.5") is None
    assert "whole number" in whole.accepted() and "decimal" in prompt.accepted()
