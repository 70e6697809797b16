"""`?`: the console's keys on the current view (with description and id), the table keys (sort,
export), the mouse, and a legend of the state words and their colours.

Keys the toolkit binds for its own widgets (a scroll view's arrows, an input's editing keys) are
not listed: `console_binding` keeps a binding with an id, or one a console class declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from screens.cells import Palette, palette_for, word
from screens.widgets.keybar import KeyBar
from screens.widgets.node_table import NodeTable
from screens.widgets.row_table import RowTable


@dataclass(frozen=True, slots=True)
class KeyHelp:
    """One line of the help: the key as shown, what it does, the binding's id."""

    key: str
    description: str
    id: str


def console_binding(node: DOMNode, binding: Binding) -> bool:
    """A key of the console's own (an id, or declared by one of its classes), not one Textual
    binds inside its widgets."""
    if binding.id:
        return True
    for cls in type(node).__mro__:
        if cls.__module__.split(".", 1)[0] == "textual":
            continue
        for declared in cls.__dict__.get("BINDINGS", ()):
            keys, action = (
                (declared.key, declared.action) if isinstance(declared, Binding) else declared[:2]
            )
            if action == binding.action and binding.key in keys.replace(" ", "").split(","):
                return True
    return False


TABLE_KEYS: tuple[KeyHelp, ...] = (
    KeyHelp("A-Z (shift)", "Sort by column initial", "table.sort"),
    KeyHelp("> <", "Sort column next/prev", "table.sort-column"),
    KeyHelp("=", "Unsorted (view's order)", "table.sort-off"),
)
"""Keys of every sortable table (handled by the table, so listed here by hand)."""

LEGEND: tuple[tuple[str, str, str], ...] = (
    ("ok", "running · up · ok · 2/2", "working"),
    ("warn", "draining · absent · heap>90%", "look soon"),
    ("bad", "stopped · down · error · lb unreachable · 1/2", "broken, act"),
    ("muted", "checking · connecting · reading · standby · -", "not known yet or idle"),
    ("maintenance", "maintenance", "problems are notices"),
)
"""(colour, state words, meaning): words carry the state, colour only repeats it."""


def legend(palette: Palette) -> Text:
    """The legend, a short paragraph: each colour's state words in it (the active theme's),
    then what it means."""
    text = Text("States: ", style="bold")
    for index, (colour, words, meaning) in enumerate(LEGEND):
        style = getattr(palette, colour, None)
        if not isinstance(style, Style):
            style = Style(color="cyan", bold=palette.loud)
        if index:
            text.append(" │ ", style="dim")
        for at, state in enumerate(words.split(" · ")):
            text.append(" " if at else "").append_text(word(palette, state, style))
        text.append(f" = {meaning}")
    return text


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
    HelpScreen #help-legend { height: auto; }
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
            yield Static(id="help-legend", markup=False)
        yield KeyBar(show_command_palette=False)  # the keys that work here, not the view's

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        table.add_column("key", key="key")
        table.add_column("action", key="action")
        table.add_column("id", key="id")
        # The view's and the app's keys first, then its table's (or log's) own.
        widget = ("table.", "log.", "-")
        ordered = sorted(self.keys, key=lambda item: item.id.startswith(widget))
        for item in [*ordered, *self.table_keys()]:
            table.add_row(Text(item.key, style="bold"), Text(item.description), Text(item.id))
        self.query_one("#help-legend", Static).update(legend(palette_for(self.app.current_theme)))
        table.focus()

    def table_keys(self) -> list[KeyHelp]:
        """The sort keys, when the view under the help has a sortable table."""
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 1 and stack[-1] is self else None
        if below is None or not (below.query(NodeTable) or below.query(RowTable.__name__)):
            return []
        return list(TABLE_KEYS)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


__all__ = [
    "LEGEND",
    "MOUSE_HELP",
    "TABLE_KEYS",
    "HelpScreen",
    "KeyHelp",
    "console_binding",
    "legend",
]
