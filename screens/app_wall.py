"""The wall screen's chrome (watch mode): the state words and the clock on every view's bar,
and the banner raised on every view when an incident happens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from textual.app import ScreenStackError, UnknownModeError
from textual.screen import Screen

from console.cluster.crosschecks import Problem, problems
from console.cluster.state import ClusterState
from screens.app_part import AppPart
from screens.watch import Banner, Incident, WatchBar, incidents

Clock = Callable[[], datetime]


class WallPart(AppPart):
    """The wall's bar, clock and incident banner."""

    clock: Clock
    _incident: Incident | None
    _wall_problems: tuple[int, tuple[Problem, ...]]

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
