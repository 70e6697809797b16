"""The rejoin wizard's wait for membership: a peer whose log history was lost is waited for with
the reason said, and the step fails naming what is still missing (recorded observations)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from console.cluster.observations import LogHistoryLost, ProcessObserved
from console.config.model import Inventory
from console.monitor.runner import Monitor
from console.operations.engine import Outcome, Progress, Runner, Step, Wizard
from console.operations.wizards import rejoin
from probes.process import TomcatProcess
from tests.unit.test_state import healthy_nodes, inventory, joined, left

__all__ = ["inventory"]  # the fixture, used by name


@dataclass
class Ctx:
    """What the membership step reads of a node context."""

    monitor: Monitor
    node: Any
    facts: dict[str, Any] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)

    def answer(self, name: str, default: Any) -> Any:
        return self.answers.get(name, default)

    def events(self) -> Any:
        return self.monitor.state.events


def restarted_node2(inventory: Inventory) -> tuple[Monitor, float]:
    """A healthy cluster in which node2 has just been started again and node1's log was
    truncated (its membership unknown); node3 has logged node2 joining, node1 has not."""
    monitor = Monitor(inventory)
    for observation in healthy_nodes():
        monitor.observe(observation)
    for observer in ("node1", "node3"):  # the drain: both peers logged node2 leaving
        monitor.observe(left(observer, "node2", "shutdown"))
    began = time.time()
    monitor.observe(ProcessObserved("node2", TomcatProcess("stopped"), began))
    monitor.observe(ProcessObserved("node2", TomcatProcess("running", 5), began + 1))
    monitor.observe(LogHistoryLost("node1", "catalina.out", "truncated", False, began + 1))
    for observer, member in (("node3", "node2"), ("node2", "node3"), ("node2", "node1")):
        seen = joined(observer, member)
        monitor.observe(type(seen)(seen.node, seen.log, seen.event, began + 2))
    return monitor, began


def run_membership(inventory: Inventory, timeout: float) -> tuple[Outcome, list[Progress]]:
    events: list[Progress] = []

    async def main() -> Outcome:
        monitor, began = restarted_node2(inventory)
        ctx = Ctx(monitor, inventory.node("node2"), {"start_began": began})
        step = next(s for s in rejoin.WIZARD.steps if s.name == "membership")
        wizard: Wizard[Any] = Wizard(
            "rejoin", "t", (Step(step.name, "", action=step.action, timeout=timeout),)
        )
        return await Runner(wizard, ctx, node="node2", on_progress=events.append).run()

    return asyncio.run(main()), events


def test_a_peer_with_unknown_membership_is_waited_for_with_its_reason(
    inventory: Inventory,
) -> None:
    outcome, events = run_membership(inventory, timeout=2.0)
    waiting = [e.text for e in events if e.kind == "waiting"]
    assert (
        waiting
        and "node1 to see node2 (its membership is unknown: catalina.out truncated" in (waiting[-1])
    )
    assert "node3 to see node2" not in waiting[-1]  # its log said so
    assert outcome.status == "failed"
    assert "membership did not converge in time; still waiting for node1 to see node2" in (
        outcome.text
    )
    assert "truncated" in outcome.text
