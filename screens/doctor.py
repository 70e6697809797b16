"""The doctor view: every check with its result (passed ones too, so the operator sees what was
checked), then each finding with its node, file and line; the highlighted finding is shown in full
below (why it matters and how to fix it). Both tables sort by any column like the other views
(shift+letter, `<` `>`, `=`).

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
from textual.widgets import DataTable, Static

from console.cluster.state import ClusterState
from console.doctor.model import DoctorReport, Finding
from screens.watch import watch_chrome
from screens.widgets.common import clock, host_of, safe
from screens.widgets.keybar import KeyBar
from screens.widgets.row_table import RowTable

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


Row = tuple[str, list[Text]]
CHECK_COLUMNS = ("result", "check", "title", "findings", "reason")
FINDING_COLUMNS = ("severity", "node", "where", "finding")


def check_rows(report: DoctorReport | None) -> list[Row]:
    """One row per check, passed ones too (the operator sees what was checked)."""
    rows: list[Row] = []
    for result in report.results if report is not None else ():
        label, style = _RESULT[result.outcome]
        count = len(result.findings)
        rows.append(
            (
                result.check.id,
                [
                    Text(label, style=style),
                    Text(result.check.id, style="bold"),
                    Text(result.check.title),
                    Text(str(count), style="bold red") if count else Text("-", style="dim"),
                    safe(result.reason, "dim", limit=300) if result.reason else Text(""),
                ],
            )
        )
    return rows


def _where(finding: Finding) -> str:
    if not finding.file:
        return "-"
    return finding.file + (f":{finding.line}" if finding.line else "")


def finding_rows(report: DoctorReport | None) -> list[Row]:
    """One row per finding: how bad, which node, which file and line, and what."""
    rows: list[Row] = []
    for index, finding in enumerate(report.findings if report is not None else ()):
        style = "bold red" if finding.severity == "critical" else "bold yellow"
        rows.append(
            (
                str(index),
                [
                    Text(finding.severity.upper(), style=style),
                    safe(finding.node or "cluster", "bold"),
                    safe(_where(finding), limit=200),
                    safe(finding.text, limit=200),
                ],
            )
        )
    return rows


def finding_text(finding: Finding | None) -> Text:
    """The highlighted finding in full: where, what, why it matters and how to fix it."""
    text = Text(end="")
    if finding is None:
        return text
    style = "bold red" if finding.severity == "critical" else "bold yellow"
    text.append(finding.severity.upper(), style=style).append(" ")
    where = finding.node or "cluster"
    if finding.file:
        where += f" {_where(finding)}"
    text.append(safe(where, "bold", limit=300))
    text.append("\n  ").append(safe(finding.text, limit=500))
    text.append("\n  why: ", style="dim").append(safe(finding.why, limit=400))
    text.append("\n  fix: ", style="dim").append(safe(finding.fix, limit=400))
    return text


class DoctorScreen(Screen[None]):
    """Every check of the doctor's last run, and its findings."""

    DEFAULT_CSS = """
    DoctorScreen VerticalScroll > Static { padding: 0 1; margin-bottom: 1; height: auto; }
    DoctorScreen VerticalScroll > Static.heading { margin-bottom: 0; }
    DoctorScreen RowTable { height: auto; max-height: 30; margin: 0 1 1 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_doctor", "Run doctor", id="doctor.run"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._painted: tuple[int, int] | None = None
        self._findings: tuple[Finding, ...] = ()

    def compose(self) -> ComposeResult:
        yield from watch_chrome(self.app)
        with VerticalScroll():
            yield Static(Text("doctor", style="dim"), id="doctor-summary")
            yield RowTable(id="doctor-checks")
            yield Static(Text(""), id="doctor-findings-heading", classes="heading")
            yield RowTable(id="doctor-findings")
            yield Static(Text(""), id="doctor-finding")
        yield KeyBar()

    @property
    def schedule(self) -> DoctorSchedule | None:
        return host_of(self.app).doctor

    def on_mount(self) -> None:
        self.sub_title = "doctor"
        for name, columns in (("checks", CHECK_COLUMNS), ("findings", FINDING_COLUMNS)):
            table = self.query_one(f"#doctor-{name}", RowTable)
            for column in columns:
                table.add_column(column, key=column)
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
        self.query_one("#doctor-checks", RowTable).show_rows(check_rows(report))
        self._findings = report.findings if report is not None else ()
        findings = self.query_one("#doctor-findings", RowTable)
        findings.show_rows(finding_rows(report))
        findings.display = bool(self._findings)
        heading = Text("findings", style="bold underline") if self._findings else Text("")
        self.query_one("#doctor-findings-heading", Static).update(heading)
        self._show_finding()

    def _show_finding(self) -> None:
        """The finding under the findings table's cursor, in full (why and fix)."""
        key = self.query_one("#doctor-findings", RowTable).cursor_key
        index = int(key) if key is not None and key.isdigit() else -1
        finding = self._findings[index] if 0 <= index < len(self._findings) else None
        self.query_one("#doctor-finding", Static).update(finding_text(finding))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "doctor-findings":
            self._show_finding()

    def action_run_doctor(self) -> None:
        schedule = self.schedule
        if schedule is not None:
            schedule.request()
