"""Keyboard-interactive logins (one-time codes) against a real SSH server that asks for one: the
interactive console prompts (masked, the server's texts shown literally) and logs in; a cancelled
prompt is not asked again until `r`; the wall never prompts and says why."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from console.config import load_inventory_text
from screens.app import ClusterConsoleApp
from screens.login import LoginPrompt
from tests.app.waiting import wait_for
from tests.kbdint_server import CODE, QUESTION, OtpHost, isolate_client, otp_server

NET = os.environ.get("CLUSTERCONSOLE_TEST_NET", "127.0.0")


def _app(tmp_path: Path, otp: OtpHost, *, read_only: bool = False) -> ClusterConsoleApp:
    path = tmp_path / "cluster.toml"
    text = otp.inventory_text()
    path.write_text(text)
    return ClusterConsoleApp(load_inventory_text(text, path), read_only=read_only, reload=False)


@pytest.fixture(autouse=True)
def _no_agent_no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in isolate_client(tmp_path / "home").items():
        monkeypatch.setenv(name, value)


def _plain(widget: Static) -> str:
    return str(widget.render())


async def _answer_until_up(app: ClusterConsoleApp, pilot: Pilot[int]) -> None:
    """Type the code into every login prompt until the monitor's session to otp1 is up (the
    doctor's own session asks for a code of its own, and may ask first)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 90
    while app.state.node("otp1").ssh != "up":
        assert loop.time() < deadline, "otp1 never came up"
        screen = app.screen
        if isinstance(screen, LoginPrompt) and isinstance(app.focused, Input):
            await pilot.press(*CODE, "enter")
            await wait_for(lambda s=screen: app.screen is not s)  # type: ignore[misc]
        await asyncio.sleep(0.05)


async def test_the_console_prompts_for_the_code_masked_and_logs_in(tmp_path: Path) -> None:
    async with otp_server(NET, tmp_path) as otp:
        app = _app(tmp_path, otp)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: isinstance(app.screen, LoginPrompt), 60)
            prompt = app.screen
            assert isinstance(prompt, LoginPrompt) and prompt.node == "otp1"
            await wait_for(lambda: prompt.query_one("#login-instructions", Static))
            # The server's words are shown as text: markup literal, the escape made visible.
            shown = _plain(prompt.query_one("#login-instructions", Static))
            assert "[bold]" in shown and "\\x1b[31m" in shown and "\x1b" not in shown
            assert _plain(prompt.query_one("#login-question-0", Static)) == QUESTION
            field = prompt.query_one("#login-answer-0", Input)
            assert field.password  # the server marked the question secret (no echo)
            await wait_for(lambda: app.focused is field)
            await pilot.press(*CODE)
            await wait_for(lambda: field.value == CODE)
            assert CODE not in app.export_screenshot()  # typed, never shown
            await pilot.press("enter")
            await wait_for(lambda: app.screen is not prompt)
            await _answer_until_up(app, pilot)
            assert otp.seen.answers[0] == [CODE] and otp.seen.logins >= 1


async def test_a_cancelled_login_is_not_asked_again_until_refresh(tmp_path: Path) -> None:
    async with otp_server(NET, tmp_path) as otp:
        app = _app(tmp_path, otp)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: isinstance(app.screen, LoginPrompt), 60)
            await pilot.press("escape")
            await wait_for(lambda: app.state.node("otp1").ssh == "auth-failed", 60)
            reason = app.state.node("otp1").ssh_reason or ""
            assert "keyboard-interactive" in reason and "not answered" in reason
            assert any("press r" in str(n.message) for n in app._notifications)
            assert app.logins is not None and app.logins.declined == {"otp1"}
            await pilot.press("r")  # asked again: this time answered
            await wait_for(lambda: isinstance(app.screen, LoginPrompt), 60)
            await _answer_until_up(app, pilot)
            assert otp.seen.logins >= 1


async def test_the_wall_never_prompts_and_says_why(tmp_path: Path) -> None:
    async with otp_server(NET, tmp_path) as otp:
        app = _app(tmp_path, otp, read_only=True)
        async with app.run_test(size=(120, 40)):
            await wait_for(lambda: app.state.node("otp1").ssh == "auth-failed", 60)
            reason = app.state.node("otp1").ssh_reason or ""
            assert "keyboard-interactive" in reason and "watch mode never prompts" in reason
            assert not isinstance(app.screen, LoginPrompt)
            assert otp.seen.answers == []  # nothing was sent for the challenge
