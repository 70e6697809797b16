"""The doctor in the console: it runs at start and on demand (never per poll), its findings join
the dashboard's problems panel, and the doctor view lists every check with its result, remote
text shown literally."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.app import ClusterConsoleApp
from console.doctor import schedule
from console.doctor.model import CheckResult, DoctorReport, Finding, registry
from screens.doctor import DoctorScreen
from screens.problems import ProblemsPanel
from tests.app import recorded
from tests.app.views_harness import NASTY, plain, wait_for

NASTY_TEXT = "".join(NASTY)


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
        await wait_for(lambda: runs == [False] and app.doctor.report is not None)
        panel = app.screen.query_one(ProblemsPanel)
        await wait_for(lambda: any(p.code == "doctor-jvm-route" for p in panel.problems))
        (problem,) = [p for p in panel.problems if p.code == "doctor-jvm-route"]
        assert problem.node == "node2" and problem.severity == "critical"
        assert f"server{NASTY_TEXT}.xml:12" in problem.text

        await pilot.press("5")
        await wait_for(lambda: isinstance(app.screen, DoctorScreen))
        checks = plain(app.screen.query_one("#doctor-checks"))
        for check in registry():
            assert check.id in checks, check.id
        assert "FAIL  jvm-route" in checks and "ok    clock-skew" in checks
        assert "skip  wso2-task-server" in checks and "not a WSO2 cluster" in checks
        found = plain(app.screen.query_one("#doctor-findings"))
        assert "\\x1b[31m" in found and "[red]x[/red]" in found, "literal, escape visible"
        assert "1 finding(s), 1 critical" in plain(app.screen.query_one("#doctor-summary"))

        await pilot.press("r")
        await wait_for(lambda: len(runs) == 2)
        await pilot.press("q")


async def test_watch_mode_runs_the_doctor_read_only(tmp_path: Path, runs: list[bool]) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False, read_only=True)
    async with app.run_test(size=(200, 60)):
        app.start_doctor()
        await wait_for(lambda: runs == [True])
