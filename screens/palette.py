"""The command palette's entries: views, filter, help, refresh, doctor, export, contexts,
themes, nodes, and the wizards where they are allowed (read from the catalog)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import themes
from screens.commands import ConsoleCommand

if TYPE_CHECKING:
    from textual.app import App

    from screens.app import ClusterConsoleApp


def palette_commands(app: ClusterConsoleApp) -> list[ConsoleCommand]:
    """Every action, for the command palette; node actions only when allowed."""
    from screens.app import VIEWS  # the app is loaded: it is the one calling

    commands = [
        ConsoleCommand(
            f"view-{view}",
            f"View: {title}",
            f"switch to the {view} view (key {key})",
            _later(app, app.action_view, view),
        )
        for view, key, title, _t in VIEWS
    ]
    commands += [
        ConsoleCommand(
            "filter",
            "Filter nodes",
            "show only nodes matching a text (key /)",
            app.filter_from_palette,
        ),
        ConsoleCommand("help", "Help: keys", "every key of this view (key ?)", app.action_help),
        ConsoleCommand(
            "refresh",
            "Refresh now",
            "probe every node, balancer and the database again now (key r)",
            app.action_refresh,
        ),
        ConsoleCommand(
            "doctor",
            "Doctor: run now",
            "check the cluster for known misconfigurations again (view key 5)",
            app.action_run_doctor,
        ),
        ConsoleCommand("quit", "Quit", "leave clusterconsole (key q)", app.exit),
    ]
    if not app.read_only:  # the wall writes nothing on the console's machine
        commands += [
            ConsoleCommand(
                f"export-{fmt}",
                f"Export view as {fmt.upper()}",
                f"the rows the view shows, to a file the console names (key {key})",
                _bind(app.call_later, app.export_view_as, fmt),
            )
            for fmt, key in (("csv", "ctrl+s"), ("json", "ctrl+e"))
        ]
    commands += context_commands(app)
    for base in (themes.DARK, themes.LIGHT, themes.WALL):
        short = base.name.rsplit("-", 1)[-1]
        commands.append(
            ConsoleCommand(
                f"theme-{short}",
                f"Theme: {short}",
                "change the colour theme",
                _bind(app.set_theme, base.name),
            )
        )
    for node in app.inventory.nodes:
        commands.append(
            ConsoleCommand(
                f"open-{node.name}",
                f"Open node {node.name}",
                "the node's live log and details",
                _bind(app.open_node, node.name),
            )
        )
    if app.wizards_available:
        from console.operations.catalog import CATALOG  # light: names and words only

        every = ",".join(node.name for node in app.inventory.nodes)
        for wizard in CATALOG:
            if wizard.scope == "cluster":
                commands.append(
                    ConsoleCommand(
                        wizard.name,
                        f"{wizard.label} (every node)",
                        wizard.summary,
                        _bind(app.open_wizard, wizard.name, every),
                    )
                )
                continue
            if wizard.scope == "new-node":
                commands.append(
                    ConsoleCommand(
                        wizard.name,
                        wizard.label,
                        wizard.summary,
                        _bind(app.open_wizard, wizard.name, ""),
                    )
                )
                continue
            for node in app.inventory.nodes if wizard.scope == "node" else ():
                commands.append(
                    ConsoleCommand(
                        f"{wizard.name}-{node.name}",
                        f"{wizard.label} {node.name}",
                        f"run the {wizard.name} wizard",
                        _bind(app.open_wizard, wizard.name, node.name),
                    )
                )
    return commands


def context_commands(app: ClusterConsoleApp) -> list[ConsoleCommand]:
    """`:context NAME` (the k9s habit): one entry per inventory in the contexts directory."""
    from console.config.contexts import context_names, contexts_dir

    current = app.inventory.path.resolve()
    commands = []
    for name in context_names():
        path = contexts_dir() / f"{name}.toml"
        here = path.resolve() == current
        commands.append(
            ConsoleCommand(
                f"context-{name}",
                f"Context: {name}" + (" (current)" if here else ""),
                f"switch to the cluster in {path}",
                _later(app, app.switch_context, name),
            )
        )
    return commands


def _bind(func: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    def call() -> Any:
        return func(*args)

    return call


def _later(app: App[Any], func: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """A palette callback that runs an async action on the app's loop."""

    def call() -> None:
        app.call_later(func, *args)

    return call
