"""What the sandbox load generator measured: per client replies judged, per run the report.

The counter-break rule (a lost session, a stale count, a skip that is not a break) is explained
in `console.sandbox.load`, whose generator feeds these trackers.
"""

from __future__ import annotations

import enum
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

KEEP_SAMPLES = 10
"""How many failures, breaks and skips are kept with their details (all are counted)."""

_REPLY = re.compile(r"^node=(?P<node>\S+) session=(?P<session>\S+) count=(?P<count>\d+)$")


@dataclass(frozen=True, slots=True)
class AppReply:
    """One answer of the sandbox app: the node that served it, the session id, its count."""

    node: str
    session: str
    count: int


def parse_reply(text: str) -> AppReply | None:
    """The app's ``node=... session=... count=...`` line, or None for anything else."""
    match = _REPLY.match(text.strip())
    if match is None:
        return None
    return AppReply(match["node"], match["session"], int(match["count"]))


def session_base(session: str) -> str:
    """The session id without the ``.jvmRoute`` suffix that JvmRouteBinderValve rewrites."""
    return session.rsplit(".", 1)[0] if "." in session else session


class Verdict(enum.Enum):
    """How one successful reply compares with the client's previous one."""

    FIRST = "first"
    NEXT = "next"
    SKIP = "skip"
    STALE = "stale"
    LOST = "lost"

    @property
    def is_break(self) -> bool:
        return self in (Verdict.STALE, Verdict.LOST)


def judge(previous: AppReply | None, reply: AppReply) -> Verdict:
    """The counter-break rule of the module docstring, for one reply."""
    if previous is None:
        return Verdict.FIRST
    if session_base(reply.session) != session_base(previous.session):
        return Verdict.LOST
    if reply.count == previous.count + 1:
        return Verdict.NEXT
    if reply.count > previous.count + 1:
        return Verdict.SKIP
    return Verdict.STALE


@dataclass(frozen=True, slots=True)
class Sample:
    """One kept failure, break or skip: when (s after the start), which client, what."""

    at: float
    client: int
    kind: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "at_s": round(self.at, 3),
            "client": self.client,
            "kind": self.kind,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Switch:
    """A client's reply came from another node than its previous one."""

    at: float
    client: int
    source: str
    target: str

    def to_json(self) -> dict[str, Any]:
        return {
            "at_s": round(self.at, 3),
            "client": self.client,
            "from": self.source,
            "to": self.target,
        }


@dataclass(frozen=True, slots=True)
class ClientReport:
    """One client's figures and where its session is now."""

    index: int
    session: str | None
    count: int | None
    node: str | None
    nodes: tuple[str, ...]
    requests: int
    ok: int
    failures: int
    breaks: int
    skips: int
    switches: int

    def to_json(self) -> dict[str, Any]:
        return {
            "client": self.index,
            "session": self.session,
            "count": self.count,
            "node": self.node,
            "nodes": list(self.nodes),
            "requests": self.requests,
            "ok": self.ok,
            "failures": self.failures,
            "breaks": self.breaks,
            "skips": self.skips,
            "switches": self.switches,
        }


class ClientTracker:
    """What one client has seen; pure bookkeeping, fed by the generator (or by a test)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.last: AppReply | None = None
        self.nodes: list[str] = []
        self.requests = 0
        self.ok = 0
        self.failures = 0
        self.breaks = 0
        self.skips = 0
        self.switches = 0

    def observe(self, reply: AppReply) -> tuple[Verdict, str | None]:
        """Take one successful reply: its verdict, and the node it switched from (if any)."""
        self.requests += 1
        self.ok += 1
        verdict = judge(self.last, reply)
        switched_from: str | None = None
        if self.last is not None and reply.node != self.last.node:
            switched_from = self.last.node
            self.switches += 1
        if verdict.is_break:
            self.breaks += 1
        elif verdict is Verdict.SKIP:
            self.skips += 1
        if not self.nodes or self.nodes[-1] != reply.node:
            self.nodes.append(reply.node)
        self.last = reply
        return verdict, switched_from

    def fail(self) -> None:
        """One request that got no usable reply."""
        self.requests += 1
        self.failures += 1

    def report(self) -> ClientReport:
        last = self.last
        return ClientReport(
            index=self.index,
            session=last.session if last else None,
            count=last.count if last else None,
            node=last.node if last else None,
            nodes=tuple(self.nodes),
            requests=self.requests,
            ok=self.ok,
            failures=self.failures,
            breaks=self.breaks,
            skips=self.skips,
            switches=self.switches,
        )


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of `values` (None when empty); `fraction` in [0, 1]."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


@dataclass(frozen=True, slots=True)
class LoadWindow:
    """What happened between two snapshots of one generator (e.g. while a wizard ran)."""

    start_s: float
    duration_s: float
    requests: int
    failures: int
    breaks: int
    skips: int
    switches: int

    @property
    def rate(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "start_s": round(self.start_s, 3),
            "duration_s": round(self.duration_s, 3),
            "requests": self.requests,
            "rate": round(self.rate, 1),
            "failures": self.failures,
            "breaks": self.breaks,
            "skips": self.skips,
            "switches": self.switches,
        }


@dataclass(frozen=True, slots=True)
class LoadReport:
    """Figures of one load run so far (a snapshot) or in full (after `stop`)."""

    url: str
    clients: int
    target_rate: float
    started_at: str
    duration_s: float
    requests: int
    ok: int
    failures: int
    breaks: int
    skips: int
    switches: int
    replies_by_node: Mapping[str, int]
    latency_p50_s: float | None
    latency_p99_s: float | None
    latency_max_s: float | None
    longest_gap_s: float
    slowest_second: int | None
    failure_samples: tuple[Sample, ...]
    break_samples: tuple[Sample, ...]
    skip_samples: tuple[Sample, ...]
    switch_events: tuple[Switch, ...]
    per_client: tuple[ClientReport, ...]
    running: bool = False

    @property
    def rate(self) -> float:
        """Requests completed (answered or failed) per second over the run."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    def since(self, earlier: LoadReport) -> LoadWindow:
        """The figures between `earlier` (a snapshot of the same generator) and this one."""
        return LoadWindow(
            start_s=earlier.duration_s,
            duration_s=self.duration_s - earlier.duration_s,
            requests=self.requests - earlier.requests,
            failures=self.failures - earlier.failures,
            breaks=self.breaks - earlier.breaks,
            skips=self.skips - earlier.skips,
            switches=self.switches - earlier.switches,
        )

    def clients_on(self, node: str) -> tuple[int, ...]:
        """The clients whose latest reply came from `node`."""
        return tuple(client.index for client in self.per_client if client.node == node)

    def to_json(self, *, per_client: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "url": self.url,
            "clients": self.clients,
            "target_rate": self.target_rate,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "requests": self.requests,
            "rate": round(self.rate, 1),
            "ok": self.ok,
            "failures": self.failures,
            "counter_breaks": self.breaks,
            "skips": self.skips,
            "node_switches": self.switches,
            "replies_by_node": dict(sorted(self.replies_by_node.items())),
            "latency_ms": {
                "p50": _ms(self.latency_p50_s),
                "p99": _ms(self.latency_p99_s),
                "max": _ms(self.latency_max_s),
            },
            "longest_gap_ms": _ms(self.longest_gap_s),
            "slowest_second_requests": self.slowest_second,
            "failure_samples": [sample.to_json() for sample in self.failure_samples],
            "break_samples": [sample.to_json() for sample in self.break_samples],
            "skip_samples": [sample.to_json() for sample in self.skip_samples],
        }
        if per_client:
            data["per_client"] = [client.to_json() for client in self.per_client]
            data["switch_events"] = [switch.to_json() for switch in self.switch_events]
        return data


@dataclass(slots=True)
class LoadBook:
    """The generator's bookkeeping across clients, without any I/O (unit-testable)."""

    clients: int
    keep: int = KEEP_SAMPLES
    trackers: list[ClientTracker] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    by_node: Counter[str] = field(default_factory=Counter)
    per_second: Counter[int] = field(default_factory=Counter)
    failure_samples: list[Sample] = field(default_factory=list)
    break_samples: list[Sample] = field(default_factory=list)
    skip_samples: list[Sample] = field(default_factory=list)
    switch_events: list[Switch] = field(default_factory=list)
    last_ok_at: float = 0.0
    longest_gap: float = 0.0

    def __post_init__(self) -> None:
        if not self.trackers:
            self.trackers = [ClientTracker(index) for index in range(self.clients)]

    def answered(self, client: int, at: float, latency: float, reply: AppReply) -> Verdict:
        """A reply the app sent (HTTP 200 with its line), `at` s after the start."""
        tracker = self.trackers[client]
        before = tracker.last
        verdict, switched_from = tracker.observe(reply)
        self._done(at, latency)
        self.by_node[reply.node] += 1
        self.longest_gap = max(self.longest_gap, at - self.last_ok_at)
        self.last_ok_at = max(self.last_ok_at, at)
        if switched_from is not None:
            self.switch_events.append(Switch(at, client, switched_from, reply.node))
        if verdict.is_break or verdict is Verdict.SKIP:
            was = f"{before.session} count={before.count} on {before.node}" if before else "-"
            detail = (
                f"{verdict.value}: {was} -> {reply.session} count={reply.count} on {reply.node}"
            )
            kept = self.skip_samples if verdict is Verdict.SKIP else self.break_samples
            if len(kept) < self.keep:
                kept.append(Sample(at, client, verdict.value, detail))
        return verdict

    def failed(self, client: int, at: float, latency: float, reason: str) -> None:
        """A request that got no usable reply (error status, timeout, network, bad body)."""
        self.trackers[client].fail()
        self._done(at, latency)
        if len(self.failure_samples) < self.keep:
            self.failure_samples.append(Sample(at, client, "failure", reason))

    def _done(self, at: float, latency: float) -> None:
        self.latencies.append(latency)
        self.per_second[int(at)] += 1

    def report(
        self, *, url: str, target_rate: float, started_at: str, duration: float, running: bool
    ) -> LoadReport:
        clients = tuple(tracker.report() for tracker in self.trackers)
        slowest = min((self.per_second[s] for s in range(int(duration))), default=None)
        gap = max(self.longest_gap, duration - self.last_ok_at) if running else self.longest_gap
        return LoadReport(
            url=url,
            clients=self.clients,
            target_rate=target_rate,
            started_at=started_at,
            duration_s=duration,
            requests=sum(c.requests for c in clients),
            ok=sum(c.ok for c in clients),
            failures=sum(c.failures for c in clients),
            breaks=sum(c.breaks for c in clients),
            skips=sum(c.skips for c in clients),
            switches=sum(c.switches for c in clients),
            replies_by_node=dict(self.by_node),
            latency_p50_s=percentile(self.latencies, 0.50),
            latency_p99_s=percentile(self.latencies, 0.99),
            latency_max_s=max(self.latencies, default=None),
            longest_gap_s=gap,
            slowest_second=slowest,
            failure_samples=tuple(self.failure_samples),
            break_samples=tuple(self.break_samples),
            skip_samples=tuple(self.skip_samples),
            switch_events=tuple(self.switch_events),
            per_client=clients,
            running=running,
        )
