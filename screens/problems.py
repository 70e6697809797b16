"""The problems panel: the state's cross-checks, most severe first, in words and colour.

Problem texts name nodes, hosts and errors that come from outside, so each line is built as
`Text` (never markup) from printable text.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from console.crosschecks import Problem
from screens.cells import Palette, safe

_RANK = {"critical": 0, "warning": 1}


def merged_problems(found: tuple[Problem, ...], doctor: object) -> tuple[Problem, ...]:
    """The cross-checks' problems and the doctor's findings (``app.doctor``, when it runs),
    most severe first; each keeps its own order within a severity."""
    extra: tuple[Problem, ...] = getattr(doctor, "problems", ()) if doctor is not None else ()
    if not extra:
        return found
    return tuple(sorted((*found, *extra), key=lambda p: _RANK.get(p.severity, 2)))


MAX_SHOWN = 50
"""Problems listed at most; the rest are counted in a last line."""


def render_problems(problems: tuple[Problem, ...], palette: Palette) -> Text:
    """One line per problem: severity word, code, text."""
    if not problems:
        return Text("no problems found", style=palette.ok, end="")
    lines = Text(end="")
    for index, problem in enumerate(problems[:MAX_SHOWN]):
        if index:
            lines.append("\n")
        style = palette.bad if problem.severity == "critical" else palette.warn
        lines.append(problem.severity.upper(), style=style)
        lines.append(f" {problem.code}: ", style="bold")
        lines.append(safe(problem.text, 400))
    hidden = len(problems) - MAX_SHOWN
    if hidden > 0:
        lines.append(f"\n… and {hidden} more", style=palette.muted)
    return lines


class ProblemsPanel(Static):
    """The cross-checks' findings; re-rendered only when they change."""

    DEFAULT_CSS = """
    ProblemsPanel {
        height: auto;
        max-height: 12;
        overflow-y: auto;
        border-top: solid $primary;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("checking…"), id=id, markup=False)
        self._shown: tuple[Problem, ...] | None = None
        self.border_title = "problems"

    @property
    def problems(self) -> tuple[Problem, ...]:
        """What the panel shows now."""
        return self._shown or ()

    def show(self, problems: tuple[Problem, ...], palette: Palette) -> None:
        if problems == self._shown:
            return
        self._shown = problems
        critical = sum(1 for problem in problems if problem.severity == "critical")
        self.border_title = f"problems: {critical} critical, {len(problems) - critical} warning"
        self.update(render_problems(problems, palette))
