"""The events a user gets from real logs: every corpus and sandbox file, with exact expectations.

Each row is (line, kind, source, member or members, detail, time); a missing or extra row means a
membership change, a restart or an error the console would show wrongly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.logs.model import LogEvent
from probes.logs.scanner import scan_file

DATA = Path(__file__).parent / "data" / "logs"

Row = tuple[int, str, str, object, str | None, str | None]


def rows(name: str) -> list[Row]:
    """The events of a data file in the compact form the tables below use."""
    return [_row(event) for event in scan_file(DATA / name)]


def _row(event: LogEvent) -> Row:
    who = event.members if event.kind == "membership" else event.member
    return (event.line, event.kind, event.source, who, event.detail, event.time)


CORPUS: dict[str, list[Row]] = {
    "t04_tomcat7_aws_static_deltamanager_state_transfer.log": [
        (1, "member-joined", "tomcat", "ip-172-31-13-12:4000", None, "2013-11-06T21:55:47"),
        (9, "session-sync", "tomcat", "ip-172-31-13-12:4000", "requested", "2013-11-06T21:56:14"),
        (11, "session-sync", "tomcat", None, "received", "2013-11-06T21:56:14"),
    ],
    "t12_tomcat6_serverfault_confirmed_dead_state_transfer_collapsed.log": [
        (1, "member-left", "tomcat", "10.2.1.69:5000", "suspect", "2014-05-08T11:00:25"),
        (5, "session-sync", "tomcat", "10.2.1.69:5000", "requested", None),
        (7, "session-sync", "tomcat", None, "received", "2014-05-08T10:54:21"),
    ],
    "t14_tomcat855_oneline_startup_then_shutdown.log": [
        (4, "server-started", "tomcat", None, None, "2016-10-04T11:46:05.389"),
        (5, "server-stopping", "tomcat", None, None, "2016-10-04T11:46:14.638"),
        (8, "server-stopping", "tomcat", None, None, "2016-10-04T11:46:14.741"),
    ],
    "t17_tomcat10M10_container_prefixed_startup_severe.log": [
        (
            5,
            "error",
            "tomcat",
            None,
            "org.apache.catalina.core.StandardContext",
            "2020-11-29T13:36:56.858",
        ),
        (
            6,
            "error",
            "tomcat",
            None,
            "org.apache.catalina.core.StandardContext",
            "2020-11-29T13:36:56.869",
        ),
    ],
    "w01_wso2ei650_broker_TID_layout_startup.log": [],
    "w06_wso2is_k8s_member_left_coordinator_reelection.log": [
        (3, "member-left", "wso2", "10.244.7.62:4000", None, "2021-07-28T07:54:59.512"),
    ],
    "hz05_hazelcast51_test_members_size3_ver27.log": [
        (
            4,
            "membership",
            "hazelcast",
            ("127.0.0.1:5701", "127.0.0.1:5714", "127.0.0.1:5715"),
            "27",
            None,
        ),
    ],
    "hz09_hazelcast38_k8s_springboot_members_2_then_4.log": [
        (
            5,
            "membership",
            "hazelcast",
            ("172.17.0.2:5701", "172.17.0.6:5701"),
            None,
            "2017-03-15T09:42:54.262",
        ),
        (
            25,
            "membership",
            "hazelcast",
            ("172.17.0.2:5701", "172.17.0.6:5701", "172.17.0.9:5701", "172.17.0.10:5701"),
            None,
            None,
        ),
    ],
    "j03_keycloak_wildfly_openshift_gms_ispn_views.log": [
        (3, "membership", "jgroups", ("keycloak-demo-1-mvrfg",), None, None),
        (5, "membership", "jgroups", ("keycloak-demo-1-mvrfg",), "keycloak-demo-1-mvrfg|0", None),
        (
            10,
            "membership",
            "jgroups",
            ("keycloak-demo-1-mvrfg", "keycloak-demo-1-vv5jn"),
            "keycloak-demo-1-mvrfg|1",
            None,
        ),
    ],
    "hz10_hazelcast381_heartbeat_removal.log": [
        (1, "member-left", "hazelcast", "plat-app01.com.io:5702", "heartbeat", None),
    ],
    "hz11_hazelcast51_suspected_connection_manager_stopped.log": [
        (1, "member-left", "hazelcast", "127.0.0.1:5701", "suspect", None),
    ],
    "hz12_hazelcast53_suspected_no_connection_member_left_exception.log": [
        (1, "member-left", "hazelcast", "192.168.0.108:5701", "suspect", None),
    ],
    "j04_keycloak_infinispan_node_left_twice.log": [
        (
            12,
            "membership",
            "jgroups",
            ("5ba9978151c0-9578",),
            "5ba9978151c0-9578|8",
            "2024-02-13T11:46:09.625",
        ),
        (13, "member-left", "jgroups", "0eeb92f29b3d-3460", None, "2024-02-13T11:46:09.626"),
    ],
    # VERIFY_SUSPECT2 (JGroups 5.x) passing a suspicion up; "verifying that ... is dead" is none
    "j05_keycloak_infinispan16_verify_suspect2.log": [
        (3, "member-left", "jgroups", "node2", "suspect", "2025-10-08T14:42:01.627"),
    ],
    # VERIFY_SUSPECT's "is dead", then FLUSH/RequestCorrelator mentions and FD_ALL's missed
    # heartbeats for the same member: one departure
    "j06_portico_jgroups_fd_all_verify_suspect.log": [
        (1, "member-left", "jgroups", "5f7daed5d167-29951", "suspect", None),
    ],
    # Debian 12's JGroups 2.12 through Tomcat's OneLineFormatter, one peer killed with SIGKILL:
    # GMS's banner (its own member name, no time: printed to stdout), views without their size
    # (the application's `** view:` and GMS's "new view"), FD_SOCK's
    # suspicion; VERIFY_SUSPECT's "is dead" and GMS's "suspecting [...]" are the same departure;
    # heartbeats, "verifying that ... is dead" and the join response's view are none
    "jgroups212_fd_sock_verify_suspect_views.log": [
        (10, "member-name", "jgroups", "vm-5408", "127.0.14.61:7850", None),  # GMS's banner
        (33, "membership", "jgroups", ("vm-5408",), "vm-5408|0", "2026-12-06T11:55:54.403"),
        (
            47,
            "membership",
            "jgroups",
            ("vm-5408", "vm-34711"),
            "vm-5408|1",
            "2026-12-06T11:55:55.810",
        ),
        (
            75,
            "membership",
            "jgroups",
            ("vm-5408", "vm-34711"),
            "vm-5408|1",
            "2026-12-06T11:55:56.321",
        ),
        (164, "member-left", "jgroups", "vm-34711", "suspect", "2026-12-06T11:56:03.735"),
        (194, "membership", "jgroups", ("vm-5408",), "vm-5408|2", "2026-12-06T11:56:05.337"),
        (210, "membership", "jgroups", ("vm-5408",), "vm-5408|2", "2026-12-06T11:56:05.411"),
    ],
}

SANDBOX: dict[str, list[Row]] = {
    "sandbox_tomcat101_node1_peer_stop_and_crash.log": [
        (45, "session-sync", "tomcat", None, "skipped", "2026-11-22T13:34:36.875"),
        (53, "server-started", "tomcat", None, None, "2026-11-22T13:34:37.734"),
        (55, "member-joined", "tomcat", "127.0.4.12:4000", None, "2026-11-22T13:34:39.594"),
        (56, "member-joined", "tomcat", "127.0.4.13:4000", None, "2026-11-22T13:34:43.476"),
        (57, "member-left", "tomcat", "127.0.4.13:4000", "graceful", "2026-11-22T13:34:48.112"),
        (58, "member-joined", "tomcat", "127.0.4.13:4000", None, "2026-11-22T13:34:53.190"),
        (59, "member-left", "tomcat", "127.0.4.13:4000", "crash", "2026-11-22T13:35:00.529"),
        (62, "member-joined", "tomcat", "127.0.4.13:4000", None, "2026-11-22T13:35:11.094"),
        (63, "member-left", "tomcat", "127.0.4.13:4000", "graceful", "2026-11-22T13:35:16.618"),
        (64, "member-left", "tomcat", "127.0.4.12:4000", "graceful", "2026-11-22T13:35:19.076"),
        (65, "server-stopping", "tomcat", None, None, "2026-11-22T13:35:21.466"),
        (68, "server-stopping", "tomcat", None, None, "2026-11-22T13:35:21.471"),
    ],
    "sandbox_tomcat101_node3_start_stop_crash.log": [
        (43, "member-joined", "tomcat", "127.0.4.11:4000", None, "2026-11-22T13:34:43.513"),
        (44, "member-joined", "tomcat", "127.0.4.12:4000", None, "2026-11-22T13:34:43.514"),
        (48, "session-sync", "tomcat", "127.0.4.11:4000", "requested", "2026-11-22T13:34:44.732"),
        (49, "session-sync", "tomcat", None, "received", "2026-11-22T13:34:44.836"),
        (57, "server-started", "tomcat", None, None, "2026-11-22T13:34:45.584"),
        (58, "server-stopping", "tomcat", None, None, "2026-11-22T13:34:48.088"),
        (61, "server-stopping", "tomcat", None, None, "2026-11-22T13:34:48.091"),
        (110, "member-joined", "tomcat", "127.0.4.12:4000", None, "2026-11-22T13:34:53.210"),
        (111, "member-joined", "tomcat", "127.0.4.11:4000", None, "2026-11-22T13:34:53.212"),
        (115, "session-sync", "tomcat", "127.0.4.11:4000", "requested", "2026-11-22T13:34:54.230"),
        (116, "session-sync", "tomcat", None, "received", "2026-11-22T13:34:54.335"),
        (124, "server-started", "tomcat", None, None, "2026-11-22T13:34:55.043"),
        (167, "member-joined", "tomcat", "127.0.4.11:4000", None, "2026-11-22T13:35:11.111"),
        (168, "member-joined", "tomcat", "127.0.4.12:4000", None, "2026-11-22T13:35:11.115"),
        (172, "session-sync", "tomcat", "127.0.4.11:4000", "requested", "2026-11-22T13:35:12.243"),
        (173, "session-sync", "tomcat", None, "received", "2026-11-22T13:35:12.355"),
        (181, "server-started", "tomcat", None, None, "2026-11-22T13:35:13.026"),
        (182, "server-stopping", "tomcat", None, None, "2026-11-22T13:35:16.580"),
        (185, "server-stopping", "tomcat", None, None, "2026-11-22T13:35:16.584"),
    ],
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_public_corpus_file_gives_exactly_its_events(name: str) -> None:
    assert rows(name) == CORPUS[name]


@pytest.mark.parametrize("name", sorted(SANDBOX))
def test_real_tomcat_101_sandbox_log_gives_exactly_its_events(name: str) -> None:
    assert rows(name) == SANDBOX[name]


def test_a_crash_is_one_member_left_row_although_three_lines_tell_it() -> None:
    """Lines 59-61: SimpleTcpCluster's memberDisappeared, the failure detector's "Will verify"
    (a question) and its "Verification complete. Member already disappeared" (the same
    departure told again): one departure, one event."""
    crash = [
        row for row in rows("sandbox_tomcat101_node1_peer_stop_and_crash.log") if 59 <= row[0] <= 61
    ]
    assert [(row[1], row[3], row[4]) for row in crash] == [
        ("member-left", "127.0.4.13:4000", "crash"),
    ]


def test_hazelcast_block_names_the_member_that_wrote_it_and_keeps_the_block_text() -> None:
    first, second = scan_file(DATA / "hz09_hazelcast38_k8s_springboot_members_2_then_4.log")
    assert first.observer == second.observer == "172.17.0.6:5701"
    assert first.text.splitlines()[-1] == "}" and "Members [2] {" in first.text
    assert first.offset == 725 and second.text.startswith("Members [4] {")


def test_gms_coordinator_line_names_its_observer() -> None:
    gms = next(iter(scan_file(DATA / "j03_keycloak_wildfly_openshift_gms_ispn_views.log")))
    assert gms.observer == "keycloak-demo-1-mvrfg" and "creating cluster as coordinator" in gms.text


def test_collapsed_two_line_record_text_is_the_record_not_the_glued_neighbour() -> None:
    requested = rows("t12_tomcat6_serverfault_confirmed_dead_state_transfer_collapsed.log")[1]
    event = list(
        scan_file(DATA / "t12_tomcat6_serverfault_confirmed_dead_state_transfer_collapsed.log")
    )[1]
    assert requested[3] == "10.2.1.69:5000"
    assert event.text.endswith("within 60 seconds.") and "ThroughputInterceptor" not in event.text


def test_offsets_point_at_the_first_byte_of_the_record() -> None:
    path = DATA / "t04_tomcat7_aws_static_deltamanager_state_transfer.log"
    data = path.read_bytes()
    for event in scan_file(path):
        assert data[event.offset :].startswith(event.text.split("\n", 1)[0].encode())
        assert data[: event.offset].count(b"\n") + 1 == event.line
