"""Find the line of each table header and key in a TOML text, for error messages.

tomllib returns plain dicts without positions, so this scanner walks the raw text once and records
where every ``[table]``, ``[[array]]`` element and ``key =`` starts. It only runs on text tomllib
has already accepted, so it can stay small: it skips the inside of multi-line strings and the
continuation lines of multi-line arrays and inline tables, whose inner keys fall back to the
line of the key that holds them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field

FieldPart = str | int
FieldPath = tuple[FieldPart, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_path(path: FieldPath) -> str:
    """Render a path as users read it: ``nodes[1].host``, ``balancers[0].socket``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if _BARE_KEY.fullmatch(part) else '"' + part.replace('"', '\\"') + '"'
            out += f".{name}" if out else name
    return out


@dataclass
class LineMap:
    """The first line on which each table or key path appears."""

    lines: dict[FieldPath, int] = field(default_factory=dict)

    def line_of(self, path: FieldPath) -> int:
        """Line of ``path``, else of its nearest recorded ancestor (a table header), else 1."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1

    def has(self, path: FieldPath) -> bool:
        """Whether ``path`` itself appears in the text."""
        return path in self.lines


def _parse_key(text: str, pos: int) -> tuple[list[str], int] | None:
    """Parse a (dotted, possibly quoted) key at ``pos``; return its parts and the end position."""
    parts: list[str] = []
    n = len(text)
    while True:
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos >= n:
            return None
        char = text[pos]
        if char == '"':
            end = pos + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            if end >= n:
                return None
            token = text[pos : end + 1]
            try:
                parts.append(str(tomllib.loads(f"k = {token}")["k"]))
            except tomllib.TOMLDecodeError:
                return None
            pos = end + 1
        elif char == "'":
            end = text.find("'", pos + 1)
            if end < 0:
                return None
            parts.append(text[pos + 1 : end])
            pos = end + 1
        else:
            match = _BARE_KEY.match(text, pos)
            if match is None:
                return None
            parts.append(match.group())
            pos = match.end()
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos < n and text[pos] == ".":
            pos += 1
            continue
        return parts, pos


class _ValueScanner:
    """Tracks whether a value continues onto the next line (open multi-line string or bracket)."""

    def __init__(self) -> None:
        self.delimiter: str | None = None  # '"""' or "'''" while inside a multi-line string
        self.depth = 0  # open [ and { brackets

    def pending(self) -> bool:
        """Whether the next line is a continuation of the current value."""
        return self.delimiter is not None or self.depth > 0

    def feed(self, line: str, pos: int) -> None:
        """Consume ``line`` from ``pos``, updating the open string and bracket state."""
        n = len(line)
        while pos < n:
            if self.delimiter is not None:
                if self.delimiter == '"""' and line[pos] == "\\":
                    pos += 2
                elif line.startswith(self.delimiter, pos):
                    # Up to two quotes may end the content right before the closing delimiter.
                    end = pos
                    while end < n and line[end] == self.delimiter[0]:
                        end += 1
                    self.delimiter = None
                    pos = end
                else:
                    pos += 1
                continue
            char = line[pos]
            if char == "#":
                return
            if line.startswith('"""', pos) or line.startswith("'''", pos):
                self.delimiter = line[pos : pos + 3]
                pos += 3
            elif char == '"':
                pos += 1
                while pos < n and line[pos] != '"':
                    pos += 2 if line[pos] == "\\" else 1
                pos += 1
            elif char == "'":
                end = line.find("'", pos + 1)
                pos = n if end < 0 else end + 1
            else:
                if char in "[{":
                    self.depth += 1
                elif char in "]}":
                    self.depth = max(0, self.depth - 1)
                pos += 1


def _resolve(parts: list[str], counts: dict[FieldPath, int]) -> FieldPath:
    """Turn header key parts into a path, inserting the current index of arrays of tables."""
    path: FieldPath = ()
    for part in parts:
        path = (*path, part)
        count = counts.get(path)
        if count:
            path = (*path, count - 1)
    return path


def scan_lines(text: str) -> LineMap:
    """Record the line of every table header and key in ``text`` (valid TOML)."""
    result = LineMap()
    lines = result.lines
    counts: dict[FieldPath, int] = {}
    current: FieldPath = ()
    value = _ValueScanner()

    def record(path: FieldPath, lineno: int) -> None:
        for end in range(1, len(path) + 1):
            lines.setdefault(path[:end], lineno)

    for lineno, raw in enumerate(text.splitlines(), start=1):
        if value.pending():
            value.feed(raw, 0)
            continue
        stripped = raw.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[["):
            parsed = _parse_key(stripped, 2)
            if parsed is None:
                continue
            parent = _resolve(parsed[0][:-1], counts)
            array: FieldPath = (*parent, parsed[0][-1])
            index = counts.get(array, 0)
            counts[array] = index + 1
            current = (*array, index)
            record(current, lineno)
        elif stripped.startswith("["):
            parsed = _parse_key(stripped, 1)
            if parsed is None:
                continue
            current = _resolve(parsed[0], counts)
            record(current, lineno)
        else:
            parsed = _parse_key(stripped, 0)
            if parsed is None:
                continue
            parts, pos = parsed
            if pos >= len(stripped) or stripped[pos] != "=":
                continue
            record((*current, *parts), lineno)
            value.feed(stripped, pos + 1)
    return result
