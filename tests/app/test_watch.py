"""Watch mode: read-only for real, the wall chrome, the banner, cycling views."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.command import CommandPalette

import screens.app as app_module
from screens.app import ClusterConsoleApp
from screens.dashboard import DashboardScreen
from screens.watch import Banner, StateWord, WatchBar
from tests.app import recorded
from tests.app.waiting import wait_for

NOON = datetime(2026, 11, 18, 12, 0, 0, tzinfo=UTC)


def fixed() -> datetime:
    return NOON


async def test_watch_constructs_nothing_that_changes_the_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []

    def forbidden(*args: object, **kwargs: object) -> None:
        built.append("audit")
        raise AssertionError("AuditLog constructed in watch mode")

    monkeypatch.setattr("console.audit.AuditLog.from_env", forbidden)
    monkeypatch.setattr(app_module, "wizard_screen_class", lambda: object)
    app = ClusterConsoleApp(
        recorded.inventory(tmp_path), read_only=True, monitor=False, clock=fixed
    )
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.audit is None and app.worker_actions is None and not app.wizards_available
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        assert type(screen) is DashboardScreen  # not the operator dashboard
        actions = {active.binding.action for active in screen.active_bindings.values()}
        assert not {a for a in actions if "wizard" in a}
        titles = {command.title for command in app.console_commands()}
        assert not any(t.startswith(("Drain", "Rejoin")) for t in titles)
        await pilot.press("d", "j")
        assert app.screen is screen
        await pilot.press("colon")
        await wait_for(lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"drain")
        await pilot.press("enter", "escape")
    assert built == []


async def test_interactive_offers_wizards_once_the_module_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTERCONSOLE_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.setattr(app_module, "wizard_screen_class", lambda: object)
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(120, 40)):
        assert app.audit is not None
        titles = {command.title for command in app.console_commands()}
        assert {"Drain node node1", "Rejoin node node3", "Rolling restart (every node)"} <= titles
        ids = {b.binding.id for b in app.screen.active_bindings.values()}
        assert {"dashboard.drain-node", "dashboard.rejoin-node"} <= ids
    assert not (tmp_path / "audit.jsonl").exists()  # constructed, nothing written


async def test_wall_chrome_and_banner_when_a_member_leaves(tmp_path: Path) -> None:
    app = ClusterConsoleApp(
        recorded.inventory(tmp_path), read_only=True, monitor=False, clock=fixed
    )
    async with app.run_test(size=(120, 40)):
        for observation in recorded.healthy():
            app.apply(observation)
        screen = app.screen
        word = screen.query_one(StateWord)
        await wait_for(lambda: "A L L" in str(word.render()))
        assert screen.query_one(WatchBar).query_one("#watch-clock").value == "12:00:00"  # type: ignore[attr-defined]
        banner = screen.query_one(Banner)
        assert not banner.has_class("shown")
        for observation in recorded.trouble():
            app.apply(observation)
        await wait_for(lambda: banner.has_class("shown"))
        assert banner.incident is not None
        assert "MEMBER LEFT" in banner.incident.text or "WORKER" in banner.incident.text
        await wait_for(lambda: word.has_class("warn") or word.has_class("bad"))
        assert isinstance(screen, DashboardScreen)
        assert screen.rows["node3"][2].plain == "STOPPED"  # capitals on the wall


async def test_cycle_rotates_views(tmp_path: Path) -> None:
    app = ClusterConsoleApp(
        recorded.inventory(tmp_path), read_only=True, monitor=False, cycle=0.5, clock=fixed
    )
    async with app.run_test(size=(120, 40)):
        seen: set[str] = set()

        def visited() -> bool:
            seen.add(app.current_mode)
            return {"dashboard", "events", "balancer", "database"} <= seen

        assert app.cycle == 1.0  # the floor
        await wait_for(visited)
        # and round again to the dashboard (leaving while a view mounts races in Textual)
        await wait_for(lambda: app.current_mode == "dashboard")


async def test_every_view_of_the_wall_has_the_clock_state_and_banner(tmp_path: Path) -> None:
    app = ClusterConsoleApp(
        recorded.inventory(tmp_path), read_only=True, monitor=False, clock=fixed
    )
    async with app.run_test(size=(120, 40)) as pilot:
        for observation in recorded.healthy():
            app.apply(observation)
        app.deliver_now()
        await pilot.press("3")  # the balancer view, before anything happens
        await wait_for(lambda: app.current_mode == "balancer")
        balancer = app.screen
        await wait_for(lambda: "A L L" in str(balancer.query_one(StateWord).render()))
        assert balancer.query_one("#watch-clock").value == "12:00:00"  # type: ignore[attr-defined]
        for observation in recorded.trouble():
            app.apply(observation)
        app.deliver_now()
        banner = balancer.query_one(Banner)
        await wait_for(lambda: banner.has_class("shown"))  # not a toast: the banner, here
        assert not app._notifications
        for key, mode in (("2", "events"), ("4", "database")):
            await pilot.press(key)
            await wait_for(lambda mode=mode: app.current_mode == mode)  # type: ignore[misc]
            screen = app.screen
            await wait_for(lambda s=screen: s.query_one(Banner).has_class("shown"))  # type: ignore[misc]
            word = screen.query_one(StateWord)
            await wait_for(lambda w=word: w.has_class("bad") or w.has_class("warn"))  # type: ignore[misc]
        await pilot.press("1", "enter")  # a node view opened on the wall has them too
        await wait_for(lambda: type(app.screen).__name__ == "NodeScreen")
        assert app.screen.query_one(Banner).has_class("shown")
        assert app.screen.query(WatchBar)


def test_a_bar_whose_clock_is_not_mounted_yet_ticks_without_failing() -> None:
    """The app ticks every wall bar each second; a view pushed a moment ago (a keystroke storm on
    the wall did it) may hold a bar whose children are not mounted yet. Its tick and its state
    update are then nothing, never NoMatches out of the app's timer (which ended the console)."""
    bar = WatchBar(lambda: datetime(2026, 12, 6, 16, 30, tzinfo=UTC), "sandbox")
    bar.tick()
    assert not list(bar.query("#watch-clock"))
