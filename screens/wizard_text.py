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


REDACTED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
"""Header values never shown (they are credentials)."""


def _value(value: object) -> str:
    if isinstance(value, str):
        return printable(value)
    return printable(json.dumps(value, default=str))


def request_lines(request: Mapping[str, Any], indent: str = "") -> list[str]:
    """The exact request as aligned `field: value` lines (a form or headers one entry a line,
    indented below their name); every value printable, credentials hidden."""
    lines: list[str] = []
    width = max((len(printable(str(key))) for key in request), default=0)
    for key, value in request.items():
        name = printable(str(key))
        label = f"{indent}{name + ':':<{width + 1}}"
        if isinstance(value, Mapping) and value:
            lines.append(f"{indent}{name}:")
            inner = max(len(printable(str(k))) for k in value)
            for header, shown in value.items():
                hidden = str(header).lower() in REDACTED_HEADERS
                field = printable(str(header))
                lines.append(
                    f"{indent}  {field + ':':<{inner + 1}} "
                    + ("(hidden)" if hidden else _value(shown))
                )
        elif (
            isinstance(value, list | tuple)
            and value
            and all(isinstance(pair, list | tuple) and len(pair) == 2 for pair in value)
        ):
            lines.append(f"{indent}{name}:")
            lines += [f"{indent}  {_value(a)}={_value(b)}" for a, b in value]
        else:
            lines.append(f"{label} {_value(value)}")
    return lines


def _request(request: Mapping[str, Any]) -> str:
    """The exact request as aligned `field: value` lines."""
    return "\n".join(request_lines(request))


def confirm_body(step: Step[Any], changes: list[Change]) -> Text:
    """What a step is for and the exact requests of its changes, for its confirmation."""
    body = Text(printable(step.description, keep_tabs=True))
    body.append("\n\nThis step makes these changes:\n", style="bold")
    for change in changes:
        body.append("\n• ").append(printable(change.what), style="bold")
        body.append("\n" + _request(change.request) + "\n")
    return body


SCREEN_WORDS: tuple[tuple[str, str], ...] = (
    ("--wizard rejoin", "the rejoin wizard (key j on the dashboard)"),
    ("--wizard drain", "the drain wizard (key d on the dashboard)"),
)
"""The engine speaks to scripts; on the screen, a command line is the key that does it."""


def for_screen(text: str) -> str:
    """Engine text as the screen says it: printable, with keys instead of command lines."""
    text = printable(text)
    for command, key in SCREEN_WORDS:
        text = text.replace(command, key)
    return text


def after_label(label: str, text: str) -> str:
    """``text`` without a leading ``label:`` the screen already shows ("REFUSED: refused: x")."""
    prefix = label.strip().rstrip(":").lower() + ":"
    return text[len(prefix) :].lstrip() if text.lower().startswith(prefix) else text


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
    text = for_screen(event.text)
    if event.kind == "finished":
        line.append(f"{event.status}: ", style=OUTCOME_STYLES.get(str(event.status), "bold red"))
        text = after_label(str(event.status), text)
    elif event.kind in label:
        text = after_label(label[event.kind], text)
    line.append(label.get(event.kind, "") + text, style=style)
    if event.figures:
        shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in event.figures.items())
        line.append(" (" + printable(shown) + ")", style="dim")
    verb = "would " if event.kind == "plan" else "sent: "
    for change in event.changes:
        line.append("\n    " + verb + printable(change.what))
        for field in request_lines(change.request, indent="      "):
            line.append("\n" + field, style="dim")
    if event.kind == "plan" and not event.changes:
        line.append("\n    (changes nothing)", style="dim")
    if event.state and event.kind in ("failed", "cancelled", "refused", "finished"):
        line.append("\n    state: " + for_screen(event.state))
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
