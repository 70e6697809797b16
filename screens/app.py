"""The Textual application shell: the interactive session and the read-only wall screen.

The app owns the one `Monitor` (or, in tests, a state fed through `apply`), keeps the newest
snapshot and hands it to the active view through `show_state` at most `DELIVERY_HZ` times a
second (and at once when a view becomes active), so a burst of observations costs one render.
It also owns view switching (modes), the key map, the command palette, themes and the live
reload of cluster.toml. Watch mode (`read_only=True`) never constructs anything that can change
the cluster: no audit log, no worker actions, no wizard, and no binding or command for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, ScreenStackError, SystemCommand, UnknownModeError
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer

import themes
from console import exitcodes
from console.cluster.crosschecks import Problem, problems
from console.cluster.observations import Observation
from console.cluster.state import ClusterState
from console.config.errors import ConfigError
from console.config.model import Inventory
from screens.commands import ConsoleCommand, ConsoleCommands
from screens.dashboard import DashboardScreen
from screens.help import HelpScreen, KeyHelp, console_binding
from screens.host import StateView
from screens.login import LoginPrompts
from screens.operator_dashboard import OperatorDashboardScreen
from screens.palette import palette_commands
from screens.unavailable import UnavailableView
from screens.watch import Banner, Incident, WatchBar, incidents
from screens.widgets.export import Format, export_view

if TYPE_CHECKING:  # imported when the monitor starts, after the first frame (asyncssh is slow)
    from console.audit import AuditLog
    from console.deploy.schedule import DriftSchedule
    from console.doctor.schedule import DoctorSchedule
    from console.monitor.runner import Monitor
    from console.operations.workers import WorkerActions

log = logging.getLogger(__name__)

DELIVERY_HZ = 4.0
"""Most snapshots a view is shown per second; newer ones replace older ones in between."""

SCHEDULE_STOP = 10.0
"""Seconds the exit waits for the doctor's and the drift's pass to end (children reaped)."""

MIN_CYCLE = 1.0
"""Shortest --cycle period: each view gets time to mount and render before the next."""

VIEWS: tuple[tuple[str, str, str, str], ...] = (
    ("dashboard", "1", "Nodes", ""),
    ("events", "2", "Events", "screens.events:EventsScreen"),
    ("balancer", "3", "Balancer", "screens.balancer:BalancerScreen"),
    ("database", "4", "Database", "screens.database:DatabaseScreen"),
    ("doctor", "5", "Doctor", "screens.doctor:DoctorScreen"),
)
"""(mode, key, title, "module:Class") of each top-level view."""

Clock = Callable[[], datetime]


def _local_now() -> datetime:
    return datetime.now().astimezone()


def _freeze_survivors() -> None:
    """Collect once, then exempt every survivor from later full collections."""
    gc.collect()
    gc.freeze()


def _import(target: str) -> Any | None:
    """The class named by ``module:Class``, or None if it cannot be imported (yet)."""
    module, _, name = target.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def wizard_screen_class() -> Any | None:
    """``screens.wizard.WizardScreen`` once it exists, else None."""
    return _import("screens.wizard:WizardScreen")


class ClusterConsoleApp(App[int]):
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
        self.logins: LoginPrompts | None = None
        """Answers keyboard-interactive logins (never in watch mode)."""
        self.doctor: DoctorSchedule | None = None
        """The doctor's schedule (`console.doctor.schedule.DoctorSchedule`) once started."""
        self.deploy_drift: DriftSchedule | None = None
        """The deploy drift's schedule (`console.deploy.schedule.DriftSchedule`) once started."""
        """The last broken edit of cluster.toml (the last good inventory stays in force)."""
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

    def _themed(self, base_name: str) -> str:
        """The theme to use for ``base_name``: its per-cluster accent variant when one is set."""
        color = themes.valid_color(self.inventory.cluster.color)
        base = self.available_themes.get(base_name)
        if base is None:
            raise ValueError(
                f"unknown theme {base_name!r}; try one of: "
                + ", ".join(sorted({*themes.ALIASES, *self.available_themes}))
            )
        if color is None:
            return base_name
        accented = themes.accent_theme(base, color, self.inventory.cluster.name)
        self.register_theme(accented)
        return accented.name

    def _build_operator_tools(self) -> None:
        """The audit log of the interactive session (never in watch mode)."""
        from console.audit import AuditLog

        self.audit = AuditLog.from_env("interactive", self.inventory.cluster.name)

    def _build_worker_actions(self) -> None:
        """The balancer worker actions (never in watch mode), built after the first frame: they
        load the HTTP client, which the first frame does not need."""
        if self.read_only or self.audit is None or self.worker_actions is not None:
            return
        actions = _import("console.operations.workers:WorkerActions")
        if actions is not None:
            try:
                self.worker_actions = actions(self.inventory, self.audit)
            except Exception:  # a half-built operations layer must not stop the console
                log.exception("cannot construct the worker actions")
                self.worker_actions = None

    def _view_factory(self, view: str, target: str) -> Callable[[], Screen[Any]]:
        def build() -> Screen[Any]:
            if view == "dashboard":
                if self.read_only:
                    return DashboardScreen(watch=True)
                return OperatorDashboardScreen()
            cls = _import(target)
            return cls() if cls is not None else UnavailableView(view)

        return build

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

    def _show_wall(self, screen: Screen[Any], state: ClusterState) -> None:
        """The wall's state words on whichever view is shown (every view has the bar)."""
        bars = list(screen.query(WatchBar))
        if not bars:
            return
        if self._wall_problems[0] != state.version:
            self._wall_problems = (state.version, tuple(problems(state)))
        for bar in bars:
            bar.show(state, self._wall_problems[1])

    def _watch_incidents(self, old: ClusterState, new: ClusterState) -> None:
        found = incidents(old, new)
        if not found:
            return
        incident = Incident(self.clock(), found[-1])
        self._incident = incident
        # Every view of the wall has the banner: raise it on all of them (no toast needed).
        for stack in self._screen_stacks.values():
            for screen in stack:
                for banner in screen.query(Banner):
                    banner.raise_incident(incident)

    @property
    def incident(self) -> Incident | None:
        """The latest incident raised on the wall screen's banner."""
        return self._incident

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

    def _start_reload(self) -> None:
        self.run_worker(self._watch_config(), name="reload", exit_on_error=False)

    async def on_unmount(self) -> None:
        from probes.ssh.prompt import set_kbdint_prompt

        set_kbdint_prompt(None)
        await self._stop_schedules()
        await self._stop_monitor()
        actions, self.worker_actions = self.worker_actions, None
        if actions is not None:
            await actions.aclose()

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

    async def _start_monitor(self, inventory: Inventory) -> None:
        from console.monitor.runner import Monitor, MonitorOptions

        monitor = Monitor(inventory, MonitorOptions(read_only=self.read_only))
        monitor.subscribe(self._on_state)
        self.monitor = monitor
        self._state = monitor.state
        await monitor.start()

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

    async def _stop_monitor(self) -> None:
        monitor, self.monitor = self.monitor, None
        if monitor is not None:
            monitor.unsubscribe(self._on_state)
            await monitor.stop()

    def _tick(self) -> None:
        """Once a second on the wall: the clock and the banner's expiry, on the view shown."""
        try:
            screen = self.screen
        except (ScreenStackError, UnknownModeError):
            return
        now = self.clock()
        for bar in screen.query(WatchBar):
            bar.tick()
        for banner in screen.query(Banner):
            banner.expire(now)

    # -- live reload ---------------------------------------------------------------------------

    async def _watch_config(self) -> None:
        from console.config.reload import watch_inventory

        async for result in watch_inventory(self.inventory):
            if isinstance(result, ConfigError):
                self.show_config_error(result)
            else:
                await self.replace_inventory(result)

    def show_config_error(self, error: ConfigError) -> None:
        """A broken edit: say so, keep the last good inventory running."""
        self.config_error = str(error)
        self._generation += 1
        self.notify(
            "cluster.toml has errors; keeping the last good inventory",
            severity="error",
            timeout=10,
        )
        self.deliver_now()

    async def replace_inventory(self, inventory: Inventory) -> None:
        """A valid edit: a new monitor on the new inventory (nodes added or removed)."""
        self.inventory = inventory
        self.config_error = None
        self._generation += 1
        if self.worker_actions is not None:  # its balancers are the old inventory's
            old, self.worker_actions = self.worker_actions, None
            await old.aclose()
            self._build_worker_actions()
        if self.monitor is not None or self._use_monitor:
            await self._stop_monitor()
            await self._start_monitor(inventory)
        if self.doctor is not None:
            self.workers.cancel_group(self, "doctor")
            self.start_doctor()
        if self.deploy_drift is not None:
            self.workers.cancel_group(self, "deploy-drift")
            self.deploy_drift = None
            self.start_drift()
        else:
            self._state = ClusterState.initial(inventory)
        self._watched_state = self._state
        self.title = f"clusterconsole · {inventory.cluster.name}"
        self.notify(f"inventory reloaded: {len(inventory.nodes)} nodes", timeout=5)
        self.deliver_now()

    # -- actions -------------------------------------------------------------------------------

    def available_views(self) -> list[str]:
        """Views that exist in this build, in key order."""
        return [view for view, _k, _t, target in VIEWS if not target or _import(target)]

    async def action_view(self, view: str) -> None:
        """Switch to a top-level view (its own stack is kept)."""
        if view not in self._modes:
            return
        await self.switch_mode(view)
        self.deliver_now()

    async def next_view(self) -> None:
        """The next available view (watch mode's --cycle)."""
        if self._switching or len(self.screen_stack) > 1 or isinstance(self.screen, HelpScreen):
            return
        views = self.available_views()
        current = self.current_mode
        following = views[(views.index(current) + 1) % len(views)] if current in views else views[0]
        self._switching = True
        try:
            await self.action_view(following)
        except Exception:  # a wall screen must keep running whatever a view does
            log.exception("cannot cycle to the %s view", following)
        finally:
            self._switching = False

    async def action_back(self) -> None:
        """Esc: close the filter, else the pushed view, else back to the dashboard."""
        screen = self.screen
        if isinstance(screen, DashboardScreen) and screen.clear_filter():
            return
        if len(self.screen_stack) > 1:
            self.pop_screen()
            self.call_after_refresh(self.deliver_now)
            return
        if self.current_mode != "dashboard":
            await self.action_view("dashboard")

    def action_refresh(self) -> None:
        """Probe everything again now (every poll and SSH reconnect), and redraw; a node whose
        keyboard-interactive login was cancelled is asked again."""
        if self.logins is not None:
            self.logins.retry()
        if self.monitor is not None:
            self.monitor.reprobe()
        self.deliver_now()

    def action_next_theme(self) -> None:
        names = [themes.DARK.name, themes.LIGHT.name, themes.WALL.name]
        index = names.index(self._theme_base) if self._theme_base in names else -1
        self.set_theme(names[(index + 1) % len(names)])

    def set_theme(self, base_name: str) -> None:
        """Switch theme (keeping the cluster's accent colour) and say which one is active."""
        self._theme_base = themes.resolve(base_name, watch=self.read_only)
        self.theme = self._themed(self._theme_base)
        self.notify(f"theme: {self._theme_base}", timeout=3, markup=False)
        self.deliver_now()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own palette entries, less Quit: the console lists its own (key q)."""
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self._help_title(), self.key_help()))

    def _help_title(self) -> str:
        mode = "watch mode (read-only)" if self.read_only else "interactive session"
        return f"clusterconsole, {mode}: keys of this view"

    def key_help(self) -> list[KeyHelp]:
        """Every binding active on the current view, with description and id."""
        found: list[KeyHelp] = []
        seen: set[tuple[str, str]] = set()
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if binding.system or not active.enabled or not console_binding(active.node, binding):
                continue
            marker = (binding.action, binding.id or key)
            if marker in seen:
                continue
            seen.add(marker)
            display = binding.key_display or self.get_key_display(binding)
            found.append(KeyHelp(display, binding.description or binding.action, binding.id or "-"))
        found.sort(key=lambda item: item.id == "-")  # ours first, then the widget's own keys
        return found

    def open_node(self, node: str) -> None:
        """Enter on a dashboard row: the node's live view, pushed over the current one."""
        cls = _import("screens.node:NodeScreen")
        if cls is None:
            self.notify("the node view is not available in this build", severity="warning")
            return
        self.push_screen(cls(node))
        self.call_after_refresh(self.deliver_now)

    def open_wizard(self, wizard: str, node: str) -> None:
        """A wizard on a node (drain, rejoin) or on nodes ("node1,node2": rolling-restart);
        never in watch mode."""
        if self.read_only:
            return
        cls = wizard_screen_class()
        if cls is None:
            self.notify("wizards are not available in this build", severity="warning")
            return
        self.push_screen(cls(wizard, node))

    def console_commands(self) -> list[ConsoleCommand]:
        """Every action, for the command palette (`screens/palette.py`)."""
        return palette_commands(self)

    async def switch_context(self, name: str) -> bool:
        """Watch and operate another cluster (an inventory of the contexts directory): a new
        monitor, its accent colour, its audit log; refused while a wizard is open."""
        from console.config import load_inventory
        from console.config.contexts import context_path

        wizard = wizard_screen_class()
        if wizard is not None and any(isinstance(s, wizard) for s in self.screen_stack):
            self.notify("finish or close the wizard first", severity="warning", markup=False)
            return False
        try:
            inventory = load_inventory(context_path(name))
        except ConfigError as error:
            self.notify(f"context {name}: {error}", severity="error", timeout=10, markup=False)
            return False
        for worker in list(self.workers):
            if worker.name == "reload":
                worker.cancel()
        await self.replace_inventory(inventory)
        self.theme = self._themed(self._theme_base)  # the cluster's own accent colour
        if not self.read_only:
            self._build_operator_tools()  # its audit lines name the new cluster
        if self._reload and inventory.path.exists():
            self._start_reload()
        self.notify(f"context {name}: cluster {inventory.cluster.name}", markup=False)
        return True

    def export_view_as(self, fmt: Format) -> None:
        export_view(self.screen, fmt)

    def filter_from_palette(self) -> None:
        screen = self.screen
        if isinstance(screen, DashboardScreen):
            screen.call_later(screen.action_filter)


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
