"""The doctor view: every check with its result (passed ones too, so the operator sees what was
checked), then each finding with its node, file and line, why it matters and how to fix it.

Finding texts carry file paths, host names and values read from the nodes: every line is built
as `Text` from printable text, never as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from console.doctor.model import DoctorReport
from console.state import ClusterState
from screens.watch import watch_chrome
from screens.widgets.common import clock, safe
from screens.widgets.keybar import KeyBar

if TYPE_CHECKING:
    from console.doctor.schedule import DoctorSchedule

_RESULT = {
    "pass": ("ok", "green"),
    "fail": ("FAIL", "bold red"),
    "skipped": ("skip", "dim"),
    "unknown": ("?", "yellow"),
}


def summary_text(schedule: DoctorSchedule | None) -> Text:
    if schedule is None:
        return Text("the doctor does not run in this session", style="dim")
    text = Text("doctor ", style="bold")
    report = schedule.report
    if schedule.running:
        text.append("running…", style="yellow")
        if report is not None:
            text.append(" (the last run's results below)", style="dim")
        return text
    if schedule.error:
        return text.append(safe(schedule.error, "bold red"))
    if report is None:
        return text.append("has not run yet", style="dim")
    findings = report.findings
    critical = sum(1 for f in findings if f.severity == "critical")
    if findings:
        text.append(f"{len(findings)} finding(s), {critical} critical", style="bold red")
    else:
        text.append("no findings", style="green")
    ran = clock(schedule.finished_at or 0)
    return text.append(f" · ran at {ran} in {report.seconds:.1f} s · r runs it again", style="dim")


def checks_text(report: DoctorReport | None) -> Text:
    text = Text(end="")
    if report is None:
        return text
    for index, result in enumerate(report.results):
        if index:
            text.append("\n")
        label, style = _RESULT[result.outcome]
        text.append(f"{label:<5}", style=style)
        text.append(f" {result.check.id:<18} ", style="bold")
        text.append(result.check.title)
        if result.findings:
            text.append(f" ({len(result.findings)})", style="bold red")
        if result.reason:
            text.append(": ", style="dim").append(safe(result.reason, "dim", limit=300))
    return text


def findings_text(report: DoctorReport | None) -> Text:
    text = Text(end="")
    if report is None or not report.findings:
        return text
    text.append("findings", style="bold underline")
    for finding in report.findings:
        style = "bold red" if finding.severity == "critical" else "bold yellow"
        text.append("\n").append(finding.severity.upper(), style=style).append(" ")
        where = finding.node or "cluster"
        if finding.file:
            where += f" {finding.file}" + (f":{finding.line}" if finding.line else "")
        text.append(safe(where, "bold", limit=300))
        text.append("\n  ").append(safe(finding.text, limit=500))
        text.append("\n  why: ", style="dim").append(safe(finding.why, limit=400))
        text.append("\n  fix: ", style="dim").append(safe(finding.fix, limit=400))
    return text


class DoctorScreen(Screen[None]):
    """Every check of the doctor's last run, and its findings."""

    DEFAULT_CSS = """
    DoctorScreen VerticalScroll > Static { padding: 0 1; margin-bottom: 1; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_doctor", "Run doctor", id="doctor.run"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._painted: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        yield from watch_chrome(self.app)
        with VerticalScroll():
            yield Static(Text("doctor", style="dim"), id="doctor-summary")
            yield Static(Text(""), id="doctor-checks")
            yield Static(Text(""), id="doctor-findings")
        yield KeyBar()

    @property
    def schedule(self) -> DoctorSchedule | None:
        from console.doctor.schedule import DoctorSchedule

        found = getattr(self.app, "doctor", None)
        return found if isinstance(found, DoctorSchedule) else None

    def on_mount(self) -> None:
        self.sub_title = "doctor"
        self._paint()

    def show_state(self, state: ClusterState) -> None:
        del state  # the doctor's report is not part of the monitor's snapshot
        if self.is_mounted:
            self._paint()

    def _paint(self) -> None:
        schedule = self.schedule
        key = (id(schedule), schedule.version if schedule else -1)
        if key == self._painted:
            return
        self._painted = key
        report = schedule.report if schedule else None
        self.query_one("#doctor-summary", Static).update(summary_text(schedule))
        self.query_one("#doctor-checks", Static).update(checks_text(report))
        self.query_one("#doctor-findings", Static).update(findings_text(report))

    def action_run_doctor(self) -> None:
        schedule = self.schedule
        if schedule is not None:
            schedule.request()
