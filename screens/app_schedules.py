"""What the app runs in the background: the monitor (every poll), the doctor (at start, every
few minutes and on demand) and the deploy drift (`deploy --check`, at start and every few
minutes); started after the first frame, stopped before the loop closes."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from console.cluster.state import ClusterState
from console.config.model import Inventory
from screens.app_part import AppPart
from screens.login import LoginPrompts

if TYPE_CHECKING:  # imported when the monitor starts, after the first frame (asyncssh is slow)
    from console.deploy.schedule import DriftSchedule
    from console.doctor.schedule import DoctorSchedule
    from console.monitor.runner import Monitor

SCHEDULE_STOP = 10.0
"""Seconds the exit waits for the doctor's and the drift's pass to end (children reaped)."""


class SchedulesPart(AppPart):
    """Starting, stopping and asking the monitor, the doctor and the deploy drift."""

    inventory: Inventory
    read_only: bool
    monitor: Monitor | None
    doctor: DoctorSchedule | None
    deploy_drift: DriftSchedule | None
    logins: LoginPrompts | None
    _state: ClusterState
    _generation: int

    if TYPE_CHECKING:

        def deliver_now(self) -> None: ...

        def _on_state(self, state: ClusterState) -> None: ...

    async def _start_monitor(self, inventory: Inventory) -> None:
        from console.monitor.runner import Monitor, MonitorOptions

        monitor = Monitor(inventory, MonitorOptions(read_only=self.read_only))
        monitor.subscribe(self._on_state)
        self.monitor = monitor
        self._state = monitor.state
        await monitor.start()

    async def _stop_monitor(self) -> None:
        monitor, self.monitor = self.monitor, None
        if monitor is not None:
            monitor.unsubscribe(self._on_state)
            await monitor.stop()

    def start_doctor(self) -> None:
        """The doctor: at start, every few minutes and on demand (never on every poll)."""
        from console.doctor.schedule import DoctorSchedule

        doctor = DoctorSchedule(self.inventory, read_only=self.read_only)
        doctor.subscribe(self._doctor_changed)
        self.doctor = doctor
        self.run_worker(doctor.run(), name="doctor", group="doctor", exit_on_error=False)

    def start_drift(self) -> None:
        """The deploy drift (`deploy --check`): at start and every few minutes, never on every
        poll; not in watch mode (a pass takes the deploy lock) nor without ``[deploy]``."""
        if self.read_only or self.inventory.deploy is None:
            return
        from console.deploy.schedule import DriftSchedule

        drift = DriftSchedule(self.inventory)
        drift.subscribe(self._doctor_changed)
        self.deploy_drift = drift
        self.run_worker(drift.run(), name="deploy-drift", group="deploy-drift", exit_on_error=False)

    def _doctor_changed(self) -> None:
        self._generation += 1  # the active view is shown again (problems panel, doctor view)
        self.deliver_now()

    def action_run_doctor(self) -> None:
        if self.doctor is not None:
            self.doctor.request()

    async def _stop_schedules(self) -> None:
        """End the doctor's and the deploy drift's passes before the loop closes: a pass cut off
        by the exit left its rsync child to be collected after the loop had closed, and Python
        printed "Event loop is closed" over the operator's terminal."""
        running = [w for w in self.workers if w.group in ("doctor", "deploy-drift")]
        for worker in running:
            worker.cancel()
        for worker in running:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(worker.wait(), SCHEDULE_STOP)

    def action_refresh(self) -> None:
        """Probe everything again now (every poll and SSH reconnect), and redraw; a node whose
        keyboard-interactive login was cancelled is asked again."""
        if self.logins is not None:
            self.logins.retry()
        if self.monitor is not None:
            self.monitor.reprobe()
        self.deliver_now()
