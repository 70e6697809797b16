"""Untrusted text (log lines, HTML, host names) made safe to print on a terminal.

Control characters, including ESC that starts every terminal escape sequence, are shown as
visible ``\\xNN`` escapes; everything else is printed as it is.
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""A control character: C0 (NUL, tab, newline, ESC ...), DEL and C1. The one definition the
console uses, to escape untrusted text here and to refuse inventory values (`config_reader`)."""


def printable(text: str, *, keep_tabs: bool = False) -> str:
    """``text`` with every control character replaced by a visible escape."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if keep_tabs and char == "\t":
            return char
        return f"\\x{ord(char):02x}"

    return CONTROL.sub(escape, text)
