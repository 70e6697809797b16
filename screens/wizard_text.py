"""How the wizard screen draws a run: step states, log lines, the figures panel, confirmations.

Pure rendering from the engine's events and a `RunTracker`; nothing here touches the screen.
Remote and engine text goes through `printable` or `safe`, never parsed as markup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from console.operations.engine import Change, Progress, Step, Wizard
from console.operations.tracking import RunTracker
from console.textsafe import printable
from screens.widgets.common import clock, safe, word

STYLES: Mapping[str, str] = {
    "pending": "dim",
    "RUNNING": "bold cyan",
    "WAITING": "bold yellow",
    "done": "green",
    "skipped": "green",
    "planned": "cyan",
    "FAILED": "bold red",
    "REFUSED": "bold red",
    "cancelled": "yellow",
    "declined": "yellow",
}
"""The step states; the word always carries the meaning, the colour only helps."""
OUTCOME_STYLES: Mapping[str, str] = {
    "done": "bold green",
    "planned": "bold cyan",
    "declined": "bold yellow",
    "cancelled": "bold yellow",
}


def _figures(figures: Mapping[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    for key, value in figures.items():
        grid.add_row(safe(str(key).replace("_", " ")), safe(value))
    return grid


def _request(request: Mapping[str, Any]) -> str:
    """The exact request, pretty; json escapes every control character."""
    return json.dumps(dict(request), indent=2, sort_keys=True, default=str)


def confirm_body(step: Step[Any], changes: list[Change]) -> Text:
    """What a step is for and the exact requests of its changes, for its confirmation."""
    body = Text(printable(step.description, keep_tabs=True))
    body.append("\n\nThis step makes these changes:\n", style="bold")
    for change in changes:
        body.append("\n• ").append(printable(change.what), style="bold")
        body.append("\n" + _request(change.request) + "\n")
    return body


def progress_line(event: Progress) -> Text:
    """One engine event as a log line: time, step, what happened, figures and changes."""
    line = Text(clock(event.at) + " ", style="dim")
    if event.step:
        line.append(f"[{event.index}/{event.total}] ").append(safe(event.step, "bold"))
        line.append(": ")
    style = {
        "failed": "bold red",
        "refused": "bold red",
        "warning": "yellow",
        "cancelled": "yellow",
        "change": "cyan",
        "done": "green",
    }.get(event.kind, "")
    label = {"failed": "FAILED: ", "refused": "REFUSED: ", "warning": "warning: "}
    if event.kind == "finished":
        line.append(f"{event.status}: ", style=OUTCOME_STYLES.get(str(event.status), "bold red"))
    line.append(label.get(event.kind, "") + printable(event.text), style=style)
    if event.figures:
        shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in event.figures.items())
        line.append(" (" + printable(shown) + ")", style="dim")
    for change in event.changes:
        line.append("\n    would " + printable(change.what))
        line.append("\n      " + json.dumps(dict(change.request), default=str), style="dim")
    if event.kind == "plan" and not event.changes:
        line.append("\n    (changes nothing)", style="dim")
    if event.state and event.kind in ("failed", "cancelled", "refused", "finished"):
        line.append("\n    state: " + printable(event.state))
    return line


def steps_table(wizard: Wizard[Any], tracker: RunTracker) -> Table:
    """Every step with its state word, a marker on the one running, and its description."""
    steps = Table.grid(padding=(0, 1))
    steps.add_column(width=1)
    steps.add_column(no_wrap=True)
    steps.add_column(no_wrap=True)
    steps.add_column(ratio=1)
    current = tracker.current.step if tracker.current is not None else None
    for step in wizard.steps:
        state = tracker.state_of(step.name)
        steps.add_row(
            "▶" if step.name == current and state in ("RUNNING", "WAITING") else " ",
            word(state, STYLES.get(state, "")),
            safe(step.name, "bold"),
            Text(printable(step.description)),
        )
    return steps


def figures_panel(tracker: RunTracker) -> RenderableType:
    """The current step: its state, and while it waits, for what and the live figures."""
    event = tracker.current
    if event is None or event.step is None:
        return Text("no step has started yet", style="dim")
    state = tracker.state_of(event.step)
    head = Text(f"step {event.index}/{event.total} ").append(safe(event.step, "bold"))
    head.append(" ").append(word(state, STYLES.get(state, "")))
    if event.kind != "waiting":
        return Group(head, Text(printable(event.text), style="dim"))
    what = Text("waiting for ", style="bold").append(safe(event.waiting_for or "-"))
    return Group(head, what, _figures(event.figures))
