"""The key bar at the bottom of every view: the screen's active bindings on one line.

Textual's `Footer` builds one widget per key and restyles each of them when the bindings change;
on the dashboard that cost about 80 ms of the first frame (measured in a pty, median of 11 runs).
This bar is a single widget that renders the same keys as one `Text`: shown bindings grouped by
action (the first key of each), disabled ones dimmed, the command palette key on the right unless
another key for it is listed already. When the keys do not all fit (80 columns), the view keys
`1`..`4` are shown as one `1-4 Views` and then descriptions shrink to their first word; only then
is a key that does not fit whole left off. A click runs the key under the pointer, as Footer's
keys do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen


@dataclass(frozen=True, slots=True)
class Key:
    """One key shown on the bar and the cells it spans once laid out."""

    key: str
    display: str
    description: str
    enabled: bool
    start: int = 0
    end: int = 0


def _cells(key: Key) -> int:
    """The cells a key takes on the bar: ` k ` and `description `."""
    size = cell_len(key.display) + 2
    return size + cell_len(key.description) + 1 if key.description else size


def _width(keys: tuple[Key, ...]) -> int:
    return sum(_cells(key) for key in keys)


def _grouped(keys: tuple[Key, ...], actions: tuple[str, ...]) -> tuple[Key, ...]:
    """Consecutive view keys (`1` `2` `3` `4`, action ``view(...)``) as one `1-4 Views` key."""
    out: list[Key] = []
    run: list[Key] = []

    def flush() -> None:
        if len(run) > 2:
            first, last = run[0], run[-1]
            out.append(Key(first.key, f"{first.display}-{last.display}", "Views", first.enabled))
        else:
            out.extend(run)
        run.clear()

    for key, action in zip(keys, actions, strict=True):
        if action.startswith("view(") and len(key.display) == 1 and key.display.isdigit():
            run.append(key)
            continue
        flush()
        out.append(key)
    flush()
    return tuple(out)


def _short(key: Key) -> Key:
    """The key with its description cut to the first word (`Drain/undrain` -> `Drain`)."""
    words = key.description.replace("/", " ").split()
    short = words[0] if words else ""
    return Key(key.key, key.display, short, key.enabled)


class KeyBar(Widget, can_focus=False):
    """One line of keys, kept in step with the screen's active bindings."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {"keybar--key", "keybar--description", "keybar--hover"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        .keybar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .keybar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .keybar--hover { background: $block-hover-background; }
    }
    """

    def __init__(self, *, show_command_palette: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.show_command_palette = show_command_palette
        self._keys: tuple[Key, ...] = ()
        self._actions: tuple[str, ...] = ()
        self._palette: Key | None = None
        self._laid: tuple[Key, ...] = ()
        self._hover: str | None = None

    @property
    def keys(self) -> tuple[Key, ...]:
        """The keys shown, left to right (the command palette key last), as last laid out."""
        return self._laid

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._collect()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self._collect()

    def _collect(self) -> None:
        """The shown bindings, one per action (Footer's grouping), and the palette key."""
        app = self.app
        active = self.screen.active_bindings
        by_action: dict[str, Key] = {}
        for _node, binding, enabled, _tooltip in active.values():
            if binding.show and binding.action not in by_action:
                by_action[binding.action] = Key(
                    binding.key, app.get_key_display(binding), binding.description, enabled
                )
        self._actions = tuple(by_action)
        palette: Key | None = None
        found = active.get(app.COMMAND_PALETTE_BINDING)
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE and found is not None:
            _node, binding, enabled, _tooltip = found
            if binding.action not in by_action:  # not already listed under another key (`:`)
                palette = Key(
                    binding.key, app.get_key_display(binding), binding.description, enabled
                )
        keys = tuple(by_action.values())
        if keys != self._keys or palette != self._palette:
            self._keys, self._palette = keys, palette
            self.refresh()

    def render(self) -> Text:
        width = self.size.width
        styles = (
            self.get_component_rich_style("keybar--key", partial=True),
            self.get_component_rich_style("keybar--description", partial=True),
            self.get_component_rich_style("keybar--hover", partial=True),
        )
        line = Text(no_wrap=True, overflow="crop", end="")
        laid: list[Key] = []
        palette = self._palette
        room = width - (_cells(palette) if palette is not None else 0)
        keys = self._keys
        if _width(keys) > room:
            keys = _grouped(keys, self._actions)
        if _width(keys) > room:
            keys = tuple(_short(key) for key in keys)
        for key in keys:
            if line.cell_len + _cells(key) > width:
                break  # a key that does not fit whole is left off, never cut in half
            laid.append(self._append(line, key, styles))
        if palette is not None and line.cell_len + _cells(palette) <= width:
            line.append(" " * (width - line.cell_len - _cells(palette)))  # on the right
            laid.append(self._append(line, palette, styles))
        self._laid = tuple(laid)
        return line

    def _append(self, line: Text, key: Key, styles: tuple[Style, Style, Style]) -> Key:
        """Append one key (plain text: descriptions are never markup) and note its cells."""
        key_style, description_style, hover_style = styles
        start = line.cell_len
        line.append(f" {key.display} ", key_style)
        if key.description:
            line.append(f"{key.description} ", description_style)
        end = line.cell_len
        if key.key == self._hover:
            line.stylize(hover_style, start, end)
        if not key.enabled:
            line.stylize("dim", start, end)
        return Key(key.key, key.display, key.description, key.enabled, start, end)

    def _key_at(self, x: int) -> Key | None:
        return next((key for key in self.keys if key.start <= x < key.end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self._key_at(event.x)
        hover = key.key if key is not None else None
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self._key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
