"""The app's chrome: themes (with the cluster's accent colour), the key help of the view shown
and Textual's own entries of the command palette."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.screen import Screen

import themes
from console.config.model import Inventory
from screens.app_part import AppPart
from screens.help import HelpScreen, KeyHelp, console_binding


class ChromePart(AppPart):
    """Themes, help and the palette's system commands."""

    inventory: Inventory
    read_only: bool
    _theme_base: str

    if TYPE_CHECKING:

        def deliver_now(self) -> None: ...

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
