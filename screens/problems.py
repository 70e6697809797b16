"""The problems panel: the state's cross-checks, most severe first, in words and colour.

Problem texts name nodes, hosts and errors that come from outside, so each line is built as
`Text` (never markup) from printable text.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from console.cluster.crosschecks import Acknowledged, Problem
from screens.cells import Palette, safe

_RANK = {"critical": 0, "warning": 1}


def merged_problems(found: tuple[Problem, ...], *schedules: object) -> tuple[Problem, ...]:
    """The cross-checks' problems and those of the schedules that run (the doctor's findings,
    ``app.doctor``; the deploy drift, ``app.deploy_drift``), most severe first; each keeps its
    own order within a severity."""
    extra: tuple[Problem, ...] = tuple(
        problem
        for schedule in schedules
        if schedule is not None
        for problem in getattr(schedule, "problems", ())
    )
    if not extra:
        return found
    return tuple(sorted((*found, *extra), key=lambda p: _RANK.get(p.severity, 2)))


MAX_SHOWN = 50
"""Problems listed at most; the rest are counted in a last line."""


def _until(ack: Acknowledged) -> str:
    until = ack.acknowledgement.until.astimezone()
    who = ack.acknowledgement.operator
    return f"acknowledged{' by ' + who if who else ''} until {until:%H:%M}"


def render_problems(
    problems: tuple[Problem, ...],
    palette: Palette,
    acknowledged: tuple[Acknowledged, ...] = (),
    notices: tuple[Problem, ...] = (),
) -> Text:
    """One line per problem: severity word, code, text; then the notices (a node in
    maintenance: no alarm colour) and the acknowledged problems, dimmed, with their expiry."""
    if not problems and not acknowledged and not notices:
        return Text("no problems found", style=palette.ok, end="")
    lines = Text(end="")
    if not problems:
        lines.append("no alarms", style=palette.ok)
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
    for notice in notices[:MAX_SHOWN]:
        word = "MAINTENANCE" if notice.code == "maintenance" else "NOTE"
        lines.append("\n").append(word, style="bold cyan")
        lines.append(f" {notice.code}: ", style="dim").append(safe(notice.text, 400))
    for ack in acknowledged[:MAX_SHOWN]:
        problem = ack.problem
        line = Text(f"\nACKED {problem.severity} {problem.code}: ", style="dim bold")
        line.append(safe(problem.text, 300), style="dim")
        line.append(f" ({_until(ack)})", style="dim italic")
        lines.append_text(line)
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
        self._extra: tuple[tuple[Acknowledged, ...], tuple[Problem, ...]] = ((), ())
        self.border_title = "problems"

    @property
    def problems(self) -> tuple[Problem, ...]:
        """What the panel shows now."""
        return self._shown or ()

    @property
    def acknowledged(self) -> tuple[Acknowledged, ...]:
        """The acknowledged problems shown (dimmed, with their expiry)."""
        return self._extra[0]

    @property
    def notices(self) -> tuple[Problem, ...]:
        """The notices shown (nodes in maintenance, ...)."""
        return self._extra[1]

    def show(
        self,
        problems: tuple[Problem, ...],
        palette: Palette,
        acknowledged: tuple[Acknowledged, ...] = (),
        notices: tuple[Problem, ...] = (),
    ) -> None:
        if problems == self._shown and (acknowledged, notices) == self._extra:
            return
        self._shown = problems
        self._extra = (acknowledged, notices)
        critical = sum(1 for problem in problems if problem.severity == "critical")
        title = f"problems: {critical} critical, {len(problems) - critical} warning"
        if acknowledged:
            title += f" · {len(acknowledged)} acknowledged"
        maintenance = sum(1 for notice in notices if notice.code == "maintenance")
        if maintenance:
            title += f" · {maintenance} in maintenance"
        self.border_title = title
        self.update(render_problems(problems, palette, acknowledged, notices))
