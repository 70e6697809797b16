"""What a wizard run reports: its progress events, the changes a step makes, and its outcome.

Plain data shared by the engine that emits them and by the scripted runner and the wizard screen
that render them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from console import exitcodes

ProgressKind = Literal[
    "plan",  # dry run: the step and the exact changes it would make
    "started",  # a step began
    "waiting",  # a step waits: for what, with the current figures
    "warning",  # something the operator should know; the run goes on
    "change",  # a change was made and read back: `changes` holds what was sent
    "observed",  # something read back or learned that changes nothing (a reading, a check)
    "done",  # a step finished and was verified
    "skipped",  # a step had nothing to do
    "failed",  # a step failed (why is in `text`)
    "refused",  # a safety check refused the run
    "cancelled",  # the run was cancelled
    "finished",  # the run ended: `text` says how and `state` where the cluster was left
]

Status = Literal["done", "failed", "timed-out", "refused", "cancelled", "declined", "planned"]


@dataclass(frozen=True, slots=True)
class Change:
    """One change a step makes, as it would be sent (for dry runs and confirmations)."""

    what: str
    """A plain sentence: `set node2 to drain on httpd (balancer://cluster)`."""
    request: Mapping[str, Any]
    """The exact request (HTTP form, HAProxy command, shell command); never a password."""

    def to_json(self) -> dict[str, Any]:
        return {"what": self.what, "request": dict(self.request)}


@dataclass(frozen=True, slots=True)
class Progress:
    """One event of a run. Screens and the scripted runner render these; nothing else."""

    kind: ProgressKind
    wizard: str
    node: str
    step: str | None
    """The step's name (None for run-level events)."""
    index: int
    """1-based position of the step (0 for run-level events)."""
    total: int
    text: str
    """A plain sentence for people."""
    waiting_for: str | None = None
    figures: Mapping[str, Any] = field(default_factory=dict)
    """Live figures (`busy`, `elected/s`, `seconds left` ...), for `waiting` events."""
    changes: tuple[Change, ...] = ()
    state: str | None = None
    """For `finished`, `failed`, `cancelled`: the state the cluster is left in."""
    status: Status | None = None
    """For `finished`: how the run ended."""
    at: float = field(default_factory=time.time)
    """When it happened (epoch seconds); in JSON `at` (ISO 8601, UTC) and `time` (epoch)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.kind,
            "wizard": self.wizard,
            "node": self.node,
            "step": self.step,
            "index": self.index,
            "total": self.total,
            "text": self.text,
            "waiting_for": self.waiting_for,
            "figures": dict(self.figures),
            "changes": [change.to_json() for change in self.changes],
            "state": self.state,
            "status": self.status,
            "at": datetime.fromtimestamp(self.at, UTC).isoformat(timespec="milliseconds"),
            "time": self.at,
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a run ended and the state it left the cluster in."""

    status: Status
    text: str
    state: str
    step: str | None = None

    @property
    def exit_code(self) -> int:
        if self.status in ("done", "planned"):
            return exitcodes.OK
        if self.status == "refused":
            return exitcodes.REFUSED
        return exitcodes.PROBLEMS
