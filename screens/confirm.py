"""Modal prompts used before every change: a yes/no confirmation and a number prompt.

Both show remote text (worker URLs, the exact request) as `Text`, never markup. Cancel is the
default: Escape or `n` cancels, only `y` or the Confirm button confirms.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.validation import Integer
from textual.widgets import Button, Input, Static

MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 90%; max-width: 110; height: auto; max-height: 90%;
    border: thick $warning; background: $surface; padding: 1 2;
}}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} VerticalScroll {{ height: auto; max-height: 20; }}
{name} Horizontal {{ height: auto; margin-top: 1; }}
{name} Button {{ margin-right: 2; }}
{name} .error {{ color: $error; }}
"""


class ConfirmScreen(ModalScreen[bool]):
    """Ask before a change; dismisses with True only on an explicit yes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Yes, do it", id="confirm.yes"),
        Binding("n,escape", "cancel", "No, cancel", id="confirm.no"),
    ]
    DEFAULT_CSS = MODAL_CSS.format(name="ConfirmScreen")

    def __init__(self, title: Text | str, body: Text | str, *, action: str = "Confirm") -> None:
        super().__init__()
        self.title_text = title if isinstance(title, Text) else Text(title)
        self.body_text = body if isinstance(body, Text) else Text(body)
        self.action_label = action

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="title", id="confirm-title")
            with VerticalScroll():
                yield Static(self.body_text, id="confirm-body")
            with Horizontal():
                yield Button(self.action_label, variant="warning", id="confirm-yes")
                yield Button("Cancel", variant="primary", id="confirm-no")

    def on_mount(self) -> None:
        # The prompt may already be closing (answered or timed out before it was drawn).
        for button in self.query("#confirm-no").results(Button):
            button.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class NumberPrompt(ModalScreen[int | None]):
    """Ask for a whole number in a range; dismisses with it, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
    ]
    DEFAULT_CSS = MODAL_CSS.format(name="NumberPrompt")

    def __init__(self, title: Text | str, *, low: int, high: int, value: int | None = None) -> None:
        super().__init__()
        self.title_text = title if isinstance(title, Text) else Text(title)
        self.low, self.high = low, high
        self.initial = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="title")
            yield Input(
                value="" if self.initial is None else str(self.initial),
                placeholder=f"{self.low}-{self.high}",
                type="integer",
                validators=[Integer(minimum=self.low, maximum=self.high)],
                id="prompt-input",
            )
            yield Static("", classes="error", id="prompt-error")
            with Horizontal():
                yield Button("OK", variant="warning", id="prompt-ok")
                yield Button("Cancel", variant="primary", id="prompt-cancel")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.focus()

    def _submit(self) -> None:
        field = self.query_one(Input)
        text = field.value.strip()
        if text.lstrip("-").isdigit() and self.low <= int(text) <= self.high:
            self.dismiss(int(text))
            return
        self.query_one("#prompt-error", Static).update(
            Text(f"enter a whole number from {self.low} to {self.high}")
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "prompt-ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
