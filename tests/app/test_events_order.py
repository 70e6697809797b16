"""The events view's "newest first" is by each event's own time, not by when it was read."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.widgets import DataTable

from console.cluster.observations import EventObserved
from console.cluster.state import log_time
from screens.events import EventsScreen
from tests.app.views_harness import ADDRESS, HarnessApp, event, inventory, wait_for


def stamped(observer: str, member: str, stamp: str, at: float) -> EventObserved:
    ev = replace(event("member-joined", f"{ADDRESS[member]}:4000"), time=stamp)
    return EventObserved(observer, "catalina.out", ev, at)


async def test_newest_first_means_the_newest_log_time_first(tmp_path: Path) -> None:
    read = log_time("2026-11-22T07:17:00") or 0.0
    app = HarnessApp(
        inventory(tmp_path),
        EventsScreen,
        observations=[
            stamped("node2", "node1", "2026-11-22T07:16:53.000", read),
            # node1's history is read a second later, but happened four seconds earlier
            stamped("node1", "node2", "2026-11-22T07:16:49.000", read + 1),
        ],
    )
    async with app.run_test(size=(160, 40)):
        table = app.screen.query_one(DataTable)
        await wait_for(lambda: table.row_count == 2)
        nodes = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert nodes == ["node2", "node1"]
