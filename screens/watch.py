"""Watch-mode chrome for a wall screen: a clock, the cluster's state in large words, and a banner
when a member leaves or a worker errors.

The banner's incidents are found by comparing consecutive snapshots (`incidents`), a pure
function the app calls on every delivered state. Time comes from the app's clock, so a fixed
clock makes screenshots reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Digits, Header, Static

from console.cluster.crosschecks import Problem
from console.cluster.state import BalancerView, ClusterState
from screens.cells import safe, worker_words
from screens.widgets.common import host_of

BANNER_SECONDS = 300.0
"""How long an incident stays on the banner."""

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Incident:
    """Something a wall screen must shout about."""

    at: datetime
    text: str


def _worker_states(view: BalancerView) -> dict[str, str]:
    if view.page is None:
        return {}
    return {
        f"{balancer.name}/{worker.url}": worker_words(worker)
        for balancer in view.page.balancers
        for worker in balancer.workers
    }


def incidents(old: ClusterState, new: ClusterState) -> list[str]:
    """What happened between two snapshots that deserves a banner: a member left a node's view
    (live, not history), a worker went into error, a balancer became unreadable."""
    found: list[str] = []
    if new.events and new.events is not old.events:
        last = old.events[-1] if old.events else None
        fresh = []
        for record in reversed(new.events):
            if record is last:
                break
            fresh.append(record)
        for record in reversed(fresh):
            if record.event.kind == "member-left" and not record.backlog:
                member = safe(record.event.member or "a member", 80)
                found.append(f"MEMBER LEFT: {record.node} no longer sees {member}")
    if new.balancers is not old.balancers:
        before = {view.name: view for view in old.balancers}
        for view in new.balancers:
            previous = before.get(view.name)
            if previous is None or view is previous:
                continue
            if view.reachable is False and previous.reachable is not False:
                found.append(f"BALANCER UNREACHABLE: {view.name}: {safe(view.error, 80)}")
            was = _worker_states(previous)
            for key, state in _worker_states(view).items():
                if state in ("error", "unusable") and was.get(key) not in (None, state):
                    found.append(f"WORKER {state.upper()}: {view.name} {safe(key, 100)}")
    return found


def state_words(state: ClusterState, problems: tuple[Problem, ...]) -> tuple[str, str]:
    """The cluster's state as a few large words, and the style class that colours them. Nodes in
    maintenance are not counted as missing; they and acknowledged problems are named after."""
    critical = sum(1 for problem in problems if problem.severity == "critical")
    warning = len(problems) - critical
    in_maintenance = sum(1 for view in state.nodes if view.maintenance is not None)
    expected = len(state.nodes) - in_maintenance
    running = sum(
        1 for view in state.nodes if view.tomcat == "running" and view.maintenance is None
    )
    acked = sum(1 for ack in state.acknowledged.values() if ack.until.timestamp() > state.clock)
    notes = ""
    if in_maintenance:
        notes += f"  · {in_maintenance} IN MAINTENANCE"
    if acked:
        notes += f"  · {acked} ACKED"
    if critical:
        return f"CRITICAL  {critical}   WARNING  {warning}{notes}", "bad"
    if warning:
        return f"WARNING  {warning}{notes}", "warn"
    if running < expected:
        return f"{running} OF {expected} RUNNING{notes}", "warn"
    return f"ALL {expected} NODES OK{notes}", "ok"


class StateWord(Static):
    """The cluster's state in a tall block of colour with spaced capitals."""

    DEFAULT_CSS = """
    StateWord {
        width: 1fr;
        height: 3;
        content-align: center middle;
        text-style: bold;
    }
    StateWord.ok { background: $success; color: $background; }
    StateWord.warn { background: $warning; color: $background; }
    StateWord.bad { background: $error; color: $background; }
    """

    words = ""

    def show(self, words: str, level: str) -> None:
        self.words = words
        self._fit()
        for name in ("ok", "warn", "bad"):
            self.set_class(name == level, name)

    def _fit(self) -> None:
        """Spaced capitals when they fit on one line, else the plain words (80 columns)."""
        spaced = " ".join(self.words)
        width = self.content_region.width
        self.update(Text(spaced if not width or len(spaced) <= width else self.words, end=""))

    def on_resize(self) -> None:
        self._fit()


class Banner(Static):
    """The latest incident, shown for BANNER_SECONDS; hidden otherwise."""

    DEFAULT_CSS = """
    Banner {
        display: none;
        height: 3;
        content-align: center middle;
        background: $error;
        color: $background;
        text-style: bold;
    }
    Banner.shown { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.incident: Incident | None = None

    def on_mount(self) -> None:
        """A view opened while an incident is on the wall shows it too."""
        host = host_of(self.app)
        if host.incident is not None:
            self.raise_incident(host.incident)
            self.expire(host.clock())

    def raise_incident(self, incident: Incident) -> None:
        self.incident = incident
        self.update(Text(f"{incident.at:%H:%M:%S}  {incident.text}", end=""))
        self.add_class("shown")

    def expire(self, now: datetime) -> None:
        if self.incident is not None and (now - self.incident.at).total_seconds() > BANNER_SECONDS:
            self.incident = None
            self.remove_class("shown")


class WatchBar(Horizontal):
    """Clock, state words and the cluster's name across the top of a wall screen."""

    DEFAULT_CSS = """
    WatchBar { height: 3; dock: top; background: $panel; }
    WatchBar #watch-clock { width: auto; padding: 0 2; color: $foreground; }
    WatchBar #watch-cluster {
        width: auto; max-width: 40; height: 3; padding: 0 2; content-align: center middle;
        text-style: bold; background: $primary; color: $background;
    }
    """

    def __init__(self, clock: Clock, cluster: str) -> None:
        super().__init__()
        self._clock = clock
        self._cluster = cluster

    def compose(self) -> ComposeResult:
        yield Static(Text(safe(self._cluster, 36), end=""), id="watch-cluster", markup=False)
        yield StateWord("", id="watch-state", markup=False)
        yield Digits(self._time(), id="watch-clock")

    def _time(self) -> str:
        return f"{self._clock():%H:%M:%S}"

    def tick(self) -> None:
        """Redraw the clock (the app calls this every second). A bar whose children are not
        mounted yet (a view pushed a moment ago) has no clock to redraw: nothing to do."""
        for clock in self.query("#watch-clock").results(Digits):
            clock.update(self._time())

    def show(self, state: ClusterState, problems: tuple[Problem, ...]) -> None:
        for word in self.query(StateWord).results(StateWord):
            word.show(*state_words(state, problems))


def is_wall(app: Any) -> bool:
    """A read-only session with a clock: every view gets the wall's chrome."""
    return getattr(app, "read_only", False) is True and getattr(app, "clock", None) is not None


def watch_chrome(app: Any) -> Iterator[Widget]:
    """The top of a view: the title bar, or on a wall screen the clock and state bar and the
    incident banner (the same on every view, so a cycling wall never loses them)."""
    if is_wall(app):
        yield WatchBar(app.clock, app.inventory.cluster.name)
        yield Banner(id="banner")
    else:
        yield Header()


__all__ = [
    "BANNER_SECONDS",
    "Banner",
    "Incident",
    "StateWord",
    "WatchBar",
    "incidents",
    "is_wall",
    "state_words",
    "watch_chrome",
]
