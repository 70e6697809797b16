"""The Textual application shell: the interactive session and the read-only wall screen.

The app owns the one `Monitor` (or, in tests, a state fed through `apply`), keeps the newest
snapshot and hands it to the active view through `show_state` at most `DELIVERY_HZ` times a
second (and at once when a view becomes active), so a burst of observations costs one render.
It also owns view switching (modes), the key map, the command palette, themes and the live
reload of cluster.toml. Watch mode (`read_only=True`) never constructs anything that can change
the cluster: no audit log, no worker actions, no wizard, and no binding or command for them.

This module is the shell: construction, the snapshots' delivery and the lifecycle. Each other
concern is a part the app inherits (`screens/app_part.py`): the views and navigation
(`app_views.py`), the monitor, doctor and drift (`app_schedules.py`), the inventory's reload and
the context switch (`app_inventory.py`), themes and help (`app_chrome.py`) and the wall's chrome
(`app_wall.py`).
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, ScreenStackError, UnknownModeError
from textual.binding import Binding, BindingType
from textual.timer import Timer

import themes
from console import exitcodes
from console.cluster.crosschecks import Problem
from console.cluster.observations import Observation
from console.cluster.state import ClusterState
from console.config.model import Inventory
from screens.app_chrome import ChromePart
from screens.app_inventory import InventoryPart
from screens.app_views import VIEWS, ViewsPart, import_target, wizard_screen_class
from screens.app_wall import Clock, WallPart
from screens.commands import ConsoleCommand, ConsoleCommands
from screens.host import StateView
from screens.login import LoginPrompts
from screens.palette import palette_commands
from screens.watch import Incident

if TYPE_CHECKING:  # imported when the monitor starts, after the first frame (asyncssh is slow)
    from console.audit import AuditLog
    from console.deploy.schedule import DriftSchedule
    from console.doctor.schedule import DoctorSchedule
    from console.monitor.runner import Monitor
    from console.operations.workers import WorkerActions

__all__ = [
    "DELIVERY_HZ",
    "LOG_NAME",
    "MIN_CYCLE",
    "VIEWS",
    "ClusterConsoleApp",
    "logs_off_the_terminal",
    "run_interactive",
    "wizard_screen_class",
]

log = logging.getLogger(__name__)

DELIVERY_HZ = 4.0
"""Most snapshots a view is shown per second; newer ones replace older ones in between."""

MIN_CYCLE = 1.0
"""Shortest --cycle period: each view gets time to mount and render before the next."""


def _local_now() -> datetime:
    return datetime.now().astimezone()


def _freeze_survivors() -> None:
    """Collect once, then exempt every survivor from later full collections."""
    gc.collect()
    gc.freeze()


class ClusterConsoleApp(InventoryPart, ViewsPart, ChromePart, WallPart, App[int]):
    """The interactive session (and, with ``read_only``, the wall screen)."""

    TITLE = "clusterconsole"
    CSS_PATH = themes.CSS_PATH
    DEFAULT_MODE = "dashboard"
    COMMANDS: ClassVar[set[Any]] = {*App.COMMANDS, ConsoleCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("colon", "command_palette", "Commands", key_display=":", id="app.palette"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, id="app.palette-ctrl"),
        Binding("escape", "back", "Back", show=False, id="app.back"),
        Binding("1", "view('dashboard')", "Nodes", id="app.view-dashboard"),
        Binding("2", "view('events')", "Events", id="app.view-events"),
        Binding("3", "view('balancer')", "LB", id="app.view-balancer"),
        Binding("4", "view('database')", "DB", id="app.view-database"),
        Binding("5", "view('doctor')", "Doctor", id="app.view-doctor"),
        Binding("r", "refresh", "Refresh", show=False, id="app.refresh"),
        Binding("t", "next_theme", "Next theme", show=False, id="app.next-theme"),
    ]

    def __init__(
        self,
        inventory: Inventory,
        *,
        read_only: bool = False,
        theme: str | None = None,
        cycle: float | None = None,
        monitor: bool = True,
        clock: Clock | None = None,
        reload: bool | None = None,
    ) -> None:
        super().__init__()
        self.inventory = inventory
        self.read_only = read_only
        self.cycle = max(cycle, MIN_CYCLE) if cycle and cycle > 0 else None
        self.clock: Clock = clock or _local_now
        self.monitor: Monitor | None = None
        self.audit: AuditLog | None = None
        self.worker_actions: WorkerActions | None = None
        self.config_error: str | None = None
        """The last broken edit of cluster.toml (the last good inventory stays in force)."""
        self.logins: LoginPrompts | None = None
        """Answers keyboard-interactive logins (never in watch mode)."""
        self.doctor: DoctorSchedule | None = None
        """The doctor's schedule (`console.doctor.schedule.DoctorSchedule`) once started."""
        self.deploy_drift: DriftSchedule | None = None
        """The deploy drift's schedule (`console.deploy.schedule.DriftSchedule`) once started."""
        self._use_monitor = monitor
        self._reload = monitor if reload is None else reload
        self._state = ClusterState.initial(inventory)
        self._delivered: tuple[int, int, int] | None = None
        self._generation = 0
        self._watched_state = self._state
        self._incident: Incident | None = None
        self._wall_problems: tuple[int, tuple[Problem, ...]] = (-1, ())
        self._console_timers: list[Timer] = []
        self._switching = False
        self.title = f"clusterconsole · {inventory.cluster.name}"
        self.sub_title = "WATCH (read-only)" if read_only else "interactive"
        for view, _key, _title, target in VIEWS:
            self.add_mode(view, self._view_factory(view, target))
        self._theme_base = themes.resolve(theme, watch=read_only)
        for item in themes.THEMES.values():
            self.register_theme(item)
        self.theme = self._themed(self._theme_base)
        if not read_only:
            self._build_operator_tools()

    # -- construction --------------------------------------------------------------------------

    def _build_operator_tools(self) -> None:
        """The audit log of the interactive session (never in watch mode)."""
        from console.audit import AuditLog

        self.audit = AuditLog.from_env("interactive", self.inventory.cluster.name)

    def _build_worker_actions(self) -> None:
        """The balancer worker actions (never in watch mode), built after the first frame: they
        load the HTTP client, which the first frame does not need."""
        if self.read_only or self.audit is None or self.worker_actions is not None:
            return
        actions = import_target("console.operations.workers:WorkerActions")
        if actions is not None:
            try:
                self.worker_actions = actions(self.inventory, self.audit)
            except Exception:  # a half-built operations layer must not stop the console
                log.exception("cannot construct the worker actions")
                self.worker_actions = None

    @property
    def wizards_available(self) -> bool:
        """Node wizards (drain, rejoin) can be opened: only in the interactive session.

        Asked by every footer redraw, so it must not import the wizard screen (that loads the
        probes, half a second before the first frame); the screen is imported when opened."""
        return not self.read_only

    # -- state ---------------------------------------------------------------------------------

    @property
    def state(self) -> ClusterState:
        """The latest snapshot."""
        return self._state

    def apply(self, observation: Observation) -> None:
        """Feed one observation through the reducer (the monitor's when it runs)."""
        if self.monitor is not None:
            self.monitor.observe(observation)
        else:
            self._on_state(self._state.apply(observation))

    def _on_state(self, state: ClusterState) -> None:
        """The monitor's listener: keep only the newest snapshot; delivery is on a timer."""
        self._state = state

    def deliver_now(self) -> None:
        """Show the newest snapshot to the active view now (also used by tests)."""
        self._delivered = None
        self._deliver()

    def _deliver(self) -> None:
        try:
            screen = self.screen
        except (ScreenStackError, UnknownModeError):  # starting, stopping, between modes
            return
        state = self._state
        if self.read_only and state is not self._watched_state:
            self._watch_incidents(self._watched_state, state)
            self._watched_state = state
        key = (id(screen), state.version, self._generation)
        if key == self._delivered or not isinstance(screen, StateView):
            return
        if not screen.is_mounted or not screen.is_attached:  # composing, or going at exit
            return
        self._delivered = key
        try:
            screen.show_state(state)
            if self.read_only:
                self._show_wall(screen, state)
        except Exception:  # remote data must never crash the console
            log.exception("view %s failed to render a snapshot", type(screen).__name__)

    # -- lifecycle -----------------------------------------------------------------------------

    async def on_mount(self) -> None:
        self._install_login_prompts()
        self._console_timers.append(
            self.set_interval(1 / DELIVERY_HZ, self._deliver, name="deliver")
        )
        if self.read_only:
            self._console_timers.append(self.set_interval(1.0, self._tick, name="clock"))
        if self.cycle:
            self._console_timers.append(self.set_interval(self.cycle, self.next_view, name="cycle"))
        self.call_after_refresh(self.deliver_now)
        # What exists after the first frame (modules, widgets, the inventory) lives as long as the
        # app: keep it out of the collector's full passes (63 ms spikes with 500 nodes).
        self.call_after_refresh(self._build_worker_actions)
        self.call_after_refresh(_freeze_survivors)
        if self._use_monitor:
            # After the first frame: importing and starting the probes must not delay it.
            self.call_after_refresh(self._start_monitor, self.inventory)
            self.call_after_refresh(self.start_doctor)
            self.call_after_refresh(self.start_drift)
        if self._reload and self.inventory.path.exists():
            # watchfiles (and anyio under it) load in ~20 ms: after the first frame too.
            self.call_after_refresh(self._start_reload)

    def _install_login_prompts(self) -> None:
        """Keyboard-interactive logins (one-time codes): a masked prompt in the interactive
        session; none on the wall, whose nodes then say why they cannot log in."""
        from probes.ssh.prompt import set_kbdint_prompt

        if self.read_only:
            set_kbdint_prompt(
                None, why="watch mode never prompts for (log in with a key for the wall)"
            )
            return
        self.logins = LoginPrompts(self)
        set_kbdint_prompt(self.logins.ask)

    async def on_unmount(self) -> None:
        from probes.ssh.prompt import set_kbdint_prompt

        set_kbdint_prompt(None)
        await self._stop_schedules()
        await self._stop_monitor()
        actions, self.worker_actions = self.worker_actions, None
        if actions is not None:
            await actions.aclose()

    def console_commands(self) -> list[ConsoleCommand]:
        """Every action, for the command palette (`screens/palette.py`)."""
        return palette_commands(self)


def run_interactive(
    inventory: Inventory,
    theme: str | None = None,
    *,
    read_only: bool = False,
    cycle: float | None = None,
) -> int:
    """Run the session (or the wall screen) until the operator quits; returns the exit code."""
    try:
        app = ClusterConsoleApp(inventory, read_only=read_only, theme=theme, cycle=cycle)
    except ValueError as exc:
        import sys

        print(f"clusterconsole: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    with logs_off_the_terminal():
        result = app.run()
    return exitcodes.OK if result is None else result


LOG_NAME = "console.log"
"""Warnings and errors of an interactive session, in the user state directory."""


@contextmanager
def logs_off_the_terminal(path: Path | None = None) -> Iterator[Path | None]:
    """While the screen is drawn, log records go to a file (0600), never to the terminal.

    Without a handler, Python's logging writes warnings and tracebacks to stderr, which is the
    terminal Textual draws on: a view failing to render a snapshot printed a traceback over the
    screen (and after it, at exit). The file is ``console.log`` in the user state directory;
    when it cannot be opened, records are dropped. Yields the file's path (None: dropped)."""
    from console.paths import user_state_dir

    root = logging.getLogger()
    target = path or user_state_dir() / LOG_NAME
    written: Path | None = target
    handler: logging.Handler
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        handler = logging.StreamHandler(os.fdopen(descriptor, "a", encoding="utf-8"))
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    except OSError:
        handler, written = logging.NullHandler(), None
    handler.setLevel(logging.WARNING)
    saved = root.handlers[:]
    root.handlers = [handler]
    try:
        yield written
    finally:
        root.handlers = saved
        handler.close()
