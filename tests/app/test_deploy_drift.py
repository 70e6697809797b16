"""Deploy drift on the dashboard: the `deploy --check` pass runs at start (not on every poll),
a node whose deployed files differ from the source shows as a `deploy-drift` problem naming the
node and the paths, a node back in step clears it, and watch mode never runs the pass (it takes
the deploy lock on the source node)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config import load_inventory_text
from console.config.model import Inventory
from console.deploy import drift
from console.deploy.drift import DriftReport, NodeDrift
from probes.rsync import Summary
from screens.app import ClusterConsoleApp
from screens.problems import ProblemsPanel
from tests.app import recorded
from tests.app.views_harness import NASTY, wait_for

NASTY_TEXT = "".join(NASTY)


def _inventory(tmp_path: Path) -> Inventory:
    path = tmp_path / "cluster.toml"
    text = recorded.inventory_text() + '\n[deploy]\nsource = "node1:webapps/"\n'
    path.write_text(text)
    return load_inventory_text(text, path)


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[DriftReport]:
    """The reports the passes get, in turn (the last one repeats); each call is counted."""
    given: list[DriftReport] = []
    calls: list[int] = []

    async def fake(_inventory: object, _nodes: object = ()) -> DriftReport:
        calls.append(1)
        return given[min(len(calls), len(given)) - 1]

    monkeypatch.setattr(drift, "check", fake)
    given.append(
        DriftReport(
            "node1:/opt/tomcat/webapps",
            (
                NodeDrift("node2", "in-step", Summary()),
                NodeDrift(
                    "node3",
                    "differs",
                    Summary(added=("app/new.jsp",), deleted=(f"app/hand{NASTY_TEXT}.txt",)),
                ),
            ),
        )
    )
    return given


def _drift(panel: ProblemsPanel) -> list[object]:
    return [p for p in panel.problems if p.code == "deploy-drift"]


async def test_a_node_that_missed_a_sync_shows_on_the_dashboard_until_in_step(
    tmp_path: Path, answers: list[DriftReport]
) -> None:
    app = ClusterConsoleApp(_inventory(tmp_path), monitor=False)
    async with app.run_test(size=(200, 60)):
        app.start_drift()
        panel = app.screen.query_one(ProblemsPanel)
        await wait_for(lambda: len(_drift(panel)) == 1)
        (problem,) = [p for p in panel.problems if p.code == "deploy-drift"]
        assert problem.node == "node3" and problem.severity == "warning"
        assert "node1:/opt/tomcat/webapps" in problem.text
        assert "1 missing, 0 different, 1 not in the source" in problem.text
        assert f"app/new.jsp, app/hand{NASTY_TEXT}.txt" in problem.text  # literally, as text
        # a sync brings node3 back: the next pass (asked for here) clears the problem
        answers.append(
            DriftReport(
                "node1:/opt/tomcat/webapps",
                (
                    NodeDrift("node2", "in-step", Summary()),
                    NodeDrift("node3", "in-step", Summary()),
                ),
            )
        )
        schedule = app.deploy_drift
        assert schedule is not None
        schedule.request()
        await wait_for(lambda: schedule.version >= 2 and not _drift(panel))


async def test_a_pass_refused_by_a_running_sync_keeps_the_last_result(
    tmp_path: Path, answers: list[DriftReport]
) -> None:
    answers.append(DriftReport("node1:/opt/tomcat/webapps", (), "held by alice@host (pid 7)"))
    app = ClusterConsoleApp(_inventory(tmp_path), monitor=False)
    async with app.run_test(size=(200, 60)):
        app.start_drift()
        panel = app.screen.query_one(ProblemsPanel)
        await wait_for(lambda: len(_drift(panel)) == 1)
        schedule = app.deploy_drift
        assert schedule is not None
        schedule.request()
        await wait_for(lambda: schedule.error == "held by alice@host (pid 7)")
        assert len(_drift(panel)) == 1  # still shown: the lock says nothing about the nodes


async def test_watch_mode_and_an_inventory_without_deploy_run_no_pass(
    tmp_path: Path, answers: list[DriftReport]
) -> None:
    for app in (
        ClusterConsoleApp(_inventory(tmp_path), monitor=False, read_only=True),
        ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False),
    ):
        async with app.run_test(size=(200, 60)) as pilot:
            app.start_drift()
            await pilot.pause()
            assert app.deploy_drift is None
            assert not _drift(app.screen.query_one(ProblemsPanel))
