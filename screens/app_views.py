"""The app's top-level views and the navigation between them: one mode per view (built when
first shown), the number keys, Esc, the wall's --cycle, and the node view and wizards pushed
over the current view."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from screens.app_part import AppPart
from screens.dashboard import DashboardScreen
from screens.help import HelpScreen
from screens.operator_dashboard import OperatorDashboardScreen
from screens.unavailable import UnavailableView
from screens.widgets.export import Format, export_view

log = logging.getLogger(__name__)

VIEWS: tuple[tuple[str, str, str, str], ...] = (
    ("dashboard", "1", "Nodes", ""),
    ("events", "2", "Events", "screens.events:EventsScreen"),
    ("balancer", "3", "Balancer", "screens.balancer:BalancerScreen"),
    ("database", "4", "Database", "screens.database:DatabaseScreen"),
    ("doctor", "5", "Doctor", "screens.doctor:DoctorScreen"),
)
"""(mode, key, title, "module:Class") of each top-level view."""


def import_target(target: str) -> Any | None:
    """The class named by ``module:Class``, or None if it cannot be imported (yet)."""
    module, _, name = target.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def wizard_screen_class() -> Any | None:
    """``screens.wizard.WizardScreen`` once it exists, else None."""
    return import_target("screens.wizard:WizardScreen")


class ViewsPart(AppPart):
    """Switching views, going back, and opening a node or a wizard."""

    read_only: bool
    _switching: bool

    if TYPE_CHECKING:

        def deliver_now(self) -> None: ...

    def _view_factory(self, view: str, target: str) -> Callable[[], Screen[Any]]:
        def build() -> Screen[Any]:
            if view == "dashboard":
                if self.read_only:
                    return DashboardScreen(watch=True)
                return OperatorDashboardScreen()
            cls = import_target(target)
            return cls() if cls is not None else UnavailableView(view)

        return build

    def available_views(self) -> list[str]:
        """Views that exist in this build, in key order."""
        return [view for view, _k, _t, target in VIEWS if not target or import_target(target)]

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

    def open_node(self, node: str) -> None:
        """Enter on a dashboard row: the node's live view, pushed over the current one."""
        cls = import_target("screens.node:NodeScreen")
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

    def export_view_as(self, fmt: Format) -> None:
        export_view(self.screen, fmt)

    def filter_from_palette(self) -> None:
        screen = self.screen
        if isinstance(screen, DashboardScreen):
            screen.call_later(screen.action_filter)
