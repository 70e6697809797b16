"""Modal prompts used before every change: a yes/no confirmation and a number prompt, and a
detail view (Enter on an event or a worker).

All show remote text (worker URLs, the exact request) as `Text`, never markup. Cancel is the
default: Escape or `n` cancels, only `y` or the Confirm button confirms. Each has its own key bar,
so the bar at the bottom lists the keys that work now (not those of the view underneath), and its
body scrolls within the screen so the buttons stay in sight at 80x24.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from screens.widgets.keybar import KeyBar

MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 90%; max-width: 110; height: auto; max-height: 100%;
    border: thick $warning; background: $surface; padding: 0 2;
}}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} VerticalScroll {{ height: auto; max-height: 20; }}
{name} Horizontal {{ height: auto; margin-top: 1; }}
{name} Button {{ margin-right: 2; }}
{name} .error {{ color: $error; }}
"""

CHROME_ROWS = 11
"""Rows a prompt needs besides its scrolling body: border 2, title 2, buttons 3 and their margin
1, the key bar 1, and a row free above and below."""


def fit_body(screen: ModalScreen[Any], rows: int) -> None:
    """Cap the scrolling body so the whole prompt (buttons included) fits the terminal."""
    for body in screen.query(VerticalScroll):
        body.styles.max_height = max(3, min(rows, screen.size.height - CHROME_ROWS))


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
        yield KeyBar(show_command_palette=False)

    def on_mount(self) -> None:
        fit_body(self, 20)
        # The prompt may already be closing (answered or timed out before it was drawn).
        for button in self.query("#confirm-no").results(Button):
            button.focus()

    def on_resize(self, event: events.Resize) -> None:
        fit_body(self, 20)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class NumberPrompt(ModalScreen[float | None]):
    """Ask for a number in a range, with at most `decimals` decimal places; dismisses with it, or
    None when cancelled. Anything else (text, too many decimals, out of range) is refused with a
    sentence saying what is accepted; nothing is silently dropped or rounded."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
    ]
    DEFAULT_CSS = MODAL_CSS.format(name="NumberPrompt")

    def __init__(
        self,
        title: Text | str,
        *,
        low: float,
        high: float,
        value: float | None = None,
        decimals: int = 0,
        note: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title if isinstance(title, Text) else Text(title)
        self.low, self.high = low, high
        self.decimals = decimals
        self.initial = value
        self.note = note

    def accepted(self) -> str:
        """What the prompt takes, in words."""
        if self.decimals <= 0:
            return f"a whole number from {self.low:g} to {self.high:g}"
        return (
            f"a number from {self.low:g} to {self.high:g}, "
            f"with at most {self.decimals} decimal(s) (e.g. 1.5)"
        )

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="title")
            if self.note:
                yield Static(Text(self.note, style="dim"), id="prompt-note")
            yield Input(
                value="" if self.initial is None else f"{self.initial:g}",
                placeholder=f"{self.low:g}-{self.high:g}",
                id="prompt-input",
            )
            yield Static("", classes="error", id="prompt-error")
            with Horizontal():
                yield Button("OK", variant="warning", id="prompt-ok")
                yield Button("Cancel", variant="primary", id="prompt-cancel")
        yield KeyBar(show_command_palette=False)

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.focus()

    def parse(self, text: str) -> float | None:
        """The number typed, or None when it is not one this prompt accepts."""
        try:
            number = Decimal(text.strip())
        except InvalidOperation:
            return None
        if not number.is_finite():
            return None
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > max(self.decimals, 0):
            number = number.normalize()  # "2.50" has two places but means 2.5
            exponent = number.as_tuple().exponent
            if isinstance(exponent, int) and -exponent > max(self.decimals, 0):
                return None
        value = float(number)
        return value if self.low <= value <= self.high else None

    def _submit(self) -> None:
        text = self.query_one(Input).value
        value = self.parse(text)
        if value is not None:
            self.dismiss(value)
            return
        shown = text.strip()[:40] or "nothing"
        self.query_one("#prompt-error", Static).update(
            Text(f"{shown!r} is not accepted: enter {self.accepted()}")
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


class TextPrompt(ModalScreen[str | None]):
    """Ask for one line of text a wizard needs during its run (a license key for the system key
    it shows); dismisses with it, or None when cancelled. An empty answer is refused."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="text-prompt.cancel"),
    ]
    DEFAULT_CSS = MODAL_CSS.format(name="TextPrompt")

    def __init__(self, title: Text | str, *, note: str = "", password: bool = False) -> None:
        super().__init__()
        self.title_text = title if isinstance(title, Text) else Text(title)
        self.note = note
        self.password = password
        """Mask what is typed (a license key): the input shows bullets, never the text."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="title")
            if self.note:
                yield Static(Text(self.note, style="dim"), id="prompt-note")
            yield Input(id="prompt-input", password=self.password)
            yield Static("", classes="error", id="prompt-error")
            with Horizontal():
                yield Button("OK", variant="warning", id="prompt-ok")
                yield Button("Cancel", variant="primary", id="prompt-cancel")
        yield KeyBar(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _submit(self) -> None:
        text = self.query_one(Input).value.strip()
        if text and text.isprintable():
            self.dismiss(text)
            return
        self.query_one("#prompt-error", Static).update(Text("enter one line of text"))

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


class DetailScreen(ModalScreen[None]):
    """Everything known about one item (an event, a worker), scrollable; Escape or Enter closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Close", id="detail.close"),
    ]
    DEFAULT_CSS = MODAL_CSS.format(name="DetailScreen").replace("$warning", "$primary")

    def __init__(self, title: Text | str, body: Text) -> None:
        super().__init__()
        self.title_text = title if isinstance(title, Text) else Text(title)
        self.body_text = body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="title", id="detail-title")
            with VerticalScroll(id="detail-scroll"):
                yield Static(self.body_text, id="detail-body")
        yield KeyBar(show_command_palette=False)

    def on_mount(self) -> None:
        fit_body(self, 40)
        self.query_one(VerticalScroll).focus()

    def on_resize(self, event: events.Resize) -> None:
        fit_body(self, 40)

    def action_close(self) -> None:
        self.dismiss(None)


def field_lines(fields: list[tuple[str, Text | str]]) -> Text:
    """`name: value` lines with the values aligned (values are literal text)."""
    width = max((len(name) for name, _ in fields), default=0)
    text = Text(end="")
    for index, (name, value) in enumerate(fields):
        if index:
            text.append("\n")
        text.append(f"{name + ':':<{width + 1}} ", style="bold")
        text.append_text(value if isinstance(value, Text) else Text(value))
    return text
