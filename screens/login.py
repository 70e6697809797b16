"""Keyboard-interactive logins (one-time codes) answered in the interactive session.

A node or a jump host that asks for a keyboard-interactive login gets a modal prompt naming the
node, with the challenge's name and instructions and one field per question; a question the
server marks as secret (no echo: a code, a password) is masked. The texts come from the server:
shown as text, control characters visible, never markup. Prompts come one at a time; a cancelled
login is not asked again for that node until the operator refreshes (`r`), so a node whose
reconnects keep asking does not cover the screen. Watch mode installs no prompt at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from screens.confirm import MODAL_CSS
from screens.widgets.common import safe
from screens.widgets.keybar import KeyBar


class LoginPrompt(ModalScreen[list[str] | None]):
    """One keyboard-interactive challenge: dismisses with the answers, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel login", id="login.cancel"),
    ]
    DEFAULT_CSS = MODAL_CSS.format(name="LoginPrompt")

    def __init__(
        self, node: str, name: str, instructions: str, prompts: Sequence[tuple[str, bool]]
    ) -> None:
        super().__init__()
        self.node = node
        self.challenge = name
        self.instructions = instructions
        self.prompts = list(prompts)

    def compose(self) -> ComposeResult:
        with Vertical():
            title = Text("login to ", style="bold").append(safe(self.node, "bold", limit=120))
            yield Static(title.append(" asks for a keyboard-interactive answer"), classes="title")
            with VerticalScroll():
                if self.challenge:
                    yield Static(safe(self.challenge, limit=200), id="login-name")
                if self.instructions:
                    yield Static(
                        safe(self.instructions, "dim", limit=1000), id="login-instructions"
                    )
                for index, (question, echo) in enumerate(self.prompts):
                    yield Static(
                        safe(question or "answer:", limit=200), id=f"login-question-{index}"
                    )
                    yield Input(password=not echo, id=f"login-answer-{index}")
            with Horizontal():
                yield Button("Log in", variant="warning", id="login-ok")
                yield Button("Cancel", variant="primary", id="login-cancel")
        yield KeyBar(show_command_palette=False)

    def on_mount(self) -> None:
        for field in self.query(Input).results(Input):
            field.focus()
            break

    def answers(self) -> list[str]:
        return [field.value for field in self.query(Input).results(Input)]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next question; on the last one it logs in."""
        event.stop()
        fields = list(self.query(Input).results(Input))
        at = fields.index(event.input) if event.input in fields else len(fields) - 1
        if at + 1 < len(fields):
            fields[at + 1].focus()
        else:
            self.dismiss(self.answers())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(self.answers() if event.button.id == "login-ok" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class LoginPrompts:
    """The interactive session's answerer (`probes.ssh.prompt.KbdintPrompt`): one prompt at a
    time, a node whose login was cancelled not asked again until `retry`."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.declined: set[str] = set()
        self._lock: asyncio.Lock | None = None

    def retry(self) -> None:
        """The operator's refresh: ask again the nodes whose login was cancelled."""
        self.declined.clear()

    async def ask(
        self, node: str, name: str, instructions: str, prompts: Sequence[tuple[str, bool]]
    ) -> list[str] | None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if node in self.declined:
                return None
            answers = await self._ask(LoginPrompt(node, name, instructions, prompts))
        if answers is None:
            self.declined.add(node)
            self.app.notify(
                f"login to {node} cancelled: press r to be asked again",
                severity="warning",
                markup=False,
            )
        return answers

    async def _ask(self, screen: LoginPrompt) -> list[str] | None:
        future: asyncio.Future[list[str] | None] = asyncio.get_running_loop().create_future()

        def answered(answers: list[str] | None) -> None:
            if not future.done():
                future.set_result(answers)

        self.app.push_screen(screen, callback=answered)
        try:
            return await future
        finally:
            # The node gave up (its login grace time) or the session closed: take the prompt
            # down rather than leave a question no one will read the answer of.
            if not future.done() and self.app.screen is screen:
                self.app.pop_screen()


__all__ = ["LoginPrompt", "LoginPrompts"]
