"""A node's figures (sessions, heap, threads, request and error rates, latency) with history.

Each read of a node's manager application (`probes.metrics.tomcat_manager`) or, where there is none,
of
its JVM over SSH (`probes.metrics.jvm`) becomes one `MetricsPoint`; a node keeps the last `HISTORY`
of
them for sparklines. Rates compare Tomcat's counters (requests, errors, processing time, summed
over the connectors) with the previous read's, like `console.cluster.rates` does for the balancer: a
counter that went down (the node restarted) gives no rate for that read, never a negative one or
a false zero. A figure that cannot be told is None, and `missing` says why, in plain words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from console.cluster.evolve import evolve
from console.cluster.metrics_access import access_json, with_access
from console.cluster.metrics_sessions import own_sessions as own_sessions
from console.cluster.metrics_sessions import own_sessions_settled as own_sessions_settled
from console.cluster.metrics_sessions import with_sessions
from console.cluster.observations import MetricsObserved
from console.config.model import DEFAULT_MAX_ERRORS
from probes.metrics.access_tail import AccessRead
from probes.metrics.jvm import JvmSample
from probes.metrics.tomcat_manager import AppSessions, ConnectorStats, ManagerSample

HISTORY = 120
"""Points kept per node: ten minutes at the default 5 s interval."""

FIELDS = (
    "sessions_active",
    "heap_used_bytes",
    "heap_max_bytes",
    "threads_busy",
    "threads_max",
    "requests_per_s",
    "errors_per_s",
    "latency_ms",
)
"""The figures of `status --json`'s per-node ``metrics`` object, in its order."""
ADDED_RATES = ("errors_4xx_per_s", "errors_4xx_5xx_per_s")
"""Rates added to that object after FIELDS (null when unknown, with `missing` saying why):
4xx from the access log, and Tomcat's own errorCount (status >= 400) a second."""

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Counters:
    """Tomcat's counters since its start, summed over the connectors (None: not all known)."""

    requests: int | None
    errors: int | None
    processing_ms: int | None


@dataclass(frozen=True, slots=True)
class MetricsPoint:
    """A node's figures at one read; None where unknown."""

    at: float
    sessions_active: int | None = None
    heap_used_bytes: int | None = None
    heap_max_bytes: int | None = None
    threads_busy: int | None = None
    threads_max: int | None = None
    requests_per_s: float | None = None
    errors_per_s: float | None = None
    latency_ms: float | None = None
    """Mean time to serve one request since the previous read (processing time / requests)."""
    errors_4xx_per_s: float | None = None
    """Answers of status 400-499 a second, from the access log (like `errors_per_s`)."""
    errors_4xx_5xx_per_s: float | None = None
    """Tomcat's own error count a second (its connectors' errorCount: every status >= 400)."""
    sessions_own: int | None = None
    """Sessions only this node holds: active sessions of its applications whose manager does not
    replicate them (StandardManager, PersistentManager; Tomcat's own /manager left out). With
    DeltaManager or BackupManager a peer holds a copy of each, so they count 0 here: stopping
    the node loses none. The figure a drain waits on."""

    def figure(self, name: str) -> float | int | None:
        value: float | int | None = getattr(self, name)
        return value

    @property
    def heap_ratio(self) -> float | None:
        if self.heap_used_bytes is None or not self.heap_max_bytes:
            return None
        return self.heap_used_bytes / self.heap_max_bytes


@dataclass(frozen=True, slots=True, eq=False)
class NodeMetrics:
    """Everything known about one node's figures: the latest point, its history and why any
    figure is missing.

    Compared by identity: every read makes a new one, and screens comparing node views must not
    walk 120 points of history for each of hundreds of nodes."""

    point: MetricsPoint
    missing: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    """Why each unknown figure of `point` is unknown, by field name (FIELDS)."""
    history: tuple[MetricsPoint, ...] = ()
    """The last HISTORY points, oldest first (the latest is `point`)."""
    counters: Counters | None = None
    """The counters of the latest read (the next read's rates start from them)."""
    apps: tuple[AppSessions, ...] = ()
    """The latest read's session managers, one per web application."""
    connectors: tuple[ConnectorStats, ...] = ()
    source: str = "manager"
    """Where the figures came from: ``manager`` (Tomcat's manager application) or ``ssh``."""
    jvm: JvmSample | None = None
    """What SSH read from the JVM's process (the fallback), when it was read."""
    max_errors_per_s: float = DEFAULT_MAX_ERRORS
    """The inventory's threshold for this node's error rate (the cross-checks compare)."""
    access: AccessRead | None = None
    """The latest read of the node's access log (where its 5xx and 4xx figures come from)."""

    @property
    def at(self) -> float:
        return self.point.at

    @property
    def replicated_apps(self) -> tuple[AppSessions, ...]:
        return tuple(app for app in self.apps if app.replicated)

    @property
    def sessions_created_here(self) -> int | None:
        """Sessions this node created and sent to its peers (DeltaManager), all apps."""
        return _sum(app.sent_created for app in self.replicated_apps)

    @property
    def sessions_received(self) -> int | None:
        """Sessions created on a peer and received here (DeltaManager), all apps."""
        return _sum(app.received_created for app in self.replicated_apps)

    def series(self, name: str) -> list[float | None]:
        """One figure over the history, oldest first (None where it was unknown)."""
        return [
            float(value) if (value := point.figure(name)) is not None else None
            for point in self.history
        ]

    def to_json(self) -> dict[str, object]:
        """The ``metrics`` object of `status --json` (fields may be added, never renamed)."""
        out: dict[str, object] = {name: self.point.figure(name) for name in FIELDS}
        for rate in ("requests_per_s", "errors_per_s", "latency_ms"):
            value = out[rate]
            if isinstance(value, float):
                out[rate] = round(value, 3)
        for name in ADDED_RATES:
            value = self.point.figure(name)
            out[name] = round(value, 3) if isinstance(value, float) else value
        named = (*FIELDS, *ADDED_RATES)
        out["missing"] = {name: self.missing[name] for name in named if name in self.missing}
        out["source"] = self.source
        out["at"] = self.point.at
        out["sessions_created_here"] = self.sessions_created_here
        out["sessions_received"] = self.sessions_received
        out["sessions_own"] = self.point.sessions_own
        out["applications"] = [
            {
                "context": app.context,
                "manager": app.manager,
                "active": app.active,
                "created": app.created,
                "expired": app.expired,
                "rejected": app.rejected,
                "created_here": app.sent_created,
                "received": app.received_created,
            }
            for app in self.apps
        ]
        if self.jvm is not None:
            out["process"] = self.jvm.to_json()
        out["access_log"] = access_json(self.access)
        return out


def _sum(values: Iterable[int | None]) -> int | None:
    total = 0
    seen = False
    for value in values:
        if value is None:
            return None
        total += value
        seen = True
    return total if seen else None


def counters(connectors: tuple[ConnectorStats, ...]) -> Counters:
    """The counters summed over every connector; a counter one connector lacks is None."""
    return Counters(
        requests=_sum(c.requests for c in connectors),
        errors=_sum(c.errors for c in connectors),
        processing_ms=_sum(c.processing_ms for c in connectors),
    )


def _busiest(connectors: tuple[ConnectorStats, ...]) -> ConnectorStats | None:
    """The connector closest to running out of request threads (the figure an operator needs:
    one exhausted pool refuses work even while another idles)."""
    known = [c for c in connectors if c.threads_busy is not None and c.threads_max]
    if not known:
        return None
    return max(known, key=lambda c: (c.threads_busy or 0) / (c.threads_max or 1))


def unknown(at: float, reason: str, previous: NodeMetrics | None = None) -> NodeMetrics:
    """Every figure unknown for `reason` (nothing could be read), history kept."""
    point = MetricsPoint(at)
    missing = dict.fromkeys((*FIELDS, *ADDED_RATES), reason)
    return _with_history(NodeMetrics(point, MappingProxyType(missing)), previous)


def _with_history(metrics: NodeMetrics, previous: NodeMetrics | None) -> NodeMetrics:
    history = previous.history[-(HISTORY - 1) :] if previous is not None else ()
    return evolve(metrics, history=(*history, metrics.point))


def _rate(now: int | None, before: int | None, seconds: float) -> float | None:
    if now is None or before is None or seconds <= 0 or now < before:
        return None
    return (now - before) / seconds


def from_manager(
    sample: ManagerSample,
    at: float,
    previous: NodeMetrics | None,
    jvm: JvmSample | None = None,
) -> NodeMetrics:
    """The node's figures after one read of its manager application."""
    missing: dict[str, str] = {}
    heap_used = heap_max = threads_busy = threads_max = None
    requests_per_s = errors_4xx_5xx = latency_ms = None
    now: Counters | None = None
    connectors: tuple[ConnectorStats, ...] = ()
    status = sample.status
    if status is None:
        reason = sample.status_error or "the status page was not read"
        for name in (*FIELDS[1:], "errors_4xx_5xx_per_s"):
            missing[name] = reason
    else:
        connectors = status.connectors
        heap_used, heap_max = status.heap_used, status.heap_max
        if heap_used is None:
            missing["heap_used_bytes"] = "the status page gives no heap figure"
        if heap_max is None:
            missing["heap_max_bytes"] = "the status page gives no heap limit"
        busiest = _busiest(connectors)
        if busiest is None:
            for name in ("threads_busy", "threads_max"):
                missing[name] = "the status page gives no connector's threads"
        else:
            threads_busy, threads_max = busiest.threads_busy, busiest.threads_max
        now = counters(connectors)
        before = previous.counters if previous is not None else None
        seconds = at - previous.at if previous is not None else 0.0
        if not connectors:
            why = "the status page lists no connector"
        elif previous is None:
            why = "a rate needs two reads (the first was just made)"
        elif before is None:
            why = "a rate needs two reads with figures (the previous one had none)"
        else:
            why = "the counters went back (the node restarted)"
        if before is not None:
            requests_per_s = _rate(now.requests, before.requests, seconds)
            errors_4xx_5xx = _rate(now.errors, before.errors, seconds)
            served = _rate(now.requests, before.requests, 1.0)
            spent = _rate(now.processing_ms, before.processing_ms, 1.0)
            if served and spent is not None:
                latency_ms = spent / served
            elif served == 0:
                missing["latency_ms"] = "no request was served since the previous read"
        for name, value, counter in (
            ("requests_per_s", requests_per_s, now.requests),
            ("errors_4xx_5xx_per_s", errors_4xx_5xx, now.errors),
            ("latency_ms", latency_ms, now.processing_ms),
        ):
            if value is None and name not in missing:
                missing[name] = (
                    f"the status page gives no {name.split('_')[0]} counter"
                    if counter is None and connectors
                    else why
                )
    sessions_active = None
    if sample.sessions is None:
        missing["sessions_active"] = sample.sessions_error or "the JMX proxy was not read"
    else:
        sessions_active = _sum(app.active for app in sample.sessions)
        if sessions_active is None:
            missing["sessions_active"] = (
                "the JMX proxy lists no session manager"
                if not sample.sessions
                else "the JMX proxy gives no activeSessions"
            )
    point = MetricsPoint(
        at,
        sessions_active,
        heap_used,
        heap_max,
        threads_busy,
        threads_max,
        requests_per_s,
        None,
        latency_ms,
        errors_4xx_5xx_per_s=errors_4xx_5xx,
        sessions_own=_own(sample.sessions),
    )
    metrics = NodeMetrics(
        point,
        MappingProxyType(missing),
        counters=now,
        apps=sample.sessions or (),
        connectors=connectors,
        source="manager",
        jvm=jvm,
    )
    return _with_history(metrics, previous)


NOT_OWN_CONTEXTS = frozenset(("/manager", "/host-manager"))
"""Tomcat's own applications: their sessions are the console's or an admin's, not users'."""


def _own(apps: tuple[AppSessions, ...] | None) -> int | None:
    if not apps:
        return None
    total = 0
    for app in apps:
        if app.replicated or app.context in NOT_OWN_CONTEXTS:
            continue
        if app.active is None:
            return None
        total += app.active
    return total


def from_jvm(
    sample: JvmSample, at: float, previous: NodeMetrics | None, why_no_manager: str
) -> NodeMetrics:
    """The node's figures from SSH alone (no manager application): heap from ``jstat`` when a
    JDK is on the node; sessions, threads and rates are not known without the manager."""
    missing: dict[str, str] = {}
    for name in ("sessions_active", "threads_busy", "threads_max"):
        missing[name] = why_no_manager
    for name in ("requests_per_s", "errors_4xx_5xx_per_s", "latency_ms"):
        missing[name] = why_no_manager
    if sample.heap_used is None:
        missing["heap_used_bytes"] = sample.heap_missing or "jstat gave no heap figure"
    if sample.heap_max is None:
        missing["heap_max_bytes"] = sample.heap_missing or "jstat gave no heap limit"
    point = MetricsPoint(at, heap_used_bytes=sample.heap_used, heap_max_bytes=sample.heap_max)
    metrics = NodeMetrics(point, MappingProxyType(missing), source="ssh", jvm=sample)
    return _with_history(metrics, previous)


def apply(observation: MetricsObserved, previous: NodeMetrics | None) -> NodeMetrics:
    """A node's figures after one observation (the state's reducer calls this)."""
    at = observation.at
    reason = observation.reason or "the figures were not read"
    if observation.sample is not None and (
        observation.sample.status is not None or observation.jvm is None
    ):
        found = from_manager(observation.sample, at, previous, observation.jvm)
    elif observation.jvm is not None:
        found = from_jvm(observation.jvm, at, previous, reason)
        if observation.sample is not None:
            found = with_sessions(found, observation.sample)
    else:
        found = unknown(at, reason, previous)
    found = with_access(found, observation.access, observation.access_since)
    if found.max_errors_per_s == observation.max_errors_per_s:
        return found
    return evolve(found, max_errors_per_s=observation.max_errors_per_s)


NOT_READ = "not read yet (no answer by the deadline)"


def metrics_json(metrics: NodeMetrics | None) -> dict[str, object]:
    """A node's ``metrics`` object for `status --json`: every figure (null when unknown) and
    `missing` (why, per null figure), also before the first read."""
    if metrics is None:
        out: dict[str, object] = dict.fromkeys((*FIELDS, *ADDED_RATES))
        out["missing"] = dict.fromkeys((*FIELDS, *ADDED_RATES), NOT_READ)
        return out
    return metrics.to_json()
