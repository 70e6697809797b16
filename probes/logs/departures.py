"""One `member-left` event per departure, however many lines the log spends on it.

Tomcat logs one crash two or three times (`SimpleTcpCluster.memberDisappeared`, then
`TcpFailureDetector`'s "Verification complete. Member already disappeared", or "Suspect member,
confirmed dead" and then the cluster's own line); WSO2 may log a member leaving the group and
the cluster. A `member-left` for a member that already left this log's view (no join since) is
the same departure told again, and is dropped. A join, a full membership view or a server
start or stop ends what is known of earlier departures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from probes.logs.model import LogEvent

_Item = TypeVar("_Item", LogEvent, LogEvent | bytes)

MAX_TRACKED = 4096
"""Departed members remembered at most (log text is untrusted: a bound on what it can cost)."""

_Key = tuple[str | None, str]


class Departures:
    """Filters a log stream's events, in order, down to one `member-left` per departure."""

    def __init__(self) -> None:
        self._gone: dict[_Key, None] = {}

    def filter(self, events: Sequence[_Item]) -> list[_Item]:
        """The events without repeated departures (the same list object when none is dropped);
        bytes (JSON lines of errors) pass."""
        kept: list[_Item] | None = None
        for index, event in enumerate(events):
            if isinstance(event, LogEvent) and self._repeated(event):
                if kept is None:
                    kept = list(events[:index])
                continue
            if kept is not None:
                kept.append(event)
        if kept is None:
            return events if isinstance(events, list) else list(events)
        return kept

    def keep(self, event: LogEvent) -> bool:
        """Whether the next event of the stream is kept (False: a departure told again)."""
        return not self._repeated(event)

    def _repeated(self, event: LogEvent) -> bool:
        kind = event.kind
        if kind == "member-left" and event.member:
            key = (event.observer, event.member)
            if key in self._gone:
                return True
            if len(self._gone) >= MAX_TRACKED:
                del self._gone[next(iter(self._gone))]
            self._gone[key] = None
        elif kind == "member-joined" and event.member:
            self._gone.pop((event.observer, event.member), None)
        elif kind == "membership":
            present = set(event.members)
            for key in [key for key in self._gone if key[1] in present]:
                del self._gone[key]
        elif kind in ("server-started", "server-stopping"):
            self._gone.clear()
        return False
