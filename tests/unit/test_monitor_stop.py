"""`Monitor.stop` ends even when a probe task swallows its cancellation (Python 3.11's
`asyncio.wait_for` can return instead of raising when its inner wait completes in the same turn):
a scripted wizard whose last step was done hung for ever in the monitor's stop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from console.monitor.runner import Monitor
from console.monitor.tasks import cancel_and_wait
from tests.inventories import three_nodes


async def _stubborn(swallow: int, ended: list[str]) -> None:
    """A loop that carries on after its first `swallow` cancellations, like a poll whose
    `wait_for` lost the cancellation."""
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if swallow == 0:
                ended.append("cancelled")
                raise
            swallow -= 1


async def test_a_task_that_swallows_a_cancellation_is_cancelled_again() -> None:
    ended: list[str] = []
    tasks = [asyncio.create_task(_stubborn(2, ended)), asyncio.create_task(_stubborn(0, ended))]
    await asyncio.sleep(0)
    left = await asyncio.wait_for(cancel_and_wait(tasks), 60)  # the guard only: never reached
    assert left == [] and ended == ["cancelled", "cancelled"]
    assert all(task.cancelled() for task in tasks)


async def test_one_that_never_ends_is_named_and_left_behind() -> None:
    release = asyncio.Event()

    async def deaf() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(deaf(), name="probe-that-never-ends")
    await asyncio.sleep(0)
    left = await asyncio.wait_for(cancel_and_wait([task], patience=0.6), 60)
    assert left == ["probe-that-never-ends"] and not task.done()
    release.set()
    task.cancel()
    await task


async def test_the_monitor_stops_although_a_probe_swallowed_its_cancellation(
    tmp_path: Path,
) -> None:
    monitor = Monitor(three_nodes(tmp_path))
    ended: list[str] = []
    monitor._tasks.append(asyncio.create_task(_stubborn(1, ended)))
    await asyncio.sleep(0)
    await asyncio.wait_for(monitor.stop(), 60)  # the guard only: it returned at once
    assert ended == ["cancelled"]
