"""Screenshots of every view from recorded observations at 80x24 and a wall size of 200x55.

Everything that moves is pinned: the clock (fixed), the timezone (UTC), animations (none),
cursor blink (off), colour (on). Update after a deliberate change with
`.venv/bin/pytest tests/snapshots --snapshot-update` and look at the SVGs before committing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from screens.app import ClusterConsoleApp
from tests.app import recorded

SIZES = {"80x24": (80, 24), "200x55": (200, 55)}
NOON = datetime(2026, 11, 18, 12, 0, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOON


def make_app(tmp_path: Path, *, watch: bool = False, theme: str | None = None) -> ClusterConsoleApp:
    inventory = recorded.inventory(tmp_path, name="joget-prod", color=None)
    app = ClusterConsoleApp(
        inventory, read_only=watch, monitor=False, clock=fixed_clock, theme=theme, reload=False
    )
    app.animation_level = "none"
    return app


def feeding(observations: list[recorded.Observation], *keys: str) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ClusterConsoleApp)
        for observation in observations:
            app.apply(observation)
        app.deliver_now()
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
            await pilot.pause()
        app.deliver_now()
        for field in app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_healthy(snap_compare: Any, tmp_path: Path, size: str) -> None:
    app = make_app(tmp_path)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=feeding(recorded.healthy()))


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_trouble(snap_compare: Any, tmp_path: Path, size: str) -> None:
    app = make_app(tmp_path)
    observations = recorded.healthy() + recorded.trouble()
    assert snap_compare(app, terminal_size=SIZES[size], run_before=feeding(observations))


def test_dashboard_light_theme(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(tmp_path, theme="light")
    observations = recorded.healthy() + recorded.trouble()
    assert snap_compare(app, terminal_size=(120, 30), run_before=feeding(observations))


def test_dashboard_hostile_text(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(tmp_path)
    observations = recorded.healthy() + recorded.hostile()
    assert snap_compare(app, terminal_size=(200, 55), run_before=feeding(observations))


@pytest.mark.parametrize("size", SIZES)
def test_watch_dashboard(snap_compare: Any, tmp_path: Path, size: str) -> None:
    app = make_app(tmp_path, watch=True)
    observations = recorded.healthy() + recorded.trouble()
    assert snap_compare(app, terminal_size=SIZES[size], run_before=feeding(observations))


def test_help(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(tmp_path)
    assert snap_compare(
        app, terminal_size=(80, 24), run_before=feeding(recorded.healthy(), "question_mark")
    )


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key", ["2", "3", "4"], ids=["events", "balancer", "database"])
def test_other_views(snap_compare: Any, tmp_path: Path, size: str, key: str) -> None:
    app = make_app(tmp_path)
    observations = recorded.healthy() + recorded.trouble()
    assert snap_compare(app, terminal_size=SIZES[size], run_before=feeding(observations, key))


@pytest.mark.parametrize("size", SIZES)
def test_node_view(snap_compare: Any, tmp_path: Path, size: str) -> None:
    app = make_app(tmp_path)
    assert snap_compare(
        app, terminal_size=SIZES[size], run_before=feeding(recorded.healthy(), "enter")
    )


@pytest.mark.parametrize("key", ["2", "3"], ids=["events", "balancer"])
def test_watch_other_views(snap_compare: Any, tmp_path: Path, key: str) -> None:
    """Every view of the wall has the clock, the state words and the incident banner."""
    app = make_app(tmp_path, watch=True)
    observations = recorded.healthy() + recorded.trouble()
    assert snap_compare(app, terminal_size=(80, 24), run_before=feeding(observations, key))


def test_confirmation_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    """A long confirmation keeps Apply and Cancel in sight; the bar lists the dialog's keys."""
    from rich.text import Text

    from screens.confirm import ConfirmScreen

    async def run_before(pilot: Pilot[Any]) -> None:
        await feeding(recorded.healthy())(pilot)
        body = Text("\n".join(f"form field {i}: value {i}" for i in range(40)))
        pilot.app.push_screen(ConfirmScreen("Drain node2 on httpd?", body, action="Apply"))
        await pilot.pause()
        await pilot.pause()

    app = make_app(tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_node_in_maintenance(snap_compare: Any, tmp_path: Path) -> None:
    from console.cluster.maintenance import MaintenanceMark
    from console.cluster.observations import MaintenanceObserved

    mark = MaintenanceMark("node3", "drained and stopped by the drain wizard", "ops", NOON)
    observations = [
        *recorded.healthy(),
        *recorded.trouble(),
        MaintenanceObserved((mark,), (), recorded.T0 + 20),
    ]
    app = make_app(tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=feeding(observations))
