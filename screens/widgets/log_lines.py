"""One line of a live log as the log view shows it: capped, made printable, highlighted and
given its level. Nothing here interprets a line as markup."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text

from console.textsafe import printable
from screens.widgets.search import Search

LINE_CAP = 2_000
"""Characters of a line shown; the rest is replaced by a note of how much was cut."""

# (needle, word, style): a cheap substring test, first match wins. Words carry the meaning,
# colour only repeats it.
HIGHLIGHTS: tuple[tuple[str, str, str], ...] = (
    ("memberAdded", "JOIN", "bold green"),
    ("Member joined", "JOIN", "bold green"),
    ("memberDisappeared", "LEFT", "bold red"),
    ("Member left", "LEFT", "bold red"),
    ("left cluster", "LEFT", "bold red"),
    ("Members [", "VIEW", "bold cyan"),
    ("Members {", "VIEW", "bold cyan"),
    ("new cluster view", "VIEW", "bold cyan"),
    ("session state", "SYNC", "cyan"),
    ("state transfer", "SYNC", "cyan"),
    ("Server startup in", "START", "bold green"),
    ("Stopping service", "STOP", "bold yellow"),
    ("SEVERE", "ERROR", "bold red"),
    (" ERROR ", "ERROR", "bold red"),
)

LEVELS: tuple[str, ...] = ("SEVERE", "WARN")
"""The level filters, in the order a key cycles them (after "every line")."""
_LEVEL_WORDS = re.compile(r"\b(SEVERE|FATAL|ERROR|WARNING|WARN)\b")
CONTINUATION = re.compile(
    r"^(\s|Caused by:|Suppressed:|\.\.\. \d+ more|[\w.$]+(?:Exception|Error|Throwable)\b)"
)
"""A stack trace's lines after the first: they take the level of the line they continue."""


def line_level(text: str) -> str:
    """ "SEVERE" (SEVERE, ERROR, FATAL), "WARN" (WARNING, WARN) or "" for a line's own words."""
    found = _LEVEL_WORDS.search(text)
    if found is None:
        return ""
    return "WARN" if found.group(1).startswith("WARN") else "SEVERE"


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line as shown: already capped and printable, with its highlight (if any)."""

    seq: int
    source: str
    text: str
    word: str | None = None
    style: str = ""
    level: str = ""
    """"SEVERE", "WARN" or "": its own level, or that of the message it continues."""


def classify(text: str) -> tuple[str | None, str]:
    """The highlight word and style of a line, or (None, "")."""
    for needle, word, style in HIGHLIGHTS:
        if needle in text:
            return word, style
    return None, ""


def clean_line(raw: bytes) -> str:
    """A raw log line as safe, capped, single-line text."""
    cut = 0
    if len(raw) > LINE_CAP * 4:
        cut = len(raw) - LINE_CAP * 4
        raw = raw[: LINE_CAP * 4]
    text = raw.decode("utf-8", "replace")
    if text.endswith("\r"):
        text = text[:-1]
    if len(text) > LINE_CAP:
        cut += len(text[LINE_CAP:].encode("utf-8", "replace"))
        text = text[:LINE_CAP]
    text = printable(text, keep_tabs=True).expandtabs(4)
    if len(text) > LINE_CAP:  # escapes can make it longer again
        text = text[:LINE_CAP]
    if cut:
        text += f" … [{cut} more bytes not shown]"
    return text


def make_line(seq: int, source: str, raw: bytes, levels: dict[str, str]) -> LogLine:
    """`raw` as shown; `levels` holds each source's level so far (a stack trace's lines after
    the first take the level of the line they continue), updated here."""
    text = clean_line(raw)
    word, style = classify(text)
    level = line_level(text)
    if level:
        levels[source] = level
    elif CONTINUATION.match(text):
        level = levels.get(source, "")
    else:
        levels[source] = ""
    return LogLine(seq, source, text, word, style, level)


def line_text(
    line: LogLine, gutter: int, source_width: int, needle: str, search: Search, *, current: bool
) -> Text:
    """A whole line as shown: its word (or the current match's mark) in a gutter of `gutter`
    cells, its source in `source_width` (0: one source, none shown), its text, and the filter's
    (`needle`, casefolded) and the search's highlights."""
    text = Text(no_wrap=True, end="")
    if current:
        text.append(f"{'▶':<{gutter - 1}} ", style="bold reverse")
    elif line.word is not None:
        text.append(f"{line.word:<{gutter - 1}} ", style=line.style)
    else:
        text.append(" " * gutter)
    if source_width:
        text.append(f"{printable(line.source)[:source_width]:<{source_width}} ", style="dim")
    start = len(text)
    text.append(line.text, style=line.style if line.word == "ERROR" else "")
    if needle:
        folded = line.text.casefold()
        at = folded.find(needle)
        while at >= 0 and len(folded) == len(line.text):
            text.stylize("reverse", start + at, start + at + len(needle))
            at = folded.find(needle, at + len(needle))
    if search.active:
        search.highlight(text, start, current=current)
    return text
