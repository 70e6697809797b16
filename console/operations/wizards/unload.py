"""A web application's Context ``unloadDelay``: where Tomcat reads it from, and its value.

Tomcat sets a context's attributes from ``conf/context.xml`` (every app), then
``conf/Catalina/localhost/context.xml.default`` (every app of the host), then the app's own
file (``conf/Catalina/localhost/APP.xml``, else ``webapps/APP/META-INF/context.xml``): the last
one that sets ``unloadDelay`` wins; none means Tomcat's default of 2000 ms.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass
from urllib.parse import urlsplit

TOMCAT_DEFAULT_MS = 2000
"""StandardContext's unloadDelay when no file sets it."""
READ_LIMIT = 256 * 1024
"""Bytes read at most from each context file."""
MARKER = "@@clusterconsole-file "

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_CONTEXT_TAG = re.compile(r"<Context\b([^>]*)>", re.DOTALL)
_ATTRIBUTE = re.compile(r"""\bunloadDelay\s*=\s*(["'])(.*?)\1""", re.DOTALL)


@dataclass(frozen=True, slots=True)
class UnloadDelay:
    """The delay in force and the file that set it (None: Tomcat's default)."""

    ms: int
    source: str | None
    problem: str | None = None
    """A file whose value could not be understood (``${prop}``, garbage): said, not guessed."""

    @property
    def describe(self) -> str:
        where = f"set in {self.source}" if self.source else "Tomcat's default, no file sets it"
        return f"{self.ms} ms ({where})"


def context_name(path: str) -> str:
    """Tomcat's base name for a context path: `/` -> ROOT, `/jw` -> jw, `/a/b` -> a#b."""
    parts = [part for part in path.split("/") if part]
    return "#".join(parts) if parts else "ROOT"


def context_path(http_url: str | None) -> str:
    """The application's context path from a node's direct URL (its first path segment)."""
    if not http_url:
        return "/"
    segments = [part for part in urlsplit(http_url).path.split("/") if part]
    return "/" + segments[0] if segments else "/"


def candidate_files(catalina_base: str, context: str) -> list[str]:
    """The files that may set the app's unloadDelay, lowest precedence first."""
    name = context_name(context)
    base = catalina_base.rstrip("/") or "/"
    return [
        posixpath.join(base, "conf/context.xml"),
        posixpath.join(base, "conf/Catalina/localhost/context.xml.default"),
        posixpath.join(base, "webapps", name, "META-INF/context.xml"),
        posixpath.join(base, "conf/Catalina/localhost", f"{name}.xml"),
    ]


def read_command(files: list[str]) -> str:
    """A POSIX sh command printing each readable file after a marker line (read only)."""
    quoted = " ".join(shlex.quote(path) for path in files)
    return (
        f'for f in {quoted}; do if [ -r "$f" ] && [ -f "$f" ]; then '
        f'printf "%s%s\\n" {shlex.quote(MARKER)} "$f"; head -c {READ_LIMIT} "$f"; echo; fi; done'
    )


def split_output(output: bytes) -> dict[str, str]:
    """The command's output back into {path: text}."""
    files: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in output.decode("utf-8", "replace").splitlines():
        if line.startswith(MARKER):
            if current is not None:
                files[current] = "\n".join(lines)
            current, lines = line[len(MARKER) :], []
        elif current is not None:
            lines.append(line)
    if current is not None:
        files[current] = "\n".join(lines)
    return files


def parse_unload_delay(text: str) -> int | str | None:
    """The unloadDelay a context file sets: ms, a string for a value not understood, or None."""
    text = _COMMENT.sub("", text)
    tag = _CONTEXT_TAG.search(text)
    if tag is None:
        return None
    attribute = _ATTRIBUTE.search(tag.group(1))
    if attribute is None:
        return None
    value = attribute.group(2).strip()
    if value.isdigit() and len(value) <= 9:
        return int(value)
    return value[:80]


def effective(files: list[str], contents: dict[str, str]) -> UnloadDelay:
    """The value in force given the candidate files (lowest precedence first) and contents.

    The app's own file in conf/Catalina/localhost replaces META-INF/context.xml entirely.
    """
    own_host_file = files[-1] if files else None
    found = UnloadDelay(TOMCAT_DEFAULT_MS, None)
    for path in files:
        if path not in contents:
            continue
        if path.endswith("/META-INF/context.xml") and own_host_file in contents:
            continue
        value = parse_unload_delay(contents[path])
        if value is None:
            continue
        if isinstance(value, str):
            found = UnloadDelay(
                found.ms, found.source, f"{path} sets unloadDelay to {value!r}, not a number"
            )
            continue
        found = UnloadDelay(value, path)
    return found
