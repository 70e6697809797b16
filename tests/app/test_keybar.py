"""The key bar: the screen's shown bindings on one line, following focus, clickable."""

from __future__ import annotations

from typing import ClassVar

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from screens.widgets.keybar import KeyBar
from tests.app.waiting import wait_for


class Panel(Static, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "app.note('x')", "Panel action", id="test.panel"),
    ]


class KeysApp(App[None]):
    AUTO_FOCUS = None
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "note('a')", "Alpha [b]bold[/b]", id="test.alpha"),
        Binding("b", "note('b')", "Beta", id="test.beta"),
        Binding("c", "note('c')", "Hidden", show=False, id="test.hidden"),
        Binding("d", "off", "Off", id="test.off"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("top", id="top")
        yield Panel("panel", id="panel")
        yield KeyBar()

    def action_note(self, what: str) -> None:
        self.notes.append(what)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "off" else True  # None: shown, but disabled


def _descriptions(bar: KeyBar) -> list[str]:
    return [key.description for key in bar.keys]


async def test_shows_every_shown_binding_once_and_follows_focus() -> None:
    app = KeysApp()
    async with app.run_test(size=(100, 5)) as pilot:
        bar = app.query_one(KeyBar)
        await wait_for(lambda: "Alpha [b]bold[/b]" in _descriptions(bar))
        assert "Hidden" not in _descriptions(bar)
        assert "Panel action" not in _descriptions(bar)
        app.query_one(Panel).focus()
        await wait_for(lambda: "Panel action" in _descriptions(bar))
        await pilot.pause()
        line = "".join(segment.text for segment in bar.render_line(0))
        assert "Alpha [b]bold[/b]" in line  # a description is text, never markup
        assert " x Panel action " in line
        assert line.rstrip().endswith("^p palette")  # the palette key on the right


async def test_a_click_runs_the_key_under_the_pointer() -> None:
    app = KeysApp()
    async with app.run_test(size=(100, 5)) as pilot:
        bar = app.query_one(KeyBar)
        await wait_for(lambda: len(bar.keys) >= 3)
        beta = next(key for key in bar.keys if key.description == "Beta")
        await pilot.click(KeyBar, offset=(beta.start + 1, 0))
        await wait_for(lambda: app.notes == ["b"])
        off = next(key for key in bar.keys if key.description == "Off")
        assert not off.enabled
        await pilot.click(KeyBar, offset=(off.start + 1, 0))
        await pilot.pause()
        assert app.notes == ["b"]  # a disabled key only rings the bell
        await pilot.click(KeyBar, offset=(99, 0))  # past the last key: nothing
        await pilot.pause()
        assert app.notes == ["b"]


class ViewsApp(App[None]):
    """Like the console: action keys, then the view keys 1-4, on a narrow terminal."""

    AUTO_FOCUS = None
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "note('d')", "Drain/undrain", id="test.drain"),
        Binding("f", "note('f')", "Factor (load)", id="test.factor"),
        Binding("q", "note('q')", "Quit", id="test.quit"),
        *(
            Binding(str(i), f"view('{name}')", name.title(), id=f"test.view-{name}")
            for i, name in enumerate(("nodes", "events", "balancers", "database"), start=1)
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []

    def compose(self) -> ComposeResult:
        yield KeyBar(show_command_palette=False)

    def action_note(self, what: str) -> None:
        self.notes.append(what)

    def action_view(self, name: str) -> None:
        self.notes.append(name)


@pytest.mark.parametrize(
    ("width", "shown"),
    [
        (120, ["d", "f", "q", "1", "2", "3", "4"]),
        (60, ["d", "f", "q", "1-4"]),
        (40, ["d", "f", "q", "1-4"]),
    ],
)
async def test_a_narrow_bar_groups_the_views_then_shortens_labels(
    width: int, shown: list[str]
) -> None:
    app = ViewsApp()
    async with app.run_test(size=(width, 5)) as pilot:
        bar = app.query_one(KeyBar)
        await wait_for(lambda: bar.keys)
        await pilot.pause()
        assert [key.display for key in bar.keys] == shown
        line = "".join(segment.text for segment in bar.render_line(0))
        if width == 40:
            assert " d Drain " in line and " f Factor " in line and "(load)" not in line
        group = bar.keys[-1]
        await pilot.click(KeyBar, offset=(group.start + 1, 0))
        expected = "database" if group.display == "4" else "nodes"  # a group runs its first
        await wait_for(lambda: app.notes[-1:] == [expected])
