"""`?`: every key binding of the current view, with its description and id, plus the mouse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from screens.widgets.keybar import KeyBar


@dataclass(frozen=True, slots=True)
class KeyHelp:
    """One line of the help: the key as shown, what it does, the binding's id."""

    key: str
    description: str
    id: str


MOUSE_HELP = (
    "Mouse: click a row to select it, click it again (or press Enter) to open it; "
    "click a key in the footer to run it; scroll with the wheel."
)


class HelpScreen(ModalScreen[None]):
    """A modal list of bindings; Esc, `q` or `?` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_help", "Close help", id="help.close"),
        Binding("q", "dismiss_help", "Close help", show=False, id="help.close-q"),
        Binding(
            "question_mark", "dismiss_help", "Close help", show=False, id="help.close-question"
        ),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90%; max-width: 110; height: 90%; border: thick $primary; background: $surface;
        padding: 0 1;
    }
    HelpScreen DataTable { height: 1fr; }
    HelpScreen #help-mouse { height: auto; color: $text-muted; }
    """

    def __init__(self, title: str, keys: list[KeyHelp]) -> None:
        super().__init__()
        self.title_text = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "keys"
            yield Static(Text(self.title_text, style="bold"), markup=False)
            yield DataTable(id="help-keys", cursor_type="row", show_cursor=False)
            yield Static(Text(MOUSE_HELP), id="help-mouse", markup=False)
        yield KeyBar(show_command_palette=False)  # the keys that work here, not the view's

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        table.add_column("key", key="key")
        table.add_column("action", key="action")
        table.add_column("id", key="id")
        for item in self.keys:
            table.add_row(Text(item.key, style="bold"), Text(item.description), Text(item.id))
        table.focus()

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


__all__ = ["MOUSE_HELP", "HelpScreen", "KeyHelp"]
