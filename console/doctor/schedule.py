"""The doctor in the interactive console: run once at start, then every few minutes and on
demand, never on every poll (a run opens its own SSH sessions and reads a dozen files per node).

The views read `report` and `problems` (the findings as problems for the problems panel); the
app is told through `subscribe` when a run ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from console.cluster.crosschecks import Problem
from console.config.model import Inventory
from console.doctor.model import DoctorReport, Finding
from console.doctor.run import memory_file, run_doctor

log = logging.getLogger(__name__)

INTERVAL = 300.0
"""Seconds between two runs when nobody asks for one."""

Runner = Callable[..., Awaitable[DoctorReport]]


async def _run_doctor(
    inventory: Inventory, *, memory: Path | None, read_only: bool
) -> DoctorReport:
    """`run_doctor`, looked up when called (tests replace it)."""
    return await run_doctor(inventory, memory=memory, read_only=read_only)


def as_problem(finding: Finding) -> Problem:
    """A finding as the problems panel shows it: code ``doctor-CHECK``, the file in the text."""
    where = ""
    if finding.file:
        where = f" ({finding.file}" + (f":{finding.line})" if finding.line else ")")
    return Problem(
        finding.severity,
        f"doctor-{finding.check}",
        finding.node,
        finding.text + where,
        subject=finding.file,
    )


class DoctorSchedule:
    """Runs the doctor at start, every `interval` seconds, and when `request` is called."""

    def __init__(
        self,
        inventory: Inventory,
        *,
        read_only: bool,
        interval: float = INTERVAL,
        runner: Runner | None = None,
        memory: Path | None = None,
    ) -> None:
        self.inventory = inventory
        self.read_only = read_only
        self.interval = interval
        self._runner = runner or _run_doctor
        self._memory = memory if memory is not None else memory_file()
        self.report: DoctorReport | None = None
        self.error: str | None = None
        self.running = False
        self.finished_at: float | None = None
        self.version = 0
        """Grows when a run starts or ends: what the views compare to repaint."""
        self._wake = asyncio.Event()
        self._listeners: list[Callable[[], None]] = []

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(as_problem(f) for f in self.report.findings) if self.report else ()

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def request(self) -> None:
        """Run again now (or right after the run in progress)."""
        self._wake.set()

    def _changed(self) -> None:
        self.version += 1
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a view's bug must not stop the schedule
                log.exception("doctor listener failed")

    async def run_once(self) -> None:
        self.running = True
        self._changed()
        try:
            self.report = await self._runner(
                self.inventory, memory=self._memory, read_only=self.read_only
            )
            self.error = None
        except Exception as exc:  # remote trouble is in the report; this is our own failure
            log.exception("the doctor failed")
            self.error = f"the doctor could not run ({type(exc).__name__})"
        finally:
            self.running = False
            self.finished_at = time.time()
            self._changed()

    async def run(self) -> None:
        """Forever (until cancelled): a run, then wait for the interval or a request."""
        while True:
            self._wake.clear()
            await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
