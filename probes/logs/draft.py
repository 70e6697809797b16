"""What a classifier decides about one record; the scanner adds where and when it was logged."""

from __future__ import annotations

from dataclasses import dataclass

from probes.logs.model import EventKind, EventSource


@dataclass(frozen=True, slots=True)
class Draft:
    """An event without its position, time and text (those belong to the record, not the rule)."""

    kind: EventKind
    source: EventSource
    member: str | None = None
    members: tuple[str, ...] = ()
    detail: str | None = None
    observer: str | None = None
