"""Maintenance marks and acknowledged problems on the screens (issue 11 item 27, display side):
a node in maintenance shows as such without alarm colours; `a` acknowledges a problem for a
chosen time, audited; acknowledged problems are dimmed with their expiry; the wall shows both."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.cluster.maintenance import Acknowledgement, MaintenanceMark
from console.cluster.observations import MaintenanceObserved
from screens.acknowledge import AcknowledgeScreen
from screens.app import ClusterConsoleApp
from screens.dashboard import DashboardScreen
from screens.problems import ProblemsPanel
from screens.watch import StateWord
from tests.app import recorded
from tests.app.views_harness import plain
from tests.app.waiting import wait_for

NOON = datetime(2026, 11, 18, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTERCONSOLE_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("CLUSTERCONSOLE_STATE_DIR", str(tmp_path / "state"))


def node3_in_maintenance(acks: tuple[Acknowledgement, ...] = ()) -> MaintenanceObserved:
    mark = MaintenanceMark("node3", "drained and stopped by the drain wizard", "ops", NOON)
    return MaintenanceObserved((mark,), acks, recorded.T0 + 20)


def panel(app: ClusterConsoleApp) -> ProblemsPanel:
    return app.screen.query_one(ProblemsPanel)


async def test_a_node_in_maintenance_is_shown_as_such_without_alarm(tmp_path: Path) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(160, 40)):
        for observation in recorded.healthy() + recorded.trouble():
            app.apply(observation)
        app.deliver_now()
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await wait_for(lambda: screen.rows["node3"][2].plain == "stopped")
        bad = screen.rows["node3"][2].style
        app.apply(node3_in_maintenance())
        app.deliver_now()
        await wait_for(lambda: screen.rows["node3"][2].plain == "maintenance")
        row = screen.rows["node3"]
        assert row[2].style != bad and "red" not in str(row[3].style)
        assert not [p for p in panel(app).problems if p.node == "node3"]
        assert any(n.code == "maintenance" for n in panel(app).notices)
        assert "MAINTENANCE" in str(panel(app).render())
        assert "1 in maintenance" in str(panel(app).border_title)


async def test_a_acknowledges_a_problem_for_a_chosen_time_audited(tmp_path: Path) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(120, 40)) as pilot:
        for observation in recorded.healthy() + recorded.trouble():
            app.apply(observation)
        app.deliver_now()
        await wait_for(lambda: panel(app).problems)
        problem = panel(app).problems[0]
        await pilot.press("a")
        await wait_for(lambda: isinstance(app.screen, AcknowledgeScreen))
        await pilot.press("enter")  # the first alarm
        await pilot.press("down", "enter")  # 1 hour is highlighted: down is 4 hours
        await wait_for(lambda: isinstance(app.screen, DashboardScreen))
        app.deliver_now()
        await wait_for(lambda: panel(app).acknowledged)
        ack = panel(app).acknowledged[0]
        assert ack.problem.key == problem.key
        left = ack.acknowledgement.until - datetime.now(UTC)
        assert timedelta(hours=3, minutes=59) < left <= timedelta(hours=4)
        assert problem not in panel(app).problems
        rendered = str(panel(app).render())
        assert "ACKED" in rendered and "until" in rendered
        lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
        assert [line["phase"] for line in lines] == ["before", "after"]
        assert lines[0]["request"]["action"] == "acknowledge"
        assert lines[0]["request"]["problem"] == problem.key


async def test_escape_acknowledges_nothing(tmp_path: Path) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(120, 40)) as pilot:
        for observation in recorded.healthy() + recorded.trouble():
            app.apply(observation)
        app.deliver_now()
        await wait_for(lambda: panel(app).problems)
        await pilot.press("a")
        await wait_for(lambda: isinstance(app.screen, AcknowledgeScreen))
        await pilot.press("enter", "escape")
        await wait_for(lambda: isinstance(app.screen, DashboardScreen))
        assert not (tmp_path / "audit.jsonl").exists()


async def test_the_wall_shows_maintenance_and_acknowledgements_and_cannot_ack(
    tmp_path: Path,
) -> None:
    app = ClusterConsoleApp(
        recorded.inventory(tmp_path), read_only=True, monitor=False, clock=lambda: NOON
    )
    async with app.run_test(size=(160, 40)) as pilot:
        for observation in recorded.healthy() + recorded.trouble():
            app.apply(observation)
        far = datetime.now(UTC) + timedelta(hours=1)
        ack = Acknowledgement("worker-error@node3", far, "ops", NOON, "")
        app.apply(node3_in_maintenance((ack,)))
        app.deliver_now()
        word = app.screen.query_one(StateWord)
        await wait_for(lambda: "1 IN MAINTENANCE" in word.words and "1 ACKED" in word.words)
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, AcknowledgeScreen)
        assert "MAINTENANCE" in str(panel(app).render())


async def test_the_node_view_says_the_node_is_in_maintenance(tmp_path: Path) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(160, 40)) as pilot:
        for observation in [*recorded.healthy(), *recorded.trouble(), node3_in_maintenance()]:
            app.apply(observation)
        app.deliver_now()
        await pilot.press("end", "enter")
        await wait_for(lambda: getattr(app.screen, "node", None) == "node3")
        facts = app.screen.query_one("#node-facts")
        await wait_for(lambda: "IN MAINTENANCE" in plain(facts))
        assert "by ops: drained and stopped by the drain wizard" in plain(facts)
