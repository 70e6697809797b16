"""The node view: live log (history, partial lines, bursts, pause, filter), facts, problems."""

from __future__ import annotations

from pathlib import Path

from console.cluster.observations import (
    DatabaseReachObserved,
    HttpObserved,
    LogTrouble,
    ProcessObserved,
    SshObserved,
)
from probes.http import HttpCheck
from probes.process import TomcatProcess
from probes.reach import Reach
from screens.node import NodeScreen
from screens.widgets.log_view import LINE_CAP, MAX_LINES, LogView
from tests.app.views_harness import NASTY, FakeMonitor, HarnessApp, inventory, plain, wait_for
from tests.app.waiting import type_burst


def texts(app: HarnessApp) -> list[str]:
    return [line.text for line in app.screen.query_one(LogView).shown_lines()]


def rendered(app: HarnessApp) -> str:
    """What the log view draws on screen now (its visible rows, as plain text)."""
    view = app.screen.query_one(LogView)
    return "\n".join(view.render_line(y).text for y in range(view.size.height))


def static_text(app: HarnessApp, selector: str) -> str:
    return plain(app.screen.query_one(selector))


async def test_history_then_live_chunks_with_partial_lines(tmp_path: Path) -> None:
    monitor = FakeMonitor({"node1": {"catalina.out": b"old one\nold two\n"}})
    app = HarnessApp(inventory(tmp_path), lambda: NodeScreen("node1"), monitor=monitor)
    async with app.run_test(size=(160, 40)):
        await wait_for(lambda: texts(app) == ["old one", "old two"])
        monitor.push("node1", "catalina.out", b"new th")
        monitor.push("node1", "catalina.out", b"ree\nand a half")
        await wait_for(lambda: texts(app)[-1:] == ["new three"])
        monitor.push("node1", "catalina.out", b" line\n")
        await wait_for(lambda: texts(app)[-1:] == ["and a half line"])
        await wait_for(lambda: "and a half line" in rendered(app))
    assert monitor.taps["node1"] == [], "the tap is removed when the view goes away"


async def test_markup_and_escapes_in_log_lines_show_literally(tmp_path: Path) -> None:
    monitor = FakeMonitor()
    app = HarnessApp(inventory(tmp_path), lambda: NodeScreen("node1"), monitor=monitor)
    async with app.run_test(size=(160, 40)):
        await wait_for(lambda: "node1" in monitor.taps)
        data = "\n".join(f"line {i} {bad} end" for i, bad in enumerate(NASTY)) + "\n"
        monitor.push("node1", "catalina.out", data.encode() + b"bell\x07 nul\x00 tab\tx\n")
        await wait_for(lambda: len(texts(app)) == len(NASTY) + 1)
        screen = rendered(app)
        for bad in NASTY[:-1]:
            assert bad in screen
        assert "\\x1b[31m" in screen and "\x1b" not in screen
        assert "bell\\x07 nul\\x00 tab" in screen


async def test_burst_of_100k_lines_is_bounded_and_long_lines_capped(tmp_path: Path) -> None:
    monitor = FakeMonitor()
    app = HarnessApp(inventory(tmp_path), lambda: NodeScreen("node1"), monitor=monitor)
    async with app.run_test(size=(160, 40)):
        await wait_for(lambda: "node1" in monitor.taps)
        chunk = b"".join(b"burst line %d\n" % i for i in range(1000))
        for _ in range(100):
            monitor.push("node1", "catalina.out", chunk)
        monitor.push("node1", "catalina.out", b"x" * 1_000_000 + b"\nlast\n")
        view = app.screen.query_one(LogView)
        await wait_for(lambda: texts(app)[-1:] == ["last"])
        assert view.kept == MAX_LINES
        long = texts(app)[-2]
        assert long.startswith("x" * LINE_CAP) and "more bytes not shown" in long
        assert view.lines_received == 100_002
        await wait_for(lambda: "last" in rendered(app))


async def test_pause_keeps_view_still_and_filter_narrows(tmp_path: Path) -> None:
    monitor = FakeMonitor()
    app = HarnessApp(inventory(tmp_path), lambda: NodeScreen("node1"), monitor=monitor)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(lambda: "node1" in monitor.taps)
        monitor.push("node1", "catalina.out", b"".join(b"a%d\n" % i for i in range(200)))
        await wait_for(lambda: len(texts(app)) == 200)
        view = app.screen.query_one(LogView)
        await wait_for(lambda: view.scroll_y == view.max_scroll_y > 0)
        await pilot.press("p")
        assert not view.following
        await wait_for(lambda: "PAUSED" in static_text(app, "#node-status"))
        view.scroll_to(y=10, animate=False, immediate=True)
        monitor.push("node1", "catalina.out", b"b1\nb2\n")
        await wait_for(lambda: len(texts(app)) == 202)
        assert view.scroll_y == 10
        await wait_for(lambda: "2 new line(s) below" in static_text(app, "#node-status"))
        await pilot.press("p")
        await wait_for(lambda: view.scroll_y == view.max_scroll_y)
        await pilot.press("slash")
        await pilot.press("b", "1")
        await wait_for(lambda: texts(app) == ["b1"])
        await pilot.press("escape")
        await wait_for(lambda: len(texts(app)) == 202)


async def test_highlights_events_with_words(tmp_path: Path) -> None:
    monitor = FakeMonitor()
    app = HarnessApp(inventory(tmp_path), lambda: NodeScreen("node1"), monitor=monitor)
    async with app.run_test(size=(200, 40)):
        await wait_for(lambda: "node1" in monitor.taps)
        monitor.push(
            "node1",
            "catalina.out",
            b"22-Nov-2026 11:59:01.358 INFO [StaticMembership-memberAdded] "
            b"org.apache.catalina.ha.tcp.SimpleTcpCluster.memberAdded Replication member added\n"
            b"22-Nov-2026 11:59:19.176 SEVERE [main] something broke\n"
            b"plain\n",
        )
        await wait_for(lambda: len(texts(app)) == 3)
        rows = rendered(app).splitlines()
        assert rows[0].startswith("JOIN ")
        assert rows[1].startswith("ERROR ")
        assert rows[2].startswith("      plain")


async def test_facts_and_problems_of_the_node(tmp_path: Path) -> None:
    app = HarnessApp(
        inventory(tmp_path),
        lambda: NodeScreen("node2"),
        observations=[
            SshObserved("node2", "down", f"refused {NASTY[0]}{NASTY[4]}", 1.0),
            HttpObserved("node2", HttpCheck("http://x", None, None, "connection refused [/"), 1.0),
            DatabaseReachObserved("node2", Reach(False, "no route [0]"), 1.0),
            LogTrouble("node2", "catalina.out", "file missing [red]x[/red]", 1.0),
        ],
    )
    async with app.run_test(size=(200, 50)):
        await wait_for(lambda: "DOWN" in static_text(app, "#node-facts"))
        facts = static_text(app, "#node-facts")
        assert "refused [bold]\\x1b" in facts
        assert "connection refused [/" in facts
        assert "UNREACHABLE no route [0]" in facts
        assert "file missing [red]x[/red]" in facts
        assert "no live log in this session" in static_text(app, "#node-status")
        problems = static_text(app, "#node-problems")
        assert "CRITICAL" in problems and "cannot reach node2 over SSH" in problems
        app.observe(
            SshObserved("node2", "up", None, 2.0),
            ProcessObserved("node2", TomcatProcess("running", 4242), 2.0),
        )
        await wait_for(lambda: "running (pid 4242)" in static_text(app, "#node-facts"))


async def test_keys_typed_right_after_slash_all_reach_the_filter(tmp_path: Path) -> None:
    monitor = FakeMonitor({"node1": {"catalina.out": b"one\ntwo\n"}})
    app = HarnessApp(inventory(tmp_path), lambda: NodeScreen("node1"), monitor=monitor)
    async with app.run_test(size=(160, 40)):
        await wait_for(lambda: texts(app) == ["one", "two"])
        await type_burst(app, "slash", "p", "t", "w")
        await wait_for(lambda: app.screen.query_one(LogView).filter_text == "ptw")
        assert app.screen.query_one(LogView).following  # `p` was text, not pause
