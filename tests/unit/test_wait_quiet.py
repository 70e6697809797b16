"""The drain's waits on a node's workers: while the node still serves its sticky users one read of
Busy 0 ends the wait, and a node busy on every read ends it after the patience with a word;
once nothing is routed there, only a run of quiet reads ends it and a busy node never does, unless
its Busy count has stood still and its Tomcat says it serves nothing (httpd's stale count)."""

from __future__ import annotations

import asyncio
import itertools
from types import SimpleNamespace
from typing import Any, cast

import pytest

from console.operations import common, stale_busy
from console.operations.context import WorkerRef
from console.operations.in_flight import InFlight, count_in_flight
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
        self.ctx = SimpleNamespace(
            node=SimpleNamespace(name="node1"), workers=self._workers, in_flight=self._in_flight
        )
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.tomcat = InFlight(1)
        """What the node's Tomcat answers: by default one request really in flight."""
        self.asked: list[float] = []

    async def _in_flight(self) -> InFlight:
        self.asked.append(self.clock.now)
        return self.tomcat

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


async def test_a_busy_count_that_stands_still_ends_the_wait_when_tomcat_serves_nothing(
    clock: Clock,
) -> None:
    """The rolling restarts that timed out in CI: after the disable, httpd showed Busy 1 with
    nothing elected for 120 s (a lost decrement); the node served no request."""
    run = FakeRun(clock, [1], elected_step=0)
    run.tomcat = InFlight(0)
    await _wait(run, sticky=False)
    assert len(run.asked) == 1
    waited = [e[2]["seconds"] for e in run.events if e[0] == "waiting"]
    assert waited[-1] <= stale_busy.STALE_AFTER + 1  # the first read has no rate yet
    kind, text, _ = run.events[-1]
    assert kind == "observed"
    assert "Busy 1 with no request routed to node1" in text
    assert "Tomcat serves no request" in text and "stale" in text


async def test_a_request_tomcat_still_serves_keeps_the_wait_until_busy_falls(
    clock: Clock,
) -> None:
    run = FakeRun(clock, [1] * 40 + [0], elected_step=0)
    await _wait(run, sticky=False)
    assert len(run.asked) >= 5  # asked again and again while the request ran
    assert all(b - a >= stale_busy.ASK_EVERY for a, b in itertools.pairwise(run.asked))
    assert not [e for e in run.events if e[0] == "observed"]
    answers = [e[2].get("tomcat_in_flight") for e in run.events if e[2]["busy"] == 1]
    first = answers.index(1)  # Tomcat's answer is shown with every read after the first
    assert first >= stale_busy.STALE_AFTER - 1 and set(answers[first:]) == {1}
    assert run.events[-1][2]["quiet_reads"] == 3


async def test_a_node_that_cannot_be_asked_is_waited_on_saying_why_once(clock: Clock) -> None:
    run = FakeRun(clock, [1] * 60 + [0], elected_step=0)
    run.tomcat = InFlight(None, "no [metrics] manager_user in cluster.toml")
    await _wait(run, sticky=False)
    told = [e[1] for e in run.events if e[0] == "observed"]
    assert len(told) == 1
    assert "may be stale" in told[0] and "no [metrics] manager_user" in told[0]
    assert run.events[-1][2]["quiet_reads"] == 3


async def test_tomcat_is_not_asked_while_requests_are_still_routed_to_the_node(
    clock: Clock,
) -> None:
    run = FakeRun(clock, [1] * 40 + [0], elected_step=5)
    run.tomcat = InFlight(0)
    task = asyncio.create_task(_wait(run, sticky=False))
    while run.reads < 60:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert run.asked == []


async def test_a_busy_count_that_moves_restarts_the_clock(clock: Clock) -> None:
    run = FakeRun(clock, [1, 2] * 20 + [1], elected_step=0)
    run.tomcat = InFlight(0)
    await _wait(run, sticky=False)
    assert run.reads >= 41 + int(stale_busy.STALE_AFTER)


def test_the_read_that_asks_is_not_counted_as_a_request_in_flight() -> None:
    assert count_in_flight([1, 0]) == 0
    assert count_in_flight([3, None]) == 2
    assert count_in_flight([None]) is None
    assert count_in_flight([0]) == 0
