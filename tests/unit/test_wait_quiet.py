"""The drain's waits on a node's workers: while the node still serves its sticky users one read of
Busy 0 ends the wait, and a node busy on every read ends it after the patience with a word;
once nothing is routed there, only a run of quiet reads ends it and a busy node never does."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest

from console.operations import common
from console.operations.context import WorkerRef
from probes.balancer.model import make_worker


class Clock:
    """The waits' clock: every balancer read takes one second."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeRun:
    def __init__(self, clock: Clock, busy: list[int], elected_step: int) -> None:
        self.clock = clock
        self.busy = busy
        self.elected = 0
        self.elected_step = elected_step
        self.reads = 0
        self.ctx = SimpleNamespace(node=SimpleNamespace(name="node1"), workers=self._workers)
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    async def _workers(self) -> list[WorkerRef]:
        self.clock.now += 1.0
        busy = self.busy[min(self.reads, len(self.busy) - 1)]
        self.reads += 1
        self.elected += self.elected_step
        worker = make_worker(
            "http://10.0.0.1:8080",
            route="n1",
            status="Init Drn Ok",
            busy=busy,
            elected=self.elected,
        )
        return [WorkerRef("httpd", "cluster", worker)]

    def waiting(self, what: str, figures: dict[str, Any] | None = None) -> None:
        self.events.append(("waiting", what, dict(figures or {})))

    def observed(self, text: str) -> None:
        self.events.append(("observed", text, {}))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(common, "_now", clock)
    monkeypatch.setattr(common, "POLL", 0.0)
    return clock


async def _wait(run: FakeRun, *, sticky: bool, min_seconds: float = 0.0) -> None:
    await asyncio.wait_for(
        common.wait_quiet(
            cast(Any, run), what="node1 quiet", still_elected_ok=sticky, min_seconds=min_seconds
        ),
        5,
    )


async def test_one_read_of_busy_0_ends_the_wait_while_sticky_users_are_served(
    clock: Clock,
) -> None:
    run = FakeRun(clock, [3, 2, 0, 4], elected_step=30)
    await _wait(run, sticky=True)
    assert run.reads == 3
    assert not [e for e in run.events if e[0] == "observed"]


async def test_a_node_busy_on_every_read_ends_the_drained_wait_after_the_patience(
    clock: Clock,
) -> None:
    """The rolling restart that timed out after 300 s in CI: the drained node's sticky users
    kept it busy on every read, and the wait (one read of Busy 0) never ended."""
    run = FakeRun(clock, [2], elected_step=30)
    await _wait(run, sticky=True, min_seconds=10)
    seconds = [e[2]["seconds"] for e in run.events if e[0] == "waiting"]
    assert seconds[-1] >= 10 + common.STICKY_PATIENCE
    assert seconds[-2] < 10 + common.STICKY_PATIENCE
    assert run.events[-1][0] == "observed"
    assert run.events[-1][1].startswith("node1 still serves its sticky users (Busy 2 on every read")


async def test_the_drain_time_is_waited_out_even_when_busy_reads_0(clock: Clock) -> None:
    run = FakeRun(clock, [0], elected_step=30)
    await _wait(run, sticky=True, min_seconds=5)
    assert run.reads == 5  # 5 s of reads, one a second


async def test_once_nothing_is_routed_a_busy_node_keeps_the_wait_going(clock: Clock) -> None:
    run = FakeRun(clock, [1], elected_step=0)
    task = asyncio.create_task(_wait(run, sticky=False))
    while run.reads < 200:
        await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not [e for e in run.events if e[0] == "observed"]


async def test_once_nothing_is_routed_three_quiet_reads_end_the_wait(clock: Clock) -> None:
    run = FakeRun(clock, [1, 0, 0, 0, 0], elected_step=0)
    await _wait(run, sticky=False)
    assert [e[2]["quiet_reads"] for e in run.events] == [0, 1, 2, 3]
