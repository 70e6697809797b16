"""The node view's "last event ... ago" counts from the event's own time, not from when the
console read it (a history read at start is not news)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from rich.console import Console

from console.cluster.observations import EventObserved
from console.cluster.state import ClusterState
from console.cluster.topology import specs_for
from screens.node import facts_table
from tests.app.views_harness import ADDRESS, event, inventory


def test_last_event_age_is_from_the_event_s_own_time(tmp_path: Path) -> None:
    inv = inventory(tmp_path)
    now = time.time()
    stamp = datetime.fromtimestamp(now - 3600).isoformat(timespec="milliseconds")
    ev = replace(event("member-joined", f"{ADDRESS['node2']}:4000"), time=stamp)
    state = ClusterState.initial(inv, specs_for(inv, resolve_names=False))
    state = state.apply(EventObserved("node1", "catalina.out", ev, now, backlog=True))
    console = Console(width=160, record=True, color_system=None)
    console.print(facts_table(state.node("node1"), state))
    text = console.export_text()
    line = next(line for line in text.splitlines() if "last event" in line)
    assert "member-joined 60m ago" in line, line
