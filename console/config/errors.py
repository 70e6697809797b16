"""Errors of a refused config file: small on purpose, so the command line can import them
without loading the whole config model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a config file, shown to the user as ``FILE:LINE: FIELD: MESSAGE``."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class ConfigError(Exception):
    """A config file was refused; ``str()`` lists every problem found, one per line, by line."""

    def __init__(self, errors: Sequence[ConfigIssue]) -> None:
        self.errors: list[ConfigIssue] = sorted(errors, key=lambda issue: issue.line)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.errors)


class ConfigNotFound(ConfigError):
    """No config file could be found; ``str()`` says where we looked and how to write one."""

    def __init__(self, message: str, searched: Sequence[Path] = ()) -> None:
        self.message = message
        self.searched: tuple[Path, ...] = tuple(searched)
        super().__init__([])

    def __str__(self) -> str:
        return self.message
