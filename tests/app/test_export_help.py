"""Export what a view shows (CSV, JSON) to a file the console names; `?` help lists the console's
keys (not the toolkit's) with the table keys and a legend of state words and colours."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable, Static

from console.cluster.observations import EventObserved
from screens.app import ClusterConsoleApp
from screens.events import EventsScreen
from screens.help import HelpScreen
from screens.widgets.export import spreadsheet_safe
from screens.widgets.node_table import NodeTable
from tests.app import recorded
from tests.app.views_harness import HarnessApp, event, inventory
from tests.app.waiting import wait_for


def exported(directory: Path, suffix: str) -> list[Path]:
    return sorted(directory.glob(f"clusterconsole-*{suffix}")) if directory.exists() else []


async def test_dashboard_exports_rows_as_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "exports"
    monkeypatch.setenv("CLUSTERCONSOLE_EXPORT_DIR", str(out))
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(160, 40)) as pilot:
        for observation in recorded.healthy():
            app.apply(observation)
        table = app.screen.query_one(NodeTable)
        await wait_for(lambda: table.row_count == 3)
        await pilot.press("N", "N")  # node names descending
        await pilot.press("ctrl+s")
        await wait_for(lambda: exported(out, ".csv"))
        (path,) = exported(out, ".csv")
        assert path.name.startswith("clusterconsole-recorded-")
        assert any(str(path) in str(n.message) for n in app._notifications)  # says where
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0][:3] == ["node", "SSH", "Tomcat"]
        assert [row[0] for row in rows[1:]] == ["node3", "node2", "node1"]
        assert rows[1][1] == "up"
        assert path.stat().st_mode & 0o077 == 0
        await pilot.press("ctrl+e")
        await wait_for(lambda: exported(out, ".json"))
        (document_path,) = exported(out, ".json")
        document = json.loads(document_path.read_text())
        assert document["schema_version"] == 1 and document["cluster"] == "recorded"
        assert datetime.fromisoformat(document["exported_at"]).tzinfo is not None
        assert [row["node"] for row in document["rows"]] == ["node3", "node2", "node1"]


async def test_events_export_keeps_remote_text_inert_and_watch_mode_exports_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "exports"
    monkeypatch.setenv("CLUSTERCONSOLE_EXPORT_DIR", str(out))
    bad = EventObserved("node1", "catalina.out", event("error", text='=HYPERLINK("x")'), 1.0)
    app = HarnessApp(inventory(tmp_path), EventsScreen, observations=[bad])
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(lambda: app.screen.query_one("#events-table").row_count == 1)
        await pilot.press("ctrl+s")
        await wait_for(lambda: exported(out, ".csv"))
        with exported(out, ".csv")[0].open(newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == ["time", "node", "kind", "member", "text"]
        assert rows[1][4] == '\'=HYPERLINK("x")'
    assert spreadsheet_safe("-") == "-" and spreadsheet_safe("-3.5 %") == "-3.5 %"
    assert spreadsheet_safe("-cmd") == "'-cmd"

    watch_out = tmp_path / "watch-exports"
    monkeypatch.setenv("CLUSTERCONSOLE_EXPORT_DIR", str(watch_out))
    wall = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False, read_only=True)
    async with wall.run_test(size=(160, 40)) as pilot:
        for observation in recorded.healthy():
            wall.apply(observation)
        await wait_for(lambda: wall.screen.query_one(NodeTable).row_count == 3)
        await pilot.press("ctrl+s", "ctrl+e")
        await wait_for(lambda: any("read-only" in str(n.message) for n in wall._notifications))
    assert not watch_out.exists()


async def test_help_lists_console_keys_table_keys_and_a_legend(tmp_path: Path) -> None:
    console = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with console.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await wait_for(lambda: console.current_mode == "events")
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(console.screen, HelpScreen))
        help_screen = console.screen
        assert isinstance(help_screen, HelpScreen)
        ids = [item.id for item in help_screen.keys]
        assert {"events.find", "events.next-match", "table.export-csv", "app.quit"} <= set(ids)
        # the DataTable's own cursor and scroll keys are the toolkit's, not listed
        descriptions = {item.description.casefold() for item in help_screen.keys}
        assert not descriptions & {"cursor up", "cursor down", "page up", "scroll up"}
        assert "^q" not in {item.key for item in help_screen.keys}  # Textual's own quit key
        own = [item.description for item in help_screen.keys if item.id == "-"]
        assert own == ["First row", "Last row"]  # the console's table declares these
        shown = {item.id for item in help_screen.table_keys()}
        assert shown == {"table.sort", "table.sort-column", "table.sort-off"}
        table = help_screen.query_one(DataTable)
        rows = [table.get_row_at(at) for at in range(table.row_count)]
        text = help_screen.query_one("#help-legend", Static).content
        assert isinstance(text, Text)
        for words in ("running", "lb unreachable", "draining", "maintenance", "broken, act"):
            assert words in text.plain
        running = text.plain.index("running")
        assert any(span.start == running and span.style for span in text.spans)  # its colour
        # the view's keys come before the table's own (sort, export)
        ids = [str(row[2]) for row in rows]
        assert ids.index("app.quit") < ids.index("table.export-csv") < ids.index("table.sort")


def test_exports_go_to_the_state_directory_unless_told() -> None:
    from screens.widgets.export import export_dir

    assert export_dir({"HOME": "/home/op"}) == Path("/home/op/.local/state/clusterconsole/exports")
    assert export_dir({"XDG_STATE_HOME": "/s"}) == Path("/s/clusterconsole/exports")
    assert export_dir({"CLUSTERCONSOLE_EXPORT_DIR": "/x"}) == Path("/x")


async def test_export_is_in_the_command_palette_and_not_in_watch_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.command import CommandPalette

    out = tmp_path / "exports"
    monkeypatch.setenv("CLUSTERCONSOLE_EXPORT_DIR", str(out))
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(160, 40)) as pilot:
        for observation in recorded.healthy():
            app.apply(observation)
        await wait_for(lambda: app.screen.query_one(NodeTable).row_count == 3)
        await pilot.press("colon")
        await wait_for(lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"export view as json")
        await pilot.press("enter")
        await wait_for(lambda: exported(out, ".json"))
        document = json.loads(exported(out, ".json")[0].read_text())
        assert [row["node"] for row in document["rows"]] == ["node1", "node2", "node3"]
        assert any("exported 3 row(s)" in str(n.message) for n in app._notifications)

    monkeypatch.setenv("CLUSTERCONSOLE_EXPORT_DIR", str(tmp_path / "watch-exports"))
    wall = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False, read_only=True)
    async with wall.run_test(size=(160, 40)):
        titles = {command.title for command in wall.console_commands()}
        assert not {title for title in titles if title.startswith("Export")}
    assert not (tmp_path / "watch-exports").exists()
