"""Small helpers every view uses: the host as its protocol, safe text, words with colours."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from rich.text import Text

from console.textsafe import printable

if TYPE_CHECKING:
    from textual.app import App

    from screens.host import ConsoleHost


def host_of(app: App[object]) -> ConsoleHost:
    """The app as the `ConsoleHost` protocol (the views' only contract with it)."""
    return cast("ConsoleHost", app)


def is_interactive(app: App[object]) -> bool:
    """True only when changes may be offered: not read-only and worker actions exist.

    An app that does not say is treated as read-only.
    """
    return (
        getattr(app, "read_only", True) is False
        and getattr(app, "worker_actions", None) is not None
    )


def safe(text: object, style: str = "", *, limit: int = 500) -> Text:
    """Remote text as a `Text`: control characters visible, capped, never parsed as markup."""
    shown = printable(str(text))
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return Text(shown, style=style, no_wrap=True, end="")


def word(label: str, style: str) -> Text:
    """A state word with its colour (the word alone must carry the meaning)."""
    return Text(label, style=style, end="")


def clock(at: float) -> str:
    """Local wall-clock time of an epoch second, for tables."""
    if at <= 0:
        return "-"
    return time.strftime("%H:%M:%S", time.localtime(at))


def ago(at: float, now: float | None = None) -> str:
    """`3s ago`, `5m ago` (coarse; for "last read" lines)."""
    if at <= 0:
        return "never"
    seconds = max(0.0, (now if now is not None else time.time()) - at)
    if seconds < 90:
        return f"{seconds:.0f}s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m ago"
    return f"{seconds / 3600:.1f}h ago"
