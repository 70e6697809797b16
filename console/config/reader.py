"""Typed reading of parsed TOML tables that records problems instead of raising.

``TableReader`` is the toolkit the inventory builder is written with: every getter checks one
value's type and shape, records a ``ConfigIssue`` with the right line when it is wrong, and
returns None so validation can go on and report everything in one pass.
"""

from __future__ import annotations

import datetime
import difflib
import posixpath
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from console.config.checks import ENV_NAME
from console.config.lines import FieldPath, LineMap, format_path
from console.config.model import ConfigIssue, Secret
from console.textsafe import CONTROL

Table = dict[str, Any]
_T = TypeVar("_T", bound=str)

SECRET_KEYS = frozenset({"password", "pass", "passwd", "secret"})
"""Keys that would hold a secret in clear: refused wherever they appear."""
SECRET_MESSAGE = "secrets are never stored in the file; use password_env or password_file"


def control_character(value: str) -> str | None:
    """Why `value` is refused when it holds a control character (NUL, tab, newline, ESC ...),
    else None. Paths and commands end up in shell lines on the nodes, where a NUL cuts them
    and a newline starts another command; names and URLs end up on the screen."""
    match = CONTROL.search(value)
    if match is None:
        return None
    return (
        f"contains a control character (\\x{ord(match.group()):02x} at character "
        f"{match.start() + 1}); write it without one"
    )


def type_name(value: object) -> str:
    """The TOML name of a parsed value's type, as users know it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, datetime.datetime):
        return "datetime"
    if isinstance(value, datetime.date):
        return "date"
    return "time"


class TableReader:
    """Reads tables with typed getters that record issues instead of raising."""

    def __init__(self, file: str, lines: LineMap, base_dir: Path) -> None:
        self.file = file
        self.lines = lines
        self.base_dir = base_dir
        self.issues: list[ConfigIssue] = []

    def error(self, path: FieldPath, message: str) -> None:
        """Record a problem at ``path`` (its line, or its table's line when absent)."""
        field = format_path(path) or "file"
        self.issues.append(ConfigIssue(self.file, self.lines.line_of(path), field, message))

    def keys(self, table: Table, path: FieldPath, allowed: Sequence[str]) -> None:
        """Report keys of ``table`` that the schema does not know, with a close-match hint."""
        for key in table:
            if key in allowed or key.lower() in SECRET_KEYS:
                continue
            close = difflib.get_close_matches(key.lower(), allowed, n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else "expected one of: " + ", ".join(allowed)
            )
            self.error((*path, key), f"unknown field; {hint}")

    def secrets_in_clear(self, value: object, path: FieldPath) -> None:
        """Report every key named like a password, anywhere in the document."""
        if isinstance(value, dict):
            for key, item in value.items():
                if key.lower() in SECRET_KEYS:
                    self.error((*path, key), SECRET_MESSAGE)
                self.secrets_in_clear(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.secrets_in_clear(item, (*path, index))

    def table(self, doc: Table, key: str) -> Table | None:
        """An optional top-level table, None when absent or not a table."""
        value = doc.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error((key,), f"expected a table, got {type_name(value)}")
            return None
        return value

    def string(
        self,
        table: Table,
        path: FieldPath,
        key: str,
        *,
        required: bool = False,
        free_text: bool = False,
    ) -> str | None:
        """A non-empty string value, or None when absent or invalid.

        Control characters are refused unless `free_text` (a label only ever shown, escaped):
        every other string becomes a path, command, URL or name on the nodes."""
        value = table.get(key)
        if value is None:
            if required:
                self.error((*path, key), "missing")
            return None
        if not isinstance(value, str):
            self.error((*path, key), f"expected a string, got {type_name(value)}")
            return None
        if not free_text and (control := control_character(value)) is not None:
            self.error((*path, key), control)
            return None
        if not value.strip():
            self.error((*path, key), "must not be empty")
            return None
        return value

    def choice(
        self, table: Table, path: FieldPath, key: str, allowed: Sequence[_T], what: str
    ) -> _T | None:
        """A string that must be one of ``allowed``."""
        value = self.string(table, path, key)
        if value is None:
            return None
        for option in allowed:
            if value == option:
                return option
        self.error((*path, key), f"unknown {what} {value!r}; expected one of: {', '.join(allowed)}")
        return None

    def port(self, table: Table, path: FieldPath, key: str) -> int | None:
        """An integer port number in 1..65535."""
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error((*path, key), f"expected an integer, got {type_name(value)}")
            return None
        if not 1 <= value <= 65535:
            self.error((*path, key), f"must be between 1 and 65535, got {value}")
            return None
        return value

    def strings(
        self, table: Table, path: FieldPath, key: str
    ) -> list[tuple[FieldPath, str]] | None:
        """An array of strings, each with its own path for later messages."""
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            self.error((*path, key), f"expected an array of strings, got {type_name(value)}")
            return None
        items: list[tuple[FieldPath, str]] = []
        for index, item in enumerate(value):
            item_path = (*path, key, index)
            if not isinstance(item, str):
                self.error(item_path, f"expected a string, got {type_name(item)}")
            elif (control := control_character(item)) is not None:
                self.error(item_path, control)
            elif not item.strip():
                self.error(item_path, "must not be empty")
            else:
                items.append((item_path, item))
        return items

    def absolute(
        self, table: Table, path: FieldPath, key: str, *, required: bool = False
    ) -> str | None:
        """An absolute POSIX path on the nodes, normalised."""
        value = self.string(table, path, key, required=required)
        if value is None:
            return None
        if not value.startswith("/"):
            self.error((*path, key), f"must be an absolute path, got {value!r}")
            return None
        return posixpath.normpath(value)

    def local_path(self, value: str) -> Path:
        """A local path with ``~`` expanded, relative ones taken from the config's directory."""
        return self.base_dir / Path(value).expanduser()

    def local_file(self, table: Table, path: FieldPath, key: str) -> Path | None:
        """An optional local file path (not checked for existence)."""
        value = self.string(table, path, key)
        return None if value is None else self.local_path(value)

    def secret(self, table: Table, path: FieldPath) -> Secret | None:
        """password_env / password_file: at most one, the file existing and not world-readable."""
        env = self.string(table, path, "password_env")
        file = self.string(table, path, "password_file")
        if "password_env" in table and "password_file" in table:
            self.error(
                (*path, "password_file"), "give either password_env or password_file, not both"
            )
            return None
        if env is not None:
            if not ENV_NAME.fullmatch(env):
                self.error((*path, "password_env"), f"{env!r} is not an environment variable name")
                return None
            return self._secret(path, "password_env", env=env)
        if file is None:
            return None
        resolved = self.local_path(file)
        problem = _secret_file_problem(resolved)
        if problem is not None:
            self.error((*path, "password_file"), problem)
            return None
        return self._secret(path, "password_file", file=resolved)

    def _secret(
        self, path: FieldPath, key: str, *, env: str | None = None, file: Path | None = None
    ) -> Secret:
        where = (*path, key)
        return Secret(env, file, self.file, self.lines.line_of(where), format_path(where))

    def tables(self, doc: Table, key: str, *, required: bool) -> list[tuple[FieldPath, Table]]:
        """The elements of an array of tables (``[[key]]``)."""
        value = doc.get(key)
        if value is None or value == []:
            if required:
                self.error((key,), f"at least one [[{key}]] table is required")
            return []
        if not isinstance(value, list):
            self.error((key,), f"expected an array of [[{key}]] tables, got {type_name(value)}")
            return []
        found: list[tuple[FieldPath, Table]] = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                found.append(((key, index), item))
            else:
                self.error((key, index), f"expected a table, got {type_name(item)}")
        return found

    def unique(
        self, seen: dict[str, FieldPath], value: str | None, path: FieldPath, what: str
    ) -> None:
        """Report ``value`` if an earlier entry already used it."""
        if value is None:
            return
        if value in seen:
            first = self.lines.line_of(seen[value])
            self.error(path, f"duplicate {what} {value!r} (first used on line {first})")
        else:
            seen[value] = path


def _secret_file_problem(path: Path) -> str | None:
    """Why a password file cannot be used, checked when the config is loaded."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"{path} does not exist"
    except OSError as exc:
        return f"cannot check {path}: {exc.strerror or exc}"
    if not stat.S_ISREG(info.st_mode):
        return f"{path} is not a regular file"
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o004:
        return f"{path} is world-readable (mode {mode:04o}); chmod 600 it"
    return None
