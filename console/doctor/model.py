"""The doctor's vocabulary: a finding, a check and its result, the report of one run."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from console.doctor.facts import ClusterFacts

Severity = Literal["critical", "warning"]
Outcome = Literal["pass", "fail", "skipped", "unknown"]
"""pass: checked, nothing wrong; fail: findings; skipped: does not apply to this cluster
(the reason says why); unknown: could not be checked (a node unreachable, a file unreadable)."""

SEVERITY_ORDER: dict[str, int] = {"critical": 0, "warning": 1}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong: which check, how bad, where (node, file, line), what, why, and the fix."""

    check: str
    severity: Severity
    node: str | None
    file: str | None
    line: int | None
    text: str
    why: str
    fix: str

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "node": self.node,
            "file": self.file,
            "line": self.line,
            "text": self.text,
            "why": self.why,
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a check function returns: its findings, or why it did not apply / could not run."""

    findings: tuple[Finding, ...] = ()
    skipped: str | None = None
    unknown: str | None = None


CheckFunction = Callable[["ClusterFacts"], Verdict]


@dataclass(frozen=True, slots=True)
class Check:
    """One registered check: a stable id, a title, what it reads, and the function."""

    id: str
    title: str
    needs: str
    function: CheckFunction


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: Check
    outcome: Outcome
    findings: tuple[Finding, ...]
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.check.id,
            "title": self.check.title,
            "needs": self.check.needs,
            "result": self.outcome,
            "findings": len(self.findings),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class DoctorReport:
    cluster: str
    results: tuple[CheckResult, ...]
    seconds: float
    notes: tuple[str, ...] = field(default=())
    """What could not be gathered (a node unreachable ...), in plain sentences."""

    @property
    def findings(self) -> tuple[Finding, ...]:
        found = [finding for result in self.results for finding in result.findings]
        return tuple(
            sorted(
                found,
                key=lambda f: (
                    SEVERITY_ORDER.get(f.severity, 9),
                    f.check,
                    f.node or "",
                    f.line or 0,
                ),
            )
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "seconds": round(self.seconds, 2),
            "findings": [finding.to_json() for finding in self.findings],
            "checks": [result.to_json() for result in self.results],
            "notes": list(self.notes),
        }


REGISTRY: list[Check] = []

ORDER = (
    "nodes-read",
    "config-files",
    "jvm-route",
    "balancer-route",
    "cluster-element",
    "distributable",
    "membership",
    "hostname-loopback",
    "clock-skew",
    "shared-dir",
    "database-grants",
    "datasource",
    "joget-javaagent",
    "license",
    "unload-delay",
    "wso2-task-server",
    "hazelcast-wka",
    "artifact-drift",
)
"""The order checks are run and listed in (the issue's order); others follow."""


def registry() -> list[Check]:
    """Every registered check, in ORDER."""
    rank = {name: index for index, name in enumerate(ORDER)}
    return sorted(REGISTRY, key=lambda c: rank.get(c.id, len(ORDER)))


def check(id: str, title: str, needs: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check function under a stable id (decorator)."""

    def register(function: CheckFunction) -> CheckFunction:
        if any(existing.id == id for existing in REGISTRY):
            raise ValueError(f"check {id} registered twice")
        REGISTRY.append(Check(id, title, needs, function))
        return function

    return register


def verdict(findings: Iterable[Finding]) -> Verdict:
    return Verdict(tuple(findings))
