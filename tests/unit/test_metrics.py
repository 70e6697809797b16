"""A node's figures in the cluster state: rates from Tomcat's counters (none after a restart, never
negative), history for sparklines, every unknown figure with its reason, the SSH fallback, and
the `status --json` contract."""

from __future__ import annotations

import json
from pathlib import Path

from console.cluster.crosschecks import problems
from console.cluster.metrics import (
    ADDED_RATES,
    FIELDS,
    HISTORY,
    NodeMetrics,
    metrics_json,
    own_sessions,
    own_sessions_settled,
)
from console.cluster.metrics_access import FIRST, NOT_READ
from console.cluster.observations import MetricsObserved, ProcessObserved
from console.cluster.state import ClusterState
from console.commands.status import to_json
from console.config import load_inventory_text
from probes.metrics.access_log import AccessCounts
from probes.metrics.access_tail import AccessRead
from probes.metrics.jvm import JvmSample, jvm_script, parse_jvm
from probes.metrics.tomcat_manager import (
    AppSessions,
    ConnectorStats,
    ManagerSample,
    ServerStatus,
)
from probes.process import TomcatProcess

DATA = Path(__file__).parent / "data" / "tomcat_manager"


def _inventory(tmp_path: Path) -> ClusterState:
    text = "[cluster]\nname = 'c'\n" + "".join(
        f"[[nodes]]\nname = 'n{i}'\nhost = '10.0.0.{i}'\ncatalina_base = '/t'\n"
        f"http = 'http://10.0.0.{i}:8080/app/'\n"
        for i in (1, 2, 3)
    )
    return ClusterState.initial(load_inventory_text(text, tmp_path / "cluster.toml"))


def _sample(
    requests: int | None,
    errors: int | None = 0,
    processing_ms: int | None = 0,
    *,
    active: int | None = 3,
    busy: int = 1,
    heap: tuple[int | None, int | None] = (100, 1000),
) -> ManagerSample:
    connector = ConnectorStats("http-nio-8080", busy, 200, requests, errors, processing_ms, 0, 0)
    idle = ConnectorStats("ajp-nio-8009", 0, 200, 0, 0, 0, 0, 0)
    app = AppSessions("/app", "DeltaManager", active, 10, 0, 0, 4, 6)
    return ManagerSample(ServerStatus(*heap, (connector, idle)), None, (app,), None, 3.0)


def _metrics(state: ClusterState, node: str = "n1") -> NodeMetrics:
    metrics = state.node(node).metrics
    assert metrics is not None
    return metrics


def test_rates_come_from_two_reads(tmp_path: Path) -> None:
    state = _inventory(tmp_path)
    state = state.apply(MetricsObserved("n1", _sample(100, 5, 1000), None, 1000.0))
    first = _metrics(state)
    assert first.point.sessions_active == 3 and first.point.heap_used_bytes == 100
    assert (first.point.threads_busy, first.point.threads_max) == (1, 200)
    assert first.point.requests_per_s is None
    assert "two reads" in first.missing["requests_per_s"]
    state = state.apply(MetricsObserved("n1", _sample(150, 15, 1500), None, 1005.0))
    second = _metrics(state)
    assert second.point.requests_per_s == 10.0
    assert second.point.errors_4xx_5xx_per_s == 2.0  # Tomcat's errorCount: status >= 400
    assert second.point.latency_ms == 10.0  # 500 ms for 50 requests
    # 5xx and 4xx come from the access log alone, not read in these observations
    assert second.point.errors_per_s is None and second.point.errors_4xx_per_s is None
    assert dict(second.missing) == dict.fromkeys(("errors_per_s", "errors_4xx_per_s"), NOT_READ)
    assert len(second.history) == 2


def test_a_restart_gives_no_rate_never_a_negative_one(tmp_path: Path) -> None:
    state = _inventory(tmp_path)
    state = state.apply(MetricsObserved("n1", _sample(1000, 50, 9000), None, 1000.0))
    state = state.apply(MetricsObserved("n1", _sample(3, 0, 10), None, 1005.0))
    point = _metrics(state).point
    assert point.requests_per_s is None and point.errors_per_s is None
    assert "restarted" in _metrics(state).missing["requests_per_s"]
    state = state.apply(MetricsObserved("n1", _sample(13, 0, 30), None, 1010.0))
    assert _metrics(state).point.requests_per_s == 2.0


def test_no_request_served_is_no_latency_with_its_reason(tmp_path: Path) -> None:
    state = _inventory(tmp_path)
    state = state.apply(MetricsObserved("n1", _sample(10, 0, 100), None, 1000.0))
    state = state.apply(MetricsObserved("n1", _sample(10, 0, 100), None, 1005.0))
    metrics = _metrics(state)
    assert metrics.point.requests_per_s == 0.0 and metrics.point.latency_ms is None
    assert "no request was served" in metrics.missing["latency_ms"]


def test_history_is_a_ring(tmp_path: Path) -> None:
    state = _inventory(tmp_path)
    for i in range(HISTORY + 30):
        state = state.apply(MetricsObserved("n1", _sample(i * 10), None, 1000.0 + i))
    metrics = _metrics(state)
    assert len(metrics.history) == HISTORY
    assert metrics.history[-1] is metrics.point
    series = metrics.series("requests_per_s")
    assert series[-1] == 10.0 and len(series) == HISTORY


def test_a_refusing_manager_leaves_every_figure_unknown_with_the_reason(tmp_path: Path) -> None:
    state = _inventory(tmp_path)
    refused = "the manager refused the credentials (401) for the status page"
    sample = ManagerSample(None, refused, None, "the manager refused ... (401)", None)
    state = state.apply(MetricsObserved("n1", sample, None, 1000.0, refused))
    metrics = _metrics(state)
    assert all(metrics.point.figure(name) is None for name in FIELDS)
    assert metrics.missing["heap_used_bytes"] == refused
    assert "401" in metrics.missing["sessions_active"]
    out = metrics_json(metrics)
    missing = out["missing"]
    assert isinstance(missing, dict) and set(missing) == {*FIELDS, *ADDED_RATES}


def test_after_a_failed_read_the_rate_says_the_previous_read_had_no_figures(
    tmp_path: Path,
) -> None:
    state = _inventory(tmp_path)
    refused = "no answer within 2 s"
    empty = ManagerSample(None, refused, None, refused, None)
    state = state.apply(MetricsObserved("n1", empty, None, 1000.0, refused))
    state = state.apply(MetricsObserved("n1", _sample(10), None, 1001.0))
    metrics = _metrics(state)
    assert metrics.point.requests_per_s is None
    assert metrics.missing["requests_per_s"] == (
        "a rate needs two reads with figures (the previous one had none)"
    )


def test_jmx_refused_keeps_the_status_figures(tmp_path: Path) -> None:
    state = _inventory(tmp_path)
    base = _sample(10)
    sample = ManagerSample(base.status, None, None, "lacks the manager-jmx role (403)", 2.0)
    state = state.apply(MetricsObserved("n1", sample, None, 1000.0))
    metrics = _metrics(state)
    assert metrics.point.heap_used_bytes == 100 and metrics.point.sessions_active is None
    assert metrics.missing == {
        "sessions_active": "lacks the manager-jmx role (403)",
        "requests_per_s": "a rate needs two reads (the first was just made)",
        "errors_4xx_5xx_per_s": "a rate needs two reads (the first was just made)",
        "latency_ms": "a rate needs two reads (the first was just made)",
        "errors_per_s": NOT_READ,
        "errors_4xx_per_s": NOT_READ,
    }


def test_the_busiest_connector_gives_the_threads(tmp_path: Path) -> None:
    state = _inventory(tmp_path)
    state = state.apply(MetricsObserved("n1", _sample(10, busy=200), None, 1000.0))
    assert (_metrics(state).point.threads_busy, _metrics(state).point.threads_max) == (200, 200)


def test_recorded_jvm_read_over_ssh() -> None:
    sample = parse_jvm(18109, (DATA / "jvm-sandbox-jdk17.txt").read_text())
    assert sample.rss_bytes == 126040 * 1024
    assert sample.cpu_seconds == (471 + 75) / 100
    assert sample.age_seconds is not None and abs(sample.age_seconds - (2125.21 - 1786.15)) < 0.01
    assert sample.heap_used == int((0.0 + 198.7 + 13547.7 + 12980.8) * 1024)
    assert sample.heap_max == 256 << 20  # -Xmx256m
    assert sample.gc_seconds == 0.159 and sample.heap_missing is None


def test_jvm_without_a_jdk_or_with_garbage_says_why() -> None:
    no_jdk = parse_jvm(7, "@@stat\n7 (java) S\n@@status\nVmRSS: 10 kB\n@@tick\n100\n@@nojstat\n")
    assert no_jdk.rss_bytes == 10240 and no_jdk.heap_used is None
    assert no_jdk.heap_missing is not None and "no JDK" in no_jdk.heap_missing
    refused = parse_jvm(7, "@@gc\n7 not found\n@@gccapacity\n7 not found\n")
    assert refused.heap_missing is not None and "7 not found" in refused.heap_missing
    garbage = parse_jvm(7, "\x1b[31m[bold]\n@@stat\n(((\n@@tick\nx\n")
    assert garbage.rss_bytes is None and garbage.cpu_seconds is None
    assert "; rm" not in jvm_script(7) and "/proc/7/stat" in jvm_script(7)


def test_ssh_fallback_gives_heap_and_says_what_is_missing(tmp_path: Path) -> None:
    state = _inventory(tmp_path)
    jvm = JvmSample(7, 10 << 20, 5.0, 60.0, 30 << 20, 256 << 20, 0.1)
    why = "no manager application on this node (404)"
    state = state.apply(MetricsObserved("n1", None, jvm, 1000.0, why))
    metrics = _metrics(state)
    assert metrics.source == "ssh"
    assert metrics.point.heap_used_bytes == 30 << 20
    assert metrics.missing["sessions_active"] == why
    out = metrics_json(metrics)
    assert out["process"] == {
        "pid": 7,
        "rss_bytes": 10 << 20,
        "cpu_seconds": 5.0,
        "age_seconds": 60.0,
        "gc_seconds": 0.1,
    }


def test_status_json_has_a_metrics_object_per_node(tmp_path: Path) -> None:
    state = _inventory(tmp_path)
    state = state.apply(MetricsObserved("n1", _sample(100), None, 1000.0))
    state = state.apply(MetricsObserved("n1", _sample(110), None, 1005.0))
    nodes = {node["name"]: node for node in json.loads(json.dumps(to_json(state, ())))["nodes"]}
    metrics = nodes["n1"]["metrics"]
    assert list(metrics)[: len(FIELDS)] == list(FIELDS)
    assert metrics["sessions_active"] == 3 and metrics["requests_per_s"] == 2.0
    assert set(metrics["missing"]) == {"errors_per_s", "errors_4xx_per_s"}  # no access log
    assert metrics["errors_4xx_5xx_per_s"] == 0.0 and metrics["access_log"] is None
    assert metrics["sessions_created_here"] == 4 and metrics["sessions_received"] == 6
    unread = nodes["n2"]["metrics"]
    assert all(unread[name] is None for name in (*FIELDS, *ADDED_RATES))
    assert set(unread["missing"]) == {*FIELDS, *ADDED_RATES}


def _codes(state: ClusterState) -> dict[tuple[str, str | None], str]:
    return {(p.code, p.node): p.severity for p in problems(state)}


def _running(state: ClusterState) -> ClusterState:
    for name in ("n1", "n2", "n3"):
        state = state.apply(ProcessObserved(name, TomcatProcess("running", 100), 999.0))
    return state


def test_heap_above_90_percent_on_two_reads_is_a_warning(tmp_path: Path) -> None:
    state = _running(_inventory(tmp_path))
    full = _sample(10, heap=(950, 1000))
    state = state.apply(MetricsObserved("n1", full, None, 1000.0))
    assert ("heap-high", "n1") not in _codes(state)  # one read may catch uncollected garbage
    state = state.apply(MetricsObserved("n1", _sample(20, heap=(960, 1000)), None, 1005.0))
    assert _codes(state)[("heap-high", "n1")] == "warning"
    text = next(p.text for p in problems(state) if p.code == "heap-high")
    assert "96% full" in text
    state = state.apply(MetricsObserved("n1", _sample(30, heap=(400, 1000)), None, 1010.0))
    assert ("heap-high", "n1") not in _codes(state)


def test_threads_busy_at_max_is_critical(tmp_path: Path) -> None:
    state = _running(_inventory(tmp_path))
    state = state.apply(MetricsObserved("n2", _sample(10, busy=200), None, 1000.0))
    assert _codes(state)[("threads-exhausted", "n2")] == "critical"
    state = state.apply(MetricsObserved("n2", _sample(10, busy=199), None, 1005.0))
    assert ("threads-exhausted", "n2") not in _codes(state)


def _read(requests: int, fours: int, fives: int, unreadable: int = 0) -> AccessRead:
    return AccessRead(AccessCounts(requests, fours, fives, unreadable), None, "logs/a.txt")


def test_error_rate_above_the_threshold_is_a_warning(tmp_path: Path) -> None:
    state = _running(_inventory(tmp_path))
    first = AccessRead(None, None, "logs/a.txt")  # the first read only finds the log's end
    state = state.apply(MetricsObserved("n1", _sample(100, 0), None, 1000.0, None, 0.5, first))
    assert _metrics(state).missing["errors_per_s"] == FIRST
    # Tomcat's own count (400 or more) is far above the limit: 404s are no error rate
    state = state.apply(
        MetricsObserved("n1", _sample(200, 90), None, 1005.0, None, 0.5, _read(100, 88, 2), 1000.0)
    )
    point = _metrics(state).point
    assert point.errors_4xx_5xx_per_s == 18.0 and point.errors_4xx_per_s == 17.6
    assert point.errors_per_s == 0.4
    assert ("error-rate", "n1") not in _codes(state)  # 0.4/s
    state = state.apply(
        MetricsObserved("n1", _sample(220, 100), None, 1010.0, None, 0.5, _read(20, 0, 10), 1005.0)
    )
    assert _codes(state)[("error-rate", "n1")] == "warning"
    text = next(p.text for p in problems(state) if p.code == "error-rate")
    assert "2.0 errors/s (status 5xx" in text and "0.5/s" in text
    out = metrics_json(_metrics(state))
    assert out["errors_per_s"] == 2.0 and out["errors_4xx_5xx_per_s"] == 2.0
    assert out["access_log"] == {
        "file": "logs/a.txt",
        "rotated": False,
        "requests": 20,
        "status_4xx": 0,
        "status_5xx": 10,
        "unreadable_lines": 0,
        "missing": None,
    }


def test_no_access_log_leaves_the_5xx_rate_unknown_with_why_the_rest_known(
    tmp_path: Path,
) -> None:
    state = _inventory(tmp_path)
    gone = AccessRead(missing="no file matches logs/localhost_access_log.*.txt")
    for at in (1000.0, 1005.0):
        state = state.apply(MetricsObserved("n1", _sample(int(at)), None, at, None, 1.0, gone, 1.0))
    metrics = _metrics(state)
    assert metrics.point.errors_per_s is None and metrics.point.requests_per_s == 1.0
    assert metrics.missing["errors_per_s"] == (
        "access log: no file matches logs/localhost_access_log.*.txt"
    )
    out = metrics_json(metrics)
    assert out["errors_per_s"] is None and out["errors_4xx_5xx_per_s"] == 0.0
    assert "access log: no file" in str(out["missing"])


def test_the_ssh_fallback_still_has_the_access_logs_rate(tmp_path: Path) -> None:
    state = _inventory(tmp_path)
    jvm = JvmSample(7, 10 << 20, 5.0, 60.0, 30 << 20, 256 << 20, 0.1)
    why = "no manager application on this node (404)"
    state = state.apply(
        MetricsObserved("n1", None, jvm, 1010.0, why, 1.0, _read(50, 5, 25), 1000.0)
    )
    point = _metrics(state).point
    assert point.errors_per_s == 2.5 and point.errors_4xx_per_s == 0.5
    assert _metrics(state).missing["errors_4xx_5xx_per_s"] == why


def test_a_node_whose_sessions_are_not_replicated(tmp_path: Path) -> None:
    state = _running(_inventory(tmp_path))
    for name, active in (("n1", 40), ("n2", 41), ("n3", 38)):
        state = state.apply(MetricsObserved(name, _sample(10, active=active), None, 1000.0))
    assert not [p for p in problems(state) if p.code == "sessions-not-replicated"]
    state = state.apply(MetricsObserved("n3", _sample(10, active=2), None, 1001.0))
    found = [p for p in problems(state) if p.code == "sessions-not-replicated"]
    assert [p.node for p in found] == ["n3"]
    assert "n3 holds 2 sessions of /app, the nodes 40 (median)" in found[0].text
    # a stopped node's last figures are not compared
    state = state.apply(ProcessObserved("n3", TomcatProcess("stopped", None), 1002.0))
    assert not [p for p in problems(state) if p.code == "sessions-not-replicated"]


def test_stale_figures_are_not_checked(tmp_path: Path) -> None:
    state = _running(_inventory(tmp_path))
    state = state.apply(MetricsObserved("n2", _sample(10, busy=200), None, 1000.0))
    state = state.apply(ProcessObserved("n1", TomcatProcess("running", 100), 1000.0 + 61))
    assert ("threads-exhausted", "n2") not in _codes(state)


def test_refused_status_gives_ssh_heap_and_each_pages_own_reason(tmp_path: Path) -> None:
    state = _inventory(tmp_path)
    jvm = JvmSample(7, 10 << 20, 5.0, 60.0, 30 << 20, 256 << 20, 0.1)
    status_why = "the manager refused the credentials (401) for the status page"
    jmx_why = "the manager refused the credentials (401) for the JMX proxy"
    sample = ManagerSample(None, status_why, None, jmx_why, None)
    state = state.apply(MetricsObserved("n1", sample, jvm, 1000.0, status_why))
    metrics = _metrics(state)
    assert metrics.source == "ssh" and metrics.point.heap_used_bytes == 30 << 20
    assert metrics.missing["sessions_active"] == jmx_why
    assert metrics.missing["requests_per_s"] == status_why


def _own_sample(own: int, replicated: int = 40) -> ManagerSample:
    base = _sample(10)
    apps = (
        AppSessions("/app", "DeltaManager", replicated, 0, 0, 0, 0, 0),
        AppSessions("/sticky", "StandardManager", own, 0, 0, 0, None, None),
        AppSessions("/manager", "StandardManager", 1, 0, 0, 0, None, None),
    )
    return ManagerSample(base.status, None, apps, None, 1.0)


def test_own_sessions_leave_out_replicated_copies_and_settle_when_they_stop_falling(
    tmp_path: Path,
) -> None:
    state = _inventory(tmp_path)
    for at, own in ((1000.0, 9), (1005.0, 7), (1010.0, 5)):
        state = state.apply(MetricsObserved("n1", _own_sample(own), None, at))
        assert own_sessions(_metrics(state)) == own
        assert not own_sessions_settled(_metrics(state))  # still falling
    assert metrics_json(_metrics(state))["sessions_own"] == 5
    for at in (1015.0, 1020.0):
        state = state.apply(MetricsObserved("n1", _own_sample(5), None, at))
    assert own_sessions_settled(_metrics(state))  # 5, 5, 5: stopped falling
    state = state.apply(MetricsObserved("n1", _own_sample(0), None, 1025.0))
    assert own_sessions_settled(_metrics(state), floor=0)
    # only replicated applications: none is the node's own, nothing to wait for
    state = state.apply(MetricsObserved("n2", _sample(10), None, 1000.0))
    assert own_sessions(_metrics(state, "n2")) == 0
    # unknown (figures from SSH only): never settled, the caller decides
    jvm = JvmSample(7, heap_used=1, heap_max=2)
    state = state.apply(MetricsObserved("n3", None, jvm, 1000.0, "no manager (404)"))
    assert own_sessions(_metrics(state, "n3")) is None
    assert not own_sessions_settled(_metrics(state, "n3"))
