"""Acknowledge a problem from the problems panel: pick the problem, then for how long.

The prompt only chooses; the dashboard writes the acknowledgement through
`console.cluster.maintenance.acknowledge` (audited before and after, like every change) and the
monitor's
maintenance watch brings it into the state. Problem texts come from outside (host names, errors):
they are shown as `Text`, never markup. There is no such prompt in watch mode.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.cluster.crosschecks import Problem
from screens.confirm import MODAL_CSS
from screens.widgets.common import safe
from screens.widgets.keybar import KeyBar

DURATIONS: tuple[tuple[str, float], ...] = (
    ("15 minutes", 15 * 60.0),
    ("1 hour", 3600.0),
    ("4 hours", 4 * 3600.0),
    ("24 hours", 24 * 3600.0),
)
"""The times an acknowledgement can last (it expires by itself)."""

Choice = tuple[Problem, str, float]
"""The problem, the duration's words and its seconds."""


def problem_line(problem: Problem) -> Text:
    text = Text(
        problem.severity.upper(),
        style="bold red" if problem.severity == "critical" else "bold yellow",
    )
    text.append(f" {problem.code}", style="bold")
    if problem.node:
        text.append(" ").append(safe(problem.node))
    text.append(": ").append(safe(problem.text, limit=200))
    return text


class AcknowledgeScreen(ModalScreen[Choice | None]):
    """Choose a problem (Enter), then a duration (Enter); Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="acknowledge.cancel"),
    ]
    DEFAULT_CSS = (
        MODAL_CSS.format(name="AcknowledgeScreen")
        + """
    AcknowledgeScreen OptionList { height: auto; max-height: 12; }
    """
    )

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        super().__init__()
        self.problems = problems
        self.problem: Problem | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text("Acknowledge which problem? (Enter chooses, Escape cancels)", style="bold"),
                classes="title",
                id="acknowledge-title",
            )
            yield OptionList(
                *(Option(problem_line(p), id=str(i)) for i, p in enumerate(self.problems)),
                id="acknowledge-problems",
            )
            yield OptionList(
                *(Option(words, id=words) for words, _ in DURATIONS),
                id="acknowledge-durations",
            )
        yield KeyBar(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#acknowledge-durations").display = False
        self.query_one("#acknowledge-problems", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_list.id == "acknowledge-problems":
            self.problem = self.problems[int(event.option.id or 0)]
            title = Text("Acknowledge for how long? ", style="bold")
            title.append_text(problem_line(self.problem))
            self.query_one("#acknowledge-title", Static).update(title)
            event.option_list.display = False
            durations = self.query_one("#acknowledge-durations", OptionList)
            durations.display = True
            durations.highlighted = 1  # one hour
            durations.focus()
            return
        seconds = dict(DURATIONS).get(event.option.id or "")
        if self.problem is not None and seconds is not None:
            self.dismiss((self.problem, event.option.id or "", seconds))

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["DURATIONS", "AcknowledgeScreen", "Choice", "problem_line"]
