"""A wizard follows the monitor through a subscription: an event pushed out of the state's
bounded ring by a burst of errors is still seen by the wait that needs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.cluster.observations import EventObserved
from console.cluster.state import EVENTS_KEPT
from console.config.model import Inventory
from console.monitor.runner import Monitor
from console.operations.common import peer_events_since
from console.operations.journal import EventJournal
from tests.unit.test_state import event, healthy_nodes, inventory, left

__all__ = ["inventory"]  # the fixture, used by name


@dataclass
class Ctx:
    node: Any
    journal: EventJournal

    def events(self) -> Any:
        return self.journal.records


def test_a_member_left_pushed_out_of_the_state_by_an_error_burst_is_still_seen(
    inventory: Inventory,
) -> None:
    monitor = Monitor(inventory)
    for observation in healthy_nodes():
        monitor.observe(observation)
    journal = EventJournal(monitor)  # the run begins
    monitor.observe(left("node1", "node2", "shutdown"))
    for index in range(EVENTS_KEPT + 50):  # node3 logs a storm of SEVERE lines
        error = event("error", detail=f"SEVERE {index}")
        monitor.observe(EventObserved("node3", "catalina.out", error, 3.0 + index))
    state = monitor.state
    assert not any(record.event.kind == "member-left" for record in state.events)
    ctx = Ctx(inventory.node("node2"), journal)
    seen = peer_events_since(state, ctx, "member-left", 0.0)  # type: ignore[arg-type]
    assert list(seen) == ["node1"]
    journal.close()
    monitor.observe(left("node3", "node2", "shutdown"))
    assert journal.records[-1].event.kind == "error"  # closed: no longer follows
