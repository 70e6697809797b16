"""The events view: merged timeline newest first, filters, search, the membership matrix."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input

from console.cluster.observations import EventObserved
from console.cluster.state import EVENTS_KEPT
from screens.confirm import DetailScreen
from screens.events import EventsScreen
from screens.widgets.matrix import MembershipMatrix
from tests.app.views_harness import (
    NASTY,
    HarnessApp,
    event,
    healthy_nodes,
    inventory,
    joined,
    left,
    plain,
    wait_for,
)
from tests.app.waiting import type_burst


def table_rows(app: HarnessApp) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def matrix_text(app: HarnessApp) -> str:
    return plain(app.screen.query_one(MembershipMatrix))


async def test_timeline_newest_first_with_filters_and_search(tmp_path: Path) -> None:
    app = HarnessApp(inventory(tmp_path), EventsScreen, observations=healthy_nodes())
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: len(table_rows(app)) == 6)
        app.observe(left("node1", "node3", at=5.0, text="node3 gone"))
        await wait_for(lambda: len(table_rows(app)) == 7)
        top = table_rows(app)[0]
        assert top[1:4] == ["node1", "member-left", "10.0.0.20:4000"]
        assert top[4] == "node3 gone"
        await pilot.press("k")  # member-joined
        await wait_for(lambda: len(table_rows(app)) == 6)
        assert {row[2] for row in table_rows(app)} == {"member-joined"}
        await pilot.press("o")  # node1
        await wait_for(lambda: len(table_rows(app)) == 2)
        assert {row[1] for row in table_rows(app)} == {"node1"}
        await pilot.press("escape")
        await wait_for(lambda: len(table_rows(app)) == 7)
        await pilot.press("slash", "g", "o", "n", "e")
        await wait_for(lambda: len(table_rows(app)) == 1)
        await pilot.press("enter", "escape")
        await wait_for(lambda: len(table_rows(app)) == 7)


async def test_event_text_and_members_are_literal(tmp_path: Path) -> None:
    app = HarnessApp(inventory(tmp_path), EventsScreen)
    async with app.run_test(size=(200, 50)):
        for index, bad in enumerate(NASTY):
            ev = event("error", member=f"{bad}:4000", text=f"boom {bad} end\n\tat x")
            app.observe(EventObserved("node2", "catalina.out", ev, float(index)))
        await wait_for(lambda: len(table_rows(app)) == len(NASTY))
        rows = table_rows(app)
        assert rows[0][4] == "boom \\x1b[31m end"
        assert rows[-1][4] == "boom [bold] end"
        assert [row[3] for row in reversed(rows)][:4] == [f"{b}:4000" for b in NASTY[:4]]
        assert "[red]x[/red]" in rows[1][4]


async def test_ring_is_bounded(tmp_path: Path) -> None:
    many = [joined("node1", "node2", at=float(i)) for i in range(EVENTS_KEPT + 50)]
    app = HarnessApp(inventory(tmp_path), EventsScreen, observations=many)
    async with app.run_test(size=(160, 50)):
        await wait_for(lambda: len(table_rows(app)) == EVENTS_KEPT)


async def test_matrix_shows_split_brain_in_words(tmp_path: Path) -> None:
    app = HarnessApp(inventory(tmp_path), EventsScreen, observations=healthy_nodes())
    async with app.run_test(size=(160, 50)):
        await wait_for(lambda: "one cluster: 3 running node(s)" in matrix_text(app))
        assert "MISSING" not in matrix_text(app)
        app.observe(
            left("node1", "node3"),
            left("node2", "node3"),
            left("node3", "node1"),
            left("node3", "node2"),
        )
        await wait_for(lambda: "SPLIT BRAIN" in matrix_text(app))
        text = matrix_text(app)
        assert "{node1, node2} | {node3}" in text
        node3_row = next(line for line in text.splitlines() if line.strip().startswith("node3"))
        assert node3_row.count("MISSING") == 2


async def test_keys_typed_right_after_slash_all_reach_the_search(tmp_path: Path) -> None:
    app = HarnessApp(inventory(tmp_path), EventsScreen, observations=healthy_nodes())
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: len(table_rows(app)) == 6)
        await type_burst(app, "slash", "a", "b", "c", "k")
        field = app.screen.query_one("#events-search", Input)
        await wait_for(lambda: field.value == "abck")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EventsScreen)
        assert screen.kind_filter is None  # `k` was text, not the kind filter
        await pilot.press("slash")  # typed in the field: text
        await wait_for(lambda: field.value == "abck/")


async def test_enter_opens_the_whole_event_and_home_end_move(tmp_path: Path) -> None:
    app = HarnessApp(inventory(tmp_path), EventsScreen, observations=healthy_nodes())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: len(table_rows(app)) == 6)
        long_text = "node3 gone [bold]x[/] " + "y" * 300 + "\nsecond line"
        app.observe(left("node1", "node3", at=5.0, text=long_text))
        await wait_for(lambda: len(table_rows(app)) == 7)
        await pilot.press("end", "home", "enter")
        await wait_for(lambda: isinstance(app.screen, DetailScreen))
        body = plain(app.screen.query_one("#detail-body"), width=400)
        assert "member-left" in body and "10.0.0.20:4000" in body and "crash" in body
        assert "[bold]x[/] " + "y" * 300 in body and "second line" in body
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, EventsScreen))
        await pilot.press("end", "enter")
        await wait_for(lambda: isinstance(app.screen, DetailScreen))
        assert "member-joined" in plain(app.screen.query_one("#detail-body"))
