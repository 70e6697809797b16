"""The doctor in the console: it runs at start and on demand (never per poll), its findings join
the dashboard's problems panel, and the doctor view lists every check with its result, remote
text shown literally."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.doctor import schedule
from console.doctor.model import CheckResult, DoctorReport, Finding, Severity, registry
from screens.app import ClusterConsoleApp
from screens.doctor import DoctorScreen
from screens.problems import ProblemsPanel
from screens.widgets.row_table import RowTable
from tests.app import recorded
from tests.app.views_harness import NASTY, plain, wait_for

NASTY_TEXT = "".join(NASTY)


def rows(app: ClusterConsoleApp, name: str) -> list[list[str]]:
    """A table's rows top to bottom, as the text of their cells."""
    table = app.screen.query_one(f"#doctor-{name}", RowTable)
    return [[str(cell) for cell in table.get_row_at(at)] for at in range(table.row_count)]


def _report() -> DoctorReport:
    checks = registry()
    finding = Finding(
        "jvm-route",
        "critical",
        "node2",
        f"/opt/tomcat/conf/server{NASTY_TEXT}.xml",
        12,
        f"node2's jvmRoute '{NASTY_TEXT}' is already node1's",
        "why it matters",
        "how to fix",
    )
    results = tuple(
        CheckResult(c, "fail", (finding,))
        if c.id == "jvm-route"
        else CheckResult(c, "skipped", (), "not a WSO2 cluster")
        if c.id.startswith("wso2")
        else CheckResult(c, "pass", ())
        for c in checks
    )
    return DoctorReport("sandbox", results, 1.5)


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every doctor run the console starts (its read_only flag), answered with `_report`."""
    calls: list[bool] = []

    async def fake(_inventory: object, *, memory: object, read_only: bool) -> DoctorReport:
        calls.append(read_only)
        return _report()

    monkeypatch.setattr(schedule, "run_doctor", fake)
    return calls


async def test_findings_join_the_problems_panel_and_the_view_lists_every_check(
    tmp_path: Path, runs: list[bool]
) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(200, 60)) as pilot:
        app.start_doctor()
        await wait_for(
            lambda: runs == [False] and app.doctor is not None and app.doctor.report is not None
        )
        panel = app.screen.query_one(ProblemsPanel)
        await wait_for(lambda: any(p.code == "doctor-jvm-route" for p in panel.problems))
        (problem,) = [p for p in panel.problems if p.code == "doctor-jvm-route"]
        assert problem.node == "node2" and problem.severity == "critical"
        assert f"server{NASTY_TEXT}.xml:12" in problem.text

        await pilot.press("5")
        await wait_for(lambda: isinstance(app.screen, DoctorScreen))
        checks = rows(app, "checks")
        assert [row[1] for row in checks] == [check.id for check in registry()]
        assert checks[[r[1] for r in checks].index("jvm-route")][:2] == ["FAIL", "jvm-route"]
        assert checks[[r[1] for r in checks].index("clock-skew")][:2] == ["ok", "clock-skew"]
        wso2 = checks[[r[1] for r in checks].index("wso2-task-server")]
        assert wso2[0] == "skip" and wso2[-1] == "not a WSO2 cluster"
        (found,) = rows(app, "findings")
        assert "\\x1b[31m" in found[3] and "[red]x[/red]" in found[3], "literal, escape visible"
        detail = plain(app.screen.query_one("#doctor-finding"))
        assert "why: why it matters" in detail and "fix: how to fix" in detail
        assert "1 finding(s), 1 critical" in plain(app.screen.query_one("#doctor-summary"))

        await pilot.press("r")
        await wait_for(lambda: len(runs) == 2)
        await pilot.press("q")


async def test_watch_mode_runs_the_doctor_read_only(tmp_path: Path, runs: list[bool]) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False, read_only=True)
    async with app.run_test(size=(200, 60)):
        app.start_doctor()
        await wait_for(lambda: runs == [True])


async def test_findings_and_checks_sort_by_any_column_and_show_the_highlighted_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def finding(check: str, severity: Severity, node: str) -> Finding:
        return Finding(
            check, severity, node, None, None, f"{check} on {node}", "why", f"fix {node}"
        )

    found = (
        finding("balancer-route", "warning", "node2"),
        finding("jvm-route", "critical", "node3"),
        finding("distributable", "warning", "node1"),
    )
    by_check = {f.check: f for f in found}
    results = tuple(
        CheckResult(c, "fail", (by_check[c.id],))
        if c.id in by_check
        else CheckResult(c, "pass", ())
        for c in registry()
    )

    async def fake(_inventory: object, *, memory: object, read_only: bool) -> DoctorReport:
        return DoctorReport("sandbox", results, 1.0)

    monkeypatch.setattr(schedule, "run_doctor", fake)
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(200, 60)) as pilot:
        app.start_doctor()
        await pilot.press("5")
        await wait_for(lambda: isinstance(app.screen, DoctorScreen))
        await wait_for(lambda: len(rows(app, "findings")) == 3)
        table = app.screen.query_one("#doctor-findings", RowTable)
        table.focus()
        await pilot.press("N")  # by node
        assert [row[1] for row in rows(app, "findings")] == ["node1", "node2", "node3"]

        def detail_follows_the_cursor() -> bool:
            under = rows(app, "findings")[table.cursor_row][1]
            return f"fix: fix {under}" in plain(app.screen.query_one("#doctor-finding"))

        assert detail_follows_the_cursor()  # the cursor stayed on its finding (node3's)
        await pilot.press("S")  # by severity: CRITICAL before WARNING
        assert [row[0] for row in rows(app, "findings")] == ["CRITICAL", "WARNING", "WARNING"]
        await pilot.press("home", "down")
        assert table.cursor_row == 1
        await wait_for(detail_follows_the_cursor)
        checks = app.screen.query_one("#doctor-checks", RowTable)
        checks.focus()
        await pilot.press("R")  # by result: FAIL rows first (F < o)
        assert [row[0] for row in rows(app, "checks")][:3] == ["FAIL", "FAIL", "FAIL"]
        await pilot.press("5")  # the order is remembered when the view is opened again
        await pilot.press("1", "5")
        await wait_for(lambda: isinstance(app.screen, DoctorScreen))
        await wait_for(lambda: rows(app, "checks")[0][0] == "FAIL")
