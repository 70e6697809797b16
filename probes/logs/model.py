"""The events the log scanner reports: one frozen dataclass that every consumer codes against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EventKind = Literal[
    "member-joined",
    "member-left",
    "membership",
    "member-name",
    "session-sync",
    "server-started",
    "server-stopping",
    "error",
]
EventSource = Literal["tomcat", "wso2", "hazelcast", "jgroups"]

TEXT_CAP = 8 * 1024
"""Characters of a record kept in `LogEvent.text`; longer records are cut with an ellipsis."""


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One cluster-relevant record found in a log stream, located by line number and byte offset.

    `line` and `offset` point at the first line of the record (a two-line JUL record, a
    Hazelcast block with its header line, an error with its folded stack trace).
    """

    kind: EventKind
    source: EventSource
    line: int
    offset: int
    time: str | None
    member: str | None
    members: tuple[str, ...] = ()
    text: str = ""
    detail: str | None = None
    observer: str | None = None
