"""A search as lnav users expect: every match highlighted, `n`/`N` to the next or previous one.

Text is matched case-insensitively; a search written ``re:PATTERN`` is a regular expression
(also case-insensitive). A pattern that does not compile matches nothing and says why, so a
half-typed ``re:[`` never raises. Matching runs on text already made printable, so what is
highlighted is what is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text

REGEX_PREFIX = "re:"
MATCH_STYLE = Style(color="black", bgcolor="yellow", bold=True)
"""Every match of the search."""
CURRENT_STYLE = Style(color="black", bgcolor="bright_magenta", bold=True)
"""The matches of the line or row `n`/`N` moved to."""
MAX_SPANS = 200
"""Matches highlighted in one line at most (a search for "e" in a 2,000-character line)."""


@dataclass(frozen=True)
class Search:
    """What the operator searches for (``text`` as typed)."""

    text: str = ""
    pattern: re.Pattern[str] | None = field(default=None, compare=False)
    error: str | None = field(default=None, compare=False)

    @classmethod
    def parse(cls, text: str) -> Search:
        if not text:
            return cls()
        if text.startswith(REGEX_PREFIX):
            source = text[len(REGEX_PREFIX) :]
            if not source:
                return cls(text, None, "empty regular expression")
            try:
                return cls(text, re.compile(source, re.IGNORECASE))
            except re.error as error:
                return cls(text, None, f"not a regular expression: {error}")
        return cls(text, re.compile(re.escape(text), re.IGNORECASE))

    @property
    def active(self) -> bool:
        return self.pattern is not None

    @property
    def is_regex(self) -> bool:
        return self.text.startswith(REGEX_PREFIX)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the search matches ``text`` (empty matches skipped)."""
        if self.pattern is None:
            return []
        found: list[tuple[int, int]] = []
        for match in self.pattern.finditer(text):
            if match.end() > match.start():
                found.append((match.start(), match.end()))
                if len(found) >= MAX_SPANS:
                    break
        return found

    def matches(self, text: str) -> bool:
        return self.pattern is not None and any(
            m.end() > m.start() for m in self.pattern.finditer(text)
        )

    def highlight(self, text: Text, offset: int = 0, *, current: bool = False) -> Text:
        """Style every match in ``text`` (its plain text from ``offset`` on); returns it."""
        style = CURRENT_STYLE if current else MATCH_STYLE
        for start, end in self.spans(text.plain[offset:]):
            text.stylize(style, offset + start, offset + end)
        return text

    def describe(self) -> str:
        kind = "regex" if self.is_regex else "text"
        return f"{kind} {self.text[len(REGEX_PREFIX) :] if self.is_regex else self.text}"


def step(indexes: list[int], current: int | None, forward: bool) -> int | None:
    """The next (or previous) index in the sorted ``indexes`` after ``current``, wrapping round;
    None when there is none."""
    if not indexes:
        return None
    if current is None:
        return indexes[0] if forward else indexes[-1]
    if forward:
        return next((i for i in indexes if i > current), indexes[0])
    return next((i for i in reversed(indexes) if i < current), indexes[-1])


__all__ = ["CURRENT_STYLE", "MATCH_STYLE", "REGEX_PREFIX", "Search", "step"]
