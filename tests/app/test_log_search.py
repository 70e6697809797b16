"""The node log as lnav users expect: search with every match highlighted and n/N to jump,
regex on request, a level filter that keeps stack traces, and a wrap toggle."""

from __future__ import annotations

from pathlib import Path

from rich.style import Style
from textual.keys import _character_to_key

from screens.events import EventsScreen
from screens.node import NodeScreen
from screens.widgets.log_view import LogView
from screens.widgets.row_table import RowTable
from screens.widgets.search import MATCH_STYLE, Search
from tests.app.views_harness import (
    FakeMonitor,
    HarnessApp,
    healthy_nodes,
    inventory,
    left,
    plain,
    wait_for,
)

LOG = (
    "01-Jan INFO [main] Server startup in 1200 ms\n"
    "01-Jan WARNING [pool-1] slow request /app 4000 ms\n"
    "01-Jan SEVERE [http-1] Servlet failed\n"
    "java.lang.IllegalStateException: boom\n"
    "\tat com.example.Foo.bar(Foo.java:10)\n"
    "Caused by: java.io.IOException: disk\n"
    "01-Jan INFO [http-2] request /app ok\n"
    "01-Jan INFO [http-3] request /other ok\n"
)


def keys(text: str) -> list[str]:
    """The keys that type ``text``."""
    return [_character_to_key(char) for char in text]


def status(app: HarnessApp) -> str:
    return plain(app.screen.query_one("#node-status"))


def view(app: HarnessApp) -> LogView:
    return app.screen.query_one(LogView)


async def started(app: HarnessApp, monitor: FakeMonitor) -> None:
    await wait_for(lambda: "node1" in monitor.taps)
    monitor.push("node1", "catalina.out", LOG.encode())
    await wait_for(lambda: view(app).line_count == 8)


def test_a_regex_on_request_and_a_broken_one_matches_nothing() -> None:
    assert Search.parse("a.b").spans("a.b axb") == [(0, 3)]  # literal by default
    assert Search.parse("re:a.b").spans("a.b axb") == [(0, 3), (4, 7)]
    broken = Search.parse("re:[")
    assert not broken.active and broken.error and broken.spans("[") == []


async def test_search_highlights_every_match_and_n_jumps(tmp_path: Path) -> None:
    monitor = FakeMonitor()
    app = HarnessApp(inventory(tmp_path), lambda: NodeScreen("node1"), monitor=monitor)
    async with app.run_test(size=(160, 30)) as pilot:
        await started(app, monitor)
        await pilot.press("s", "r", "e", "q", "u", "e", "s", "t", "enter")
        log = view(app)
        assert log.match_indexes() == [1, 6, 7]
        await wait_for(lambda: log.current_line is not None)
        assert "slow request" in log.current_line.text  # type: ignore[union-attr]
        assert not log.following  # paused on the match
        assert "match 1 of 3" in status(app)
        # every match is highlighted, not only the current line's
        strip = log._strip(log.shown_lines()[6], Style())
        assert any(seg.style == MATCH_STYLE and seg.text == "request" for seg in strip)
        await pilot.press("n")
        assert "/app ok" in log.current_line.text  # type: ignore[union-attr]
        await pilot.press("n", "n")  # wraps round to the first
        assert "match 1 of 3" in status(app)
        await pilot.press("N")  # back to the last
        assert "/other ok" in log.current_line.text  # type: ignore[union-attr]
        assert "▶" in "\n".join(log.row_texts())
        await pilot.press("escape")
        assert not log.search.text and "search" not in status(app)
        # a regular expression on request
        await pilot.press("s", *keys("re:/(app|other)"), "enter")
        assert log.match_indexes() == [1, 6, 7]
        await pilot.press("escape", "s", *keys("re:["), "enter")
        await wait_for(lambda: "not a regular expression" in status(app))


async def test_level_filter_keeps_stack_traces_and_wrap_folds_lines(tmp_path: Path) -> None:
    monitor = FakeMonitor()
    app = HarnessApp(inventory(tmp_path), lambda: NodeScreen("node1"), monitor=monitor)
    async with app.run_test(size=(80, 30)) as pilot:
        await started(app, monitor)
        log = view(app)
        await pilot.press("l")
        assert log.level == "SEVERE"
        assert [line.text for line in log.shown_lines()] == [
            "01-Jan SEVERE [http-1] Servlet failed",
            "java.lang.IllegalStateException: boom",
            "\tat com.example.Foo.bar(Foo.java:10)".expandtabs(4),
            "Caused by: java.io.IOException: disk",
        ]
        assert "level SEVERE" in status(app)
        await pilot.press("l")
        assert log.line_count == 5 and "slow request" in log.shown_lines()[0].text
        await pilot.press("l")
        assert log.line_count == 8
        long = "x" * 150
        monitor.push("node1", "catalina.out", f"START {long} END\n".encode())
        await wait_for(lambda: log.line_count == 9)
        assert len(log.row_texts()) == 9
        await pilot.press("w")
        rows = log.row_texts()
        assert len(rows) > 9 and "wrap" in status(app)
        assert all(len(row) <= log.size.width for row in rows)
        assert "".join(row.strip() for row in rows[-3:]).endswith("END")
        await pilot.press("w")
        assert len(log.row_texts()) == 9


async def test_events_search_highlights_and_n_moves_the_cursor(tmp_path: Path) -> None:
    observations = [
        *healthy_nodes(),
        left("node1", "node3", at=5.0, text="node3 gone"),
        left("node2", "node3", at=6.0, text="node3 gone too"),
    ]
    app = HarnessApp(inventory(tmp_path), EventsScreen, observations=observations)
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.screen.query_one(RowTable)
        await wait_for(lambda: table.row_count == 8)
        await pilot.press("end")  # the cursor at the bottom: the search wraps round
        await pilot.press("s", *keys("gone"), "enter")
        screen = app.screen
        assert isinstance(screen, EventsScreen)
        assert table.row_count == 8  # searching hides nothing
        assert screen.cursor_record is not None
        assert screen.cursor_record.event.text == "node3 gone too"
        cell = table.get_row_at(table.cursor_row)[4]
        assert any(span.style == MATCH_STYLE for span in cell.spans)  # highlighted
        assert "2 match(es)" in plain(screen.query_one("#events-filters"))
        await pilot.press("n")
        assert screen.cursor_record.event.text == "node3 gone"
        await pilot.press("N")
        assert screen.cursor_record.event.text == "node3 gone too"
        await pilot.press("o")  # the node filter moved from n to o
        assert screen.node_filter == "node1"
        await pilot.press("escape", "s", *keys("re:node[12]$"), "enter")
        assert len(screen.match_keys()) == 6  # joined events' node cells
