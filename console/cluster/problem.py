"""What the cross-checks report: a problem (severity, stable code, node, plain sentence), an
acknowledged one, and everything one snapshot's checks found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from console.cluster.maintenance import Acknowledgement, problem_key

Severity = Literal["critical", "warning", "info"]
SEVERITY_ORDER: dict[str, int] = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong, for one node (or the whole cluster when node is None)."""

    severity: Severity
    code: str
    """A stable identifier (``split-brain``, ``ssh-host-key`` ...) for scripts and tests."""
    node: str | None
    text: str
    subject: str | None = None
    """What a cluster-wide problem is about when there can be several (a balancer's name)."""

    @property
    def key(self) -> str:
        """Stable across snapshots (code and node or subject): what an acknowledgement names."""
        return problem_key(self.code, self.node or self.subject)

    def to_json(self) -> dict[str, str | None]:
        return {
            "severity": self.severity,
            "code": self.code,
            "node": self.node,
            "text": self.text,
            "key": self.key,
        }


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """A problem an operator acknowledged, and the acknowledgement (who, until when)."""

    problem: Problem
    acknowledgement: Acknowledgement


@dataclass(frozen=True, slots=True)
class Findings:
    """Everything the checks found in one snapshot, sorted like `problems`."""

    alarms: tuple[Problem, ...]
    """Critical and warning problems nobody acknowledged: the alarm list."""
    acknowledged: tuple[Acknowledged, ...]
    """Problems acknowledged and not expired (by the snapshot's clock)."""
    notices: tuple[Problem, ...]
    """Informational: nodes in maintenance, membership that cannot be told, and why."""
