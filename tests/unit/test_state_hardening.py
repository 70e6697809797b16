"""Issue 11 on the state side: lost log history, severities, event times, stale balancer reads,
settling membership, maintenance and acknowledged problems (recorded observations, no network)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

from console.cluster.crosschecks import SETTLE_SECONDS, findings, problems
from console.cluster.maintenance import Acknowledgement, MaintenanceMark
from console.cluster.membership import matrix, replication_gaps
from console.cluster.observations import (
    BacklogScanned,
    BalancerObserved,
    EventObserved,
    HttpObserved,
    LogHistoryLost,
    LogTrouble,
    MaintenanceObserved,
    ProcessObserved,
    SshObserved,
)
from console.cluster.rates import elected_rate
from console.cluster.state import ClusterState, log_time, replay
from console.config.model import Inventory
from probes.http import HttpCheck
from probes.process import TomcatProcess
from tests.unit.test_state import (
    ADDRESS,
    HEALTHY_PAGE,
    NAMES,
    codes,
    event,
    healthy_nodes,
    initial,
    inventory,
    joined,
    left,
    page,
    settled,
)

__all__ = ["inventory"]  # the fixture, used by name

DRAINED = page(
    ("node1", "node1", "Init Ok "), ("node2", "node2", "Init Ok "), ("node3", "node3", "Init Dis ")
)


def healthy(inventory: Inventory) -> ClusterState:
    state = replay(
        initial(inventory), [*healthy_nodes(), BalancerObserved("httpd", HEALTHY_PAGE, None, 1.0)]
    )
    return settled(state)


# -- 7: a truncated log is unknown membership, not every member gone ---------------------------


def test_a_truncated_log_makes_that_node_s_membership_unknown_not_empty(
    inventory: Inventory,
) -> None:
    state = healthy(inventory)
    lost_at = 200.0
    state = state.apply(LogHistoryLost("node1", "catalina.out", "truncated", False, lost_at))
    # what a new follower then reads: an empty history that does not reach the server's start
    state = state.apply(BacklogScanned("node1", "catalina.out", False, lost_at))
    state = settled(state, 300.0)
    assert problems(state) == ()  # no "node1 does not see node2/node3" criticals
    view = state.node("node1")
    assert not view.membership_known
    assert matrix(state)["node1"] == {"node2": None, "node3": None}
    clock = time.strftime("%H:%M:%S", time.localtime(lost_at))
    assert view.membership_unknown_reason == f"catalina.out truncated at {clock}"
    notices = findings(state).notices
    assert [(p.code, p.node, p.severity) for p in notices] == [
        ("membership-unknown", "node1", "info")
    ]
    assert f"membership unknown for node1: catalina.out truncated at {clock}" in notices[0].text


def test_the_reason_is_the_follower_s_words(inventory: Inventory) -> None:
    why = "was truncated and written again within one poll"
    state = healthy(inventory).apply(LogHistoryLost("node2", "catalina.out", why, True, 200.0))
    reason = state.node("node2").membership_unknown_reason or ""
    assert reason.startswith(f"catalina.out {why} at ")


def test_other_nodes_are_still_checked_while_one_view_is_unknown(inventory: Inventory) -> None:
    state = healthy(inventory)
    state = state.apply(LogHistoryLost("node1", "catalina.out", "truncated", False, 200.0))
    state = settled(state.apply(left("node2", "node3")), 300.0)
    assert codes(problems(state)) == [("not-replicated", "node3")]
    assert "node2" in problems(state)[0].text and "node1" not in problems(state)[0].text


def test_membership_is_known_again_once_the_log_tells_it(inventory: Inventory) -> None:
    state = healthy(inventory)
    state = state.apply(LogHistoryLost("node1", "catalina.out", "truncated", False, 200.0))
    state = state.apply(EventObserved("node1", "catalina.out", event("server-stopping"), 210.0))
    view = state.node("node1")
    assert view.membership_known and view.membership_unknown_reason is None
    assert findings(state).notices == ()


def test_a_new_console_whose_history_misses_the_start_says_unknown(inventory: Inventory) -> None:
    observations = [o for o in healthy_nodes() if not isinstance(o, BacklogScanned)]
    state = replay(initial(inventory), observations)
    state = state.apply(BacklogScanned("node1", "catalina.out", False, 1.0))
    assert matrix(state)["node1"]["node2"] is None
    reason = state.node("node1").membership_unknown_reason
    assert reason == "catalina.out: its history does not reach the server's start"
    state = state.apply(LogTrouble("node2", "catalina.out", "log missing", 1.0))
    state = state.apply(BacklogScanned("node2", "catalina.out", False, 1.0))
    assert state.node("node2").membership_unknown_reason == "catalina.out: log missing"


def test_replication_gaps_tell_unknown_apart_from_absent(inventory: Inventory) -> None:
    state = healthy(inventory)
    state = state.apply(LogHistoryLost("node1", "catalina.out", "truncated", False, 200.0))
    state = state.apply(left("node2", "node3"))
    missing, unknown = replication_gaps(state, ["node1", "node2"], list(NAMES))
    assert missing == ["node2 does not see node3"]
    assert len(unknown) == 1 and unknown[0].startswith("node1's membership is unknown (")


# -- 8: a crashed serving node, no redundancy --------------------------------------------------


def test_a_serving_node_that_dies_is_critical(inventory: Inventory) -> None:
    state = healthy(inventory).apply(ProcessObserved("node3", TomcatProcess("stopped"), 200.0))
    found = problems(state)
    stopped = next(p for p in found if p.code == "tomcat-stopped")
    assert stopped.severity == "critical" and stopped.node == "node3"
    assert "rotation" in stopped.text


def test_a_serving_node_failing_http_is_critical(inventory: Inventory) -> None:
    failing = HttpCheck("http://10.0.0.2:8080/app/", None, None, "connection refused")
    state = healthy(inventory).apply(HttpObserved("node2", failing, 200.0))
    assert [(p.code, p.severity) for p in problems(state)] == [("http-failing", "critical")]


def test_a_drained_node_that_is_stopped_is_only_a_warning(inventory: Inventory) -> None:
    drained = DRAINED
    state = healthy(inventory).apply(BalancerObserved("httpd", drained, None, 150.0))
    state = state.apply(ProcessObserved("node3", TomcatProcess("stopped"), 200.0))
    assert [(p.code, p.severity) for p in problems(state)] == [("tomcat-stopped", "warning")]


def test_two_of_three_nodes_down_is_no_redundancy(inventory: Inventory) -> None:
    state = healthy(inventory)
    state = state.apply(ProcessObserved("node2", TomcatProcess("stopped"), 200.0))
    assert "no-redundancy" not in [p.code for p in problems(state)]
    state = state.apply(ProcessObserved("node3", TomcatProcess("stopped"), 201.0))
    found = problems(state)
    redundancy = [p for p in found if p.code == "no-redundancy"]
    assert len(redundancy) == 1
    assert redundancy[0].severity == "critical" and redundancy[0].node is None
    assert redundancy[0].text.startswith("no redundancy: sessions are replicated nowhere")
    assert "node2, node3 are down, only node1 can serve" in redundancy[0].text


# -- 12, 13: events by their own time ----------------------------------------------------------


def stamped(
    observer: str, member: str, stamp: str, at: float, backlog: bool = False
) -> EventObserved:
    ev = replace(event("member-joined", f"{ADDRESS[member]}:4000"), time=stamp)
    return EventObserved(observer, "catalina.out", ev, at, backlog)


def test_the_timeline_orders_events_by_their_own_time(inventory: Inventory) -> None:
    now = log_time("2026-11-22T07:17:00") or 0.0
    state = replay(
        initial(inventory),
        [
            stamped("node2", "node1", "2026-11-22T07:16:53.000", now),
            stamped("node1", "node2", "2026-11-22T07:16:49.000", now + 1),
            stamped("node1", "node3", "2026-11-22T07:16:49.000", now + 1),
        ],
    )
    order = [(r.node, r.event.time) for r in reversed(state.timeline())]
    assert order == [
        ("node2", "2026-11-22T07:16:53.000"),
        ("node1", "2026-11-22T07:16:49.000"),
        ("node1", "2026-11-22T07:16:49.000"),
    ]
    same_time = [r.event.member for r in state.timeline() if r.node == "node1"]
    assert same_time == ["10.0.0.2:4000", "10.0.0.20:4000"]  # ties keep the log's order


def test_last_event_is_the_event_s_own_time_not_when_it_was_read(inventory: Inventory) -> None:
    logged = log_time("2026-11-22T06:00:00") or 0.0
    read = logged + 3600
    state = initial(inventory).apply(
        stamped("node1", "node2", "2026-11-22T06:00:00.000", read, backlog=True)
    )
    last = state.node("node1").last_event
    assert last is not None and last.when == logged and last.at == read
    # an older event read later does not become the last one
    state = state.apply(stamped("node1", "node3", "2026-11-22T05:00:00.000", read + 5, True))
    last = state.node("node1").last_event
    assert last is not None and last.event.time == "2026-11-22T06:00:00.000"


def test_an_event_stamped_in_the_future_is_not_later_than_its_arrival(
    inventory: Inventory,
) -> None:
    read = log_time("2026-11-22T06:00:00") or 0.0
    state = initial(inventory).apply(stamped("node1", "node2", "2026-11-22T09:00:00", read))
    last = state.node("node1").last_event
    assert last is not None and last.when == read


# -- 14: a balancer that cannot be read: stale rows, age from the last good read ---------------


def test_a_failed_read_keeps_the_last_good_read_s_time_and_marks_rows_stale(
    inventory: Inventory,
) -> None:
    first = page(("node1", "node1", "Init Ok "), elected=10)
    second = page(("node1", "node1", "Init Ok "), elected=30)
    state = initial(inventory).apply(BalancerObserved("httpd", first, None, 1.0))
    state = state.apply(BalancerObserved("httpd", second, None, 3.0))
    view = state.balancer("httpd")
    worker = second.balancers[0].workers[0]
    assert not view.stale and elected_rate(view, "cluster", worker) == 10.0
    state = state.apply(BalancerObserved("httpd", None, "no answer within 5 s", 9.0))
    view = state.balancer("httpd")
    assert view.stale and view.read_at == 3.0 and view.at == 9.0
    assert view.age(now=12.0) == 9.0  # not 3 s since the failed read
    assert elected_rate(view, "cluster", worker) is None
    third = page(("node1", "node1", "Init Ok "), elected=50)
    state = state.apply(BalancerObserved("httpd", third, None, 11.0))
    view = state.balancer("httpd")
    assert not view.stale and view.interval == 8.0  # since the last good read
    assert elected_rate(view, "cluster", third.balancers[0].workers[0]) == 2.5


# -- 20: peers learn a starting node at slightly different moments -----------------------------


def test_a_node_start_does_not_flash_a_split_brain(inventory: Inventory) -> None:
    state = healthy(inventory)
    state = replay(
        state,
        [
            ProcessObserved("node3", TomcatProcess("stopped"), 200.0),
            left("node1", "node3", "graceful"),
            left("node2", "node3", "graceful"),
            EventObserved("node3", "catalina.out", event("server-stopping"), 200.0),
        ],
    )
    state = settled(state, 300.0)
    start = 400.0
    state = state.apply(ProcessObserved("node3", TomcatProcess("running"), start))
    # node3 runs and sees nobody yet; node1 learns of it first, node2 half a second later
    steps = [
        EventObserved("node1", "catalina.out", joined("node1", "node3").event, start + 0.2),
        EventObserved("node3", "catalina.out", joined("node3", "node1").event, start + 0.3),
        EventObserved("node2", "catalina.out", joined("node2", "node3").event, start + 0.7),
        EventObserved("node3", "catalina.out", joined("node3", "node2").event, start + 0.8),
    ]
    for step in steps:
        state = state.apply(step)
        assert not [p for p in problems(state) if p.severity == "critical"], step
    assert problems(settled(state, start + 60)) == ()


def test_a_lasting_split_brain_is_reported_after_the_settling_time(inventory: Inventory) -> None:
    state = healthy(inventory)
    split = [
        left("node1", "node3"),
        left("node2", "node3"),
        left("node3", "node1"),
        left("node3", "node2"),
    ]
    state = replay(state, [EventObserved(o.node, o.log, o.event, 500.0) for o in split])
    assert "split-brain" not in [p.code for p in problems(settled(state, 505.0))]
    found = problems(settled(state, 500.0 + SETTLE_SECONDS))
    assert found[0].code == "split-brain" and found[0].severity == "critical"


# -- 27: maintenance and acknowledged problems -------------------------------------------------


def test_a_node_in_maintenance_raises_no_alarm_and_says_so(inventory: Inventory) -> None:
    drained = DRAINED
    since = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    mark = MaintenanceMark("node3", "kernel update", "ops", since)
    state = healthy(inventory)
    state = replay(
        state,
        [
            BalancerObserved("httpd", drained, None, 150.0),
            MaintenanceObserved((mark,), (), 150.0),
            ProcessObserved("node3", TomcatProcess("stopped"), 200.0),
            SshObserved("node3", "down", "connection refused", 201.0),
        ],
    )
    assert state.node("node3").maintenance == mark
    assert problems(state) == ()
    notices = findings(state).notices
    assert ("maintenance", "node3") in codes(notices)
    text = next(p.text for p in notices if p.code == "maintenance")
    assert "in maintenance" in text and "ops" in text and "kernel update" in text
    # cleared by the rejoin: the next read has no mark, and the node's state alarms again
    state = state.apply(MaintenanceObserved((), (), 300.0))
    assert state.node("node3").maintenance is None
    assert ("ssh-down", "node3") in codes(problems(state))


def test_an_acknowledged_problem_leaves_the_alarms_until_it_expires(
    inventory: Inventory,
) -> None:
    state = healthy(inventory).apply(ProcessObserved("node3", TomcatProcess("stopped"), 200.0))
    problem = next(p for p in problems(state) if p.code == "tomcat-stopped")
    assert problem.key == "tomcat-stopped@node3"
    until = datetime.fromtimestamp(1000.0, UTC)
    ack = Acknowledgement(problem.key, until, "ops", datetime.fromtimestamp(200.0, UTC))
    state = state.apply(MaintenanceObserved((), (ack,), 210.0))
    assert "tomcat-stopped" not in [p.code for p in problems(state)]
    acknowledged = findings(state).acknowledged
    assert [(a.problem.key, a.acknowledgement.operator) for a in acknowledged] == [
        ("tomcat-stopped@node3", "ops")
    ]
    state = settled(state, 1000.0)  # expired by the state's own clock
    assert "tomcat-stopped" in [p.code for p in problems(state)]
    assert findings(state).acknowledged == ()


def test_problem_keys_are_stable_and_name_their_subject(inventory: Inventory) -> None:
    state = healthy(inventory).apply(BalancerObserved("httpd", None, "refused", 200.0))
    assert [p.key for p in problems(state)] == ["balancer-unreachable@httpd"]
    assert problems(state)[0].to_json()["key"] == "balancer-unreachable@httpd"


def test_settling_counts_live_changes_from_when_they_were_read(inventory: Inventory) -> None:
    """A node whose clock (or zone) is hours behind still gets its settling time."""
    state = healthy(inventory)
    split = [
        left("node1", "node3"),
        left("node2", "node3"),
        left("node3", "node1"),
        left("node3", "node2"),
    ]
    read = 500.0
    hours_behind = "1970-01-01T00:00:01.000"  # log stamps far older than when they were read
    state = replay(
        state,
        [EventObserved(o.node, o.log, replace(o.event, time=hours_behind), read) for o in split],
    )
    assert "split-brain" not in [p.code for p in problems(settled(state, read + 1))]
    assert "split-brain" in [p.code for p in problems(settled(state, read + SETTLE_SECONDS))]


def test_a_split_read_from_history_is_reported_at_once(inventory: Inventory) -> None:
    """`status` reads history at start: an old split is not 'settling'."""
    state = healthy(inventory)
    split = [
        left("node1", "node3"),
        left("node2", "node3"),
        left("node3", "node1"),
        left("node3", "node2"),
    ]
    long_ago = datetime.fromtimestamp(100.0).isoformat(timespec="milliseconds")
    state = replay(
        state,
        [
            EventObserved(o.node, o.log, replace(o.event, time=long_ago), 500.0, backlog=True)
            for o in split
        ],
    )
    assert problems(state)[0].code == "split-brain"


def test_no_redundancy_while_nodes_are_in_maintenance_is_a_notice(inventory: Inventory) -> None:
    since = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    marks = tuple(MaintenanceMark(name, "patching", "ops", since) for name in ("node2", "node3"))
    state = healthy(inventory).apply(MaintenanceObserved(marks, (), 150.0))
    state = state.apply(ProcessObserved("node2", TomcatProcess("stopped"), 200.0))
    state = state.apply(ProcessObserved("node3", TomcatProcess("stopped"), 201.0))
    assert "no-redundancy" not in [p.code for p in problems(state)]
    notice = next(p for p in findings(state).notices if p.code == "no-redundancy")
    assert "(in maintenance)" in notice.text


def test_a_node_logging_in_another_zone_is_read_in_ours_once_an_event_comes_live(
    inventory: Inventory,
) -> None:
    """Its stamps are five hours behind ours: the history read at start cannot tell, the first
    event read live does, and the last event's age is right from then on."""
    now = log_time("2026-11-22T12:00:00") or 0.0
    state = initial(inventory).apply(
        stamped("node1", "node2", "2026-11-22T06:59:00.000", now, backlog=True)
    )
    state = state.apply(stamped("node1", "node3", "2026-11-22T07:00:01.000", now + 1.2))
    view = state.node("node1")
    assert view.zone_offset == 5 * 3600
    last = view.last_event
    assert last is not None and last.event.time == "2026-11-22T07:00:01.000"
    assert last.when == now + 1
    order = [r.event.time for r in state.timeline()]
    assert order == ["2026-11-22T06:59:00.000", "2026-11-22T07:00:01.000"]


def test_a_slow_start_is_unknown_membership_not_a_split(inventory: Inventory) -> None:
    """The JVM runs for a minute before its cluster channel is up: what it told when it stopped
    (nobody) is the last run's, and a node that has not finished starting is not reported as
    unseen by its peers."""
    not_serving = page(
        ("node1", "node1", "Init Ok "),
        ("node2", "node2", "Init Ok "),
        ("node3", "node3", "Init Err "),
    )
    state = healthy(inventory).apply(BalancerObserved("httpd", not_serving, None, 150.0))
    state = replay(
        state,
        [
            EventObserved("node3", "catalina.out", event("server-stopping"), 200.0),
            ProcessObserved("node3", TomcatProcess("stopped"), 200.0),
            left("node1", "node3", "graceful"),
            left("node2", "node3", "graceful"),
            ProcessObserved("node3", TomcatProcess("running", 300), 400.0),
            HttpObserved(
                "node3", HttpCheck("http://10.0.0.20:8080/app/", None, None, "refused"), 401
            ),
        ],
    )
    state = settled(state, 460.0)
    found = problems(state)
    assert [(p.code, p.node, p.severity) for p in found] == [("http-failing", "node3", "warning")]
    assert "is starting (since " in found[0].text
    view = state.node("node3")
    assert not view.membership_known and view.starting_since == 400.0
    assert "log has not shown the start yet" in (view.membership_unknown_reason or "")
    state = replay(
        state,
        [
            EventObserved("node3", "catalina.out", joined("node3", "node1").event, 461.0),
            EventObserved("node1", "catalina.out", joined("node1", "node3").event, 461.0),
            EventObserved("node3", "catalina.out", joined("node3", "node2").event, 461.5),
            EventObserved("node2", "catalina.out", joined("node2", "node3").event, 461.5),
            EventObserved("node3", "catalina.out", event("server-started"), 462.0),
            HttpObserved("node3", HttpCheck("http://10.0.0.20:8080/app/", 200, 3.0), 463.0),
            BalancerObserved("httpd", HEALTHY_PAGE, None, 464.0),  # httpd retried it
        ],
    )
    view = state.node("node3")
    assert view.membership_known and view.starting_since is None
    assert view.sees(state.specs) == {"node1", "node2"}
    assert problems(settled(state, 500.0)) == ()


def test_a_start_the_log_showed_before_the_process_check_keeps_its_membership(
    inventory: Inventory,
) -> None:
    state = healthy(inventory)
    state = replay(
        state,
        [
            EventObserved("node3", "catalina.out", event("server-stopping"), 200.0),
            ProcessObserved("node3", TomcatProcess("stopped"), 200.0),
            EventObserved("node3", "catalina.out", joined("node3", "node1").event, 300.0),
            EventObserved("node3", "catalina.out", joined("node3", "node2").event, 300.0),
            EventObserved("node3", "catalina.out", event("server-started"), 301.0),
            ProcessObserved("node3", TomcatProcess("running", 300), 302.0),
        ],
    )
    view = state.node("node3")
    assert view.membership_known and view.sees(state.specs) == {"node1", "node2"}
