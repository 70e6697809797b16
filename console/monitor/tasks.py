"""Probe tasks that outlive their own bugs, and the pauses between polls that `r` cuts short."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

PROBE_RESTART = 5.0
"""Seconds before a probe that ended on an unexpected error is started again."""


class Pacer:
    """The pauses between polls of every probe, all cut short at once by `wake`.

    `wake` is the operator's "re-probe now" (`r`): every poll asleep in `sleep` runs at once,
    whatever its interval or backoff. A poll that is running when `wake` comes is not repeated.
    """

    def __init__(self) -> None:
        self._sleepers: set[asyncio.Future[bool]] = set()

    def wake(self) -> None:
        """End every pause now (the sleepers of this moment only; later ones sleep normally)."""
        sleepers, self._sleepers = self._sleepers, set()
        for sleeper in sleepers:
            if not sleeper.done():
                sleeper.set_result(True)

    async def sleep(self, seconds: float) -> bool:
        """Pause ``seconds``; True when `wake` cut the pause short.

        One future and one timer per pause (500 nodes' polls pause a hundred times a second:
        `asyncio.wait_for` on an event made a task and raised a TimeoutError for each)."""
        loop = asyncio.get_running_loop()
        sleeper: asyncio.Future[bool] = loop.create_future()
        self._sleepers.add(sleeper)
        timer = loop.call_later(seconds, _ring, sleeper)
        try:
            return await sleeper
        finally:
            timer.cancel()
            self._sleepers.discard(sleeper)


def _ring(sleeper: asyncio.Future[bool]) -> None:
    if not sleeper.done():
        sleeper.set_result(False)


async def keep_running(probe: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
    """Run a probe until it returns; if a bug ends it, log it and start it again after a pause,
    so one unexpected answer never leaves a part of the cluster unwatched for the rest of the
    run."""
    while True:
        try:
            await probe()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("probe %s failed; restarting it in %.0f s", name, PROBE_RESTART)
        await asyncio.sleep(PROBE_RESTART)


async def cancel_and_wait(tasks: list[asyncio.Task[Any]], *, patience: float = 10.0) -> list[str]:
    """Cancel `tasks` and wait until every one has ended; the names of those still running after
    `patience` seconds (left behind, logged) — never a wait for ever.

    A task can swallow a cancellation: in Python 3.11 `asyncio.wait_for` returns the inner result
    instead of raising when the inner wait finishes in the same turn the cancellation arrives, so a
    poll loop pausing in `wait_for` carries on. One cancel and a bare `gather` then hung a scripted
    wizard after its last step (the outcome written, the process never exiting). Each round here
    cancels again whatever still runs."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)
        if pending and loop.time() >= deadline:
            names = sorted(task.get_name() for task in pending)
            log.warning("tasks still running after %.0f s, left behind: %s", patience, names)
            return names
    for task in tasks:  # retrieve every outcome: no "exception was never retrieved" at exit
        if task.done() and not task.cancelled():
            task.exception()
    return []
