"""The dashboard in a headless app fed recorded observations: rows, words, problems, keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import Header, Input, Static

from screens.app import ClusterConsoleApp
from screens.dashboard import DashboardScreen
from screens.help import HelpScreen
from screens.problems import ProblemsPanel
from screens.widgets.keybar import KeyBar
from screens.widgets.node_table import NodeTable
from tests.app import recorded
from tests.app.waiting import type_burst, wait_for


def row(app: ClusterConsoleApp, node: str) -> list[str]:
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    return [cell.plain for cell in screen.rows[node]]


def feed(app: ClusterConsoleApp, observations: list[recorded.Observation]) -> None:
    for observation in observations:
        app.apply(observation)


async def test_every_node_with_states_in_words(tmp_path: Path) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(160, 40)) as pilot:
        feed(app, recorded.healthy())
        await wait_for(lambda: row(app, "node3")[1] == "up")
        assert row(app, "node1")[:4] == ["node1", "up", "running", "up 200 4ms"]
        assert row(app, "node1")[4] == "ok 10.0/s busy 1"
        assert row(app, "node2")[5] == "2/2"
        assert "member-joined" in row(app, "node1")[-2]
        table = app.screen.query_one(NodeTable)
        assert table.row_count == 3
        assert table.row_text("node1").startswith(" node1   up          running  up 200 4ms ")
        assert str(app.screen.query_one(ProblemsPanel).render()) == "no problems found"
        await pilot.press("q")
    assert app.return_code in (0, None)


async def test_unreachable_things_say_why_and_problems_are_sorted(tmp_path: Path) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(160, 40)):
        feed(app, recorded.healthy() + recorded.trouble())
        await wait_for(lambda: row(app, "node3")[2] == "stopped")
        assert row(app, "node3")[3] == "down connection refused"
        assert row(app, "node3")[4].startswith("error")
        panel = app.screen.query_one(ProblemsPanel)
        await wait_for(lambda: panel.problems)
        severities = [problem.severity for problem in panel.problems]
        assert severities == sorted(severities, key=lambda s: s != "critical")
        assert {"tomcat-stopped"} <= {problem.code for problem in panel.problems}


async def test_only_changed_rows_are_written_and_rendered(tmp_path: Path) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(160, 40)):
        feed(app, recorded.healthy())
        await wait_for(lambda: row(app, "node3")[1] == "up")
        table = app.screen.query_one(NodeTable)
        names = ("node1", "node2", "node3")
        await wait_for(lambda: "up 200 4ms" in table.row_text("node1"))
        await wait_for(lambda: all(table.drawn_version(n) == table.row_version(n) for n in names))
        writes: list[str] = []
        original = table.update_rows

        def spy(rows: Mapping[str, Sequence[Text]]) -> list[str]:
            writes.extend(rows)
            return original(rows)

        table.update_rows = spy  # type: ignore[method-assign]
        before = {name: row(app, name) for name in names}
        rendered = table.rows_rendered
        first = recorded.healthy()[2]
        assert isinstance(first, recorded.HttpObserved)
        app.apply(
            recorded.HttpObserved("node1", first.check.__class__(first.check.url, 200, 9.0), 1)
        )
        app.deliver_now()
        assert writes == ["node1"]
        after = row(app, "node1")
        assert [
            i for i, (a, b) in enumerate(zip(before["node1"], after, strict=True)) if a != b
        ] == [3]
        assert after[3] == "up 200 9ms"
        assert row(app, "node2") == before["node2"] and row(app, "node3") == before["node3"]
        # The next frame rebuilds node1's strip only; the other rows come from the cache.
        await wait_for(lambda: table.drawn_version("node1") == table.row_version("node1"))
        assert table.rows_rendered == rendered + 1


async def test_filter_enter_escape_and_views(tmp_path: Path) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(160, 40)) as pilot:
        feed(app, recorded.healthy())
        await wait_for(lambda: row(app, "node3")[1] == "up")
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await pilot.press("slash", "n", "o", "d", "e", "2")
        await wait_for(lambda: screen.shown == ("node2",))
        field, header = screen.query_one("#filter"), screen.query_one(Header)
        assert not field.region.overlaps(header.region)  # the title bar stays in view
        await pilot.press("enter")  # back to the table
        await pilot.press("escape")
        await wait_for(lambda: screen.shown == ("node1", "node2", "node3"))
        await pilot.press("down", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "NodeScreen")
        assert getattr(app.screen, "node", None) in (None, "node3")  # cursor kept on node2
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen)
        for key, mode in (
            ("2", "events"),
            ("3", "balancer"),
            ("4", "database"),
            ("1", "dashboard"),
        ):
            await pilot.press(key)
            await wait_for(lambda mode=mode: app.current_mode == mode)  # type: ignore[misc]
        await pilot.press("3", "escape")
        await wait_for(lambda: app.current_mode == "dashboard")


async def test_help_lists_every_binding_with_id_and_description(tmp_path: Path) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        ids = {item.id for item in help_screen.keys}
        for wanted in ("app.quit", "app.help", "app.palette", "app.back", "dashboard.filter"):
            assert wanted in ids
        assert {"app.view-dashboard", "app.view-events", "app.view-balancer"} <= ids
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, DashboardScreen))


def test_every_binding_of_ours_has_an_id_and_a_description() -> None:
    from screens.help import HelpScreen as Help
    from screens.operator_dashboard import OperatorDashboardScreen

    for owner in (ClusterConsoleApp, DashboardScreen, OperatorDashboardScreen, Help):
        for binding in owner.BINDINGS:
            assert not isinstance(binding, tuple), owner
            assert binding.id and binding.description, (owner, binding.key)


async def test_palette_lists_views_nodes_and_actions(tmp_path: Path) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(120, 40)):
        titles = {command.title for command in app.console_commands()}
        assert {"View: Nodes", "View: Events", "Filter nodes", "Help: keys", "Quit"} <= titles
        assert {"Open node node1", "Open node node3", "Theme: wall"} <= titles


async def test_palette_opens_with_colon(tmp_path: Path) -> None:
    from textual.command import CommandPalette

    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("colon")
        await wait_for(lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"events")
        await pilot.press("enter")
        await wait_for(lambda: app.current_mode == "events")


async def test_themes_and_cluster_accent(tmp_path: Path) -> None:
    app = ClusterConsoleApp(
        recorded.inventory(tmp_path, color="#d75f00"), monitor=False, theme="light"
    )
    async with app.run_test(size=(120, 40)):
        assert app.theme.startswith("clusterconsole-light+")
        assert (
            app.current_theme.primary == "#D75F00".lower()
            or app.current_theme.primary.lower() == "#d75f00"
        )
        app.set_theme("wall")
        assert app.theme.startswith("clusterconsole-wall+")
    plain = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False, read_only=True)
    async with plain.run_test(size=(120, 40)):
        assert plain.theme == "clusterconsole-wall"


async def test_keys_typed_right_after_slash_all_reach_the_filter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/down` typed in one burst filters on "down"; `d` never opens the drain wizard."""
    opened: list[tuple[str, str]] = []
    monkeypatch.setattr(ClusterConsoleApp, "open_wizard", lambda self, w, n: opened.append((w, n)))
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(160, 40)) as pilot:
        feed(app, recorded.healthy() + recorded.trouble())
        await wait_for(lambda: row(app, "node3")[2] == "stopped")
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await type_burst(app, "slash", "d", "o", "w", "n")
        await wait_for(lambda: screen.filter_text == "down")
        await pilot.pause()
        assert screen.query_one("#filter", Input).value == "down"
        assert screen.shown == ("node3",)
        assert opened == [] and app.screen is screen
        await pilot.press("escape")  # closes the filter
        await wait_for(lambda: screen.shown == ("node1", "node2", "node3"))
        await pilot.press("slash", "n", "o", "d", "e", "1", "slash")  # a typed "/" is text
        await wait_for(lambda: screen.filter_text == "node1/")


async def test_at_80x24_every_column_shows_and_the_selected_line_has_host_and_event(
    tmp_path: Path,
) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(80, 24)) as pilot:
        feed(app, recorded.healthy() + recorded.trouble())
        await wait_for(lambda: row(app, "node3")[2] == "stopped")
        table = app.screen.query_one(NodeTable)
        await wait_for(lambda: table.drawn_widths and table.drawn_widths[-1] == 0)
        drawn = table.drawn_widths
        assert sum(width + 2 for width in drawn if width) <= 80
        labels = [c.label for c, w in zip(table.columns, drawn, strict=True) if w]
        assert labels == ["node", "SSH", "Tomcat", "HTTP direct", "httpd", "peers", "last event"]
        selected = app.screen.query_one("#selected", Static)
        await wait_for(lambda: "127.0.9.11" in str(selected.render()))
        assert "member-left 127.0.9.13:4000" in str(selected.render())
        await pilot.press("down")
        await wait_for(lambda: "host 127.0.9.12" in str(selected.render()))
        bar = app.screen.query_one(KeyBar)
        assert {"slash", "d", "j", "q"} <= {key.key for key in bar.keys}


async def test_a_column_shrinks_back_when_its_widest_cell_does(tmp_path: Path) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(200, 40)):
        feed(app, recorded.healthy())
        await wait_for(lambda: row(app, "node3")[1] == "up")
        table = app.screen.query_one(NodeTable)
        normal = table.column_widths[1]
        app.apply(recorded.SshObserved("node2", "down", "connection refused", recorded.T0 + 5))
        app.deliver_now()
        await wait_for(lambda: table.column_widths[1] > normal)
        app.apply(recorded.SshObserved("node2", "up", None, recorded.T0 + 6))
        app.deliver_now()
        await wait_for(lambda: table.column_widths[1] == normal)


async def test_t_names_the_theme_and_the_palette_has_one_quit(tmp_path: Path) -> None:
    from textual.command import CommandPalette

    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await wait_for(lambda: any("clusterconsole-light" in n.message for n in app._notifications))
        await pilot.press("colon")
        await wait_for(lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"quit")
        palette = app.screen
        assert isinstance(palette, CommandPalette)

        def quits() -> list[str]:
            options = palette.query_one("CommandList").options  # type: ignore[attr-defined]
            return [str(o.prompt) for o in options if "Quit" in str(o.prompt)]

        await wait_for(lambda: len(quits()) >= 1)
        await pilot.pause()
        assert len(quits()) == 1, quits()


async def test_toasts_draw_no_half_block_edge(tmp_path: Path) -> None:
    """A toast's "outer" left edge is a column of ▌ (seen left behind after toasts)."""
    from textual.widgets._toast import Toast

    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("t")
        await wait_for(lambda: app.screen.query(Toast))
        await pilot.pause()
        screenshot = app.export_screenshot()
        assert "theme:" in screenshot and "▌" not in screenshot
