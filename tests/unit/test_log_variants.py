"""Formats beyond the corpus: localized Tomcat, journal and JSON output, prefixes, glued and
wrapped lines, WSO2 Carbon, Hazelcast and JGroups variants (see data/logs/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.logs.model import LogEvent
from probes.logs.scanner import scan_file

DATA = Path(__file__).parent / "data" / "logs"

# The same fifteen Tomcat 10.1 records, formatted by Tomcat itself in several ways. The crash of
# 127.0.4.12 is told twice (memberDisappeared, then the failure detector's "Verification complete.
# Member already disappeared"): one departure, one event.
SAME_RECORDS = [
    ("server-started", None, None),
    ("member-joined", "127.0.4.12:4000", None),
    ("session-sync", "127.0.4.12:4000", "requested"),
    ("session-sync", None, "received"),
    ("member-left", "127.0.4.13:4000", "graceful"),
    ("member-left", "127.0.4.12:4000", "crash"),
    ("member-left", "127.0.4.11:4000", "suspect"),
    ("session-sync", None, "skipped"),
    ("session-sync", None, "timed-out"),
    ("error", None, "org.apache.catalina.core.StandardContext"),
    ("server-stopping", None, None),
    ("server-stopping", None, None),
]
ONE_LINE_LINES = [1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 20, 21]
TWO_LINE_LINES = [1, 3, 5, 7, 9, 11, 17, 21, 23, 25, 34, 36]


def events(name: str) -> list[LogEvent]:
    return list(scan_file(DATA / name))


def summary(found: list[LogEvent]) -> list[tuple[str, str | None, str | None]]:
    return [(event.kind, event.member, event.detail) for event in found]


@pytest.mark.parametrize("language", ["fr", "ja", "de", "es"])
def test_localized_one_line_tomcat_gives_the_same_events_as_english(language: str) -> None:
    found = events(f"localized_tomcat101_{language}_oneline.log")
    assert summary(found) == SAME_RECORDS
    assert [event.line for event in found] == ONE_LINE_LINES
    assert all(event.time and event.time.startswith("2026-11-22T10:59") for event in found)


@pytest.mark.parametrize("language", ["fr", "ja"])
def test_localized_two_line_tomcat_gives_the_same_events_with_localized_dates(
    language: str,
) -> None:
    found = events(f"localized_tomcat101_{language}_twoline.log")
    assert summary(found) == SAME_RECORDS
    assert [event.line for event in found] == TWO_LINE_LINES
    assert found[0].time == "2026-11-22T10:59:01"


def test_french_member_added_is_a_join_by_logger_and_method() -> None:
    joined = events("localized_tomcat101_fr_oneline.log")[1]
    assert "Membre de réplication ajouté" in joined.text and joined.kind == "member-joined"


def test_localized_severe_error_keeps_its_stack_trace() -> None:
    for name in ("localized_tomcat101_de_oneline.log", "localized_tomcat101_ja_twoline.log"):
        error = next(event for event in events(name) if event.kind == "error")
        assert "Caused by: java.net.BindException: Address already in use" in error.text
        assert error.text.count("\n") == 6 + (1 if "twoline" in name else 0)


def test_tomcat_json_formatter_gives_the_same_events() -> None:
    found = events("tomcat101_jsonformatter.log")
    assert summary(found) == SAME_RECORDS
    assert "java.net.BindException" in found[9].text


def test_debian_journal_lines_without_logger_are_read_by_their_english_text() -> None:
    found = events("journal_tomcat10_debian_systemdformatter.log")
    expected = [record for record in SAME_RECORDS if record[0] != "error"]
    assert summary(found) == expected  # the journal hides priorities: SEVERE text is not an error
    assert all(event.time is None for event in found)  # syslog stamps have no year
    assert found[1].text.startswith("Nov 22 10:59:02 node1 tomcat10[812]: Replication member added")


def test_tomcat_variants_thread_brackets_signed_bytes_ipv6_wrapped_glued_prefixed() -> None:
    found = events("tomcat_variants_synthetic.log")
    assert [(e.line, e.kind, e.member, e.detail) for e in found] == [
        (1, "member-joined", "10.2.1.70:4000", None),
        (3, "member-left", "192.168.1.12:4000", "graceful"),
        (5, "member-joined", "node-b.example.net:4000", None),
        (7, "member-left", "[fe80::1]:4000", "crash"),
        (8, "member-left", "127.0.0.13:4000", "graceful"),
        (10, "server-started", None, None),
        (10, "member-joined", "127.0.0.14:4000", None),
        (11, "error", None, "org.apache.catalina.core.StandardServer"),
        (14, "server-stopping", None, None),
        (15, "error", None, "org.apache.catalina.ha.tcp.SimpleTcpCluster"),
        (17, "server-started", None, None),
    ]
    wrapped, glued, prefixed = found[4], found[6], found[7]
    assert wrapped.text.count("\n") == 1 and "command={66 65 66 89" in wrapped.text
    assert (
        glued.text.startswith("22-Nov-2026 12:01:05.000")
        and glued.time == "2026-11-22T12:01:05.000"
    )
    assert "Net.bind0" in prefixed.text and prefixed.time == "2026-11-22T12:02:00.100"
    assert not found[-1].text.endswith(("\r", "\ufffd"))


def test_wso2_carbon_membership_lifecycle_and_errors() -> None:
    found = events("wso2_carbon_synthetic.log")
    assert [(e.line, e.kind, e.source, e.member) for e in found] == [
        (1, "member-joined", "wso2", "10.100.0.46:4001"),
        (2, "member-left", "wso2", "10.100.0.47:4001"),  # line 3 tells the same departure
        (4, "server-started", "wso2", None),
        (5, "error", "wso2", None),
        (10, "server-stopping", "wso2", None),
    ]
    assert found[3].text.endswith("\t... 12 more") and found[0].time == "2016-01-28T14:34:13.252"


def test_hazelcast_block_variants_and_a_block_cut_short_is_given_up() -> None:
    found = events("hazelcast_blocks_synthetic.log")
    assert [(e.line, e.members, e.detail, e.observer, e.time) for e in found] == [
        (1, ("10.0.0.1:5701", "10.0.0.2:5701"), None, "10.0.0.1:5701", "2016-01-28T14:34:13"),
        (
            9,
            ("10.0.0.1:5701", "10.0.0.2:5701", "10.0.0.3:5701"),
            None,
            "10.0.0.1:5701",
            "2015-06-01T10:00:00.000",
        ),
        (
            16,
            ("[fe80::1%eth0]:5701", "[fe80::2%eth0]:5701"),
            "4",
            "[fe80::1%eth0]:5701",
            "2019-03-01T09:00:00.000",
        ),
    ]


def test_jgroups_views_merged_views_liferay_and_gms_but_not_pipes_in_app_text() -> None:
    found = events("jgroups_views_synthetic.log")
    assert [(e.line, e.members, e.detail) for e in found] == [
        (1, ("95b4ba75f648-22296",), "95b4ba75f648-22296|0"),
        (2, ("node-a:7800", "node-b(v=2)", "node-c"), "node-a:7800|9"),
        (3, ("liferay-1-12345", "liferay-2-54321"), "liferay-1-12345|3"),
        (5, ("LXKA-6RLTVL3-46217",), None),
    ]
    assert {event.source for event in found} == {"jgroups"}


def test_a_dropped_message_during_state_transfer_is_not_a_node_alone(tmp_path: Path) -> None:
    """DeltaManager warns about messages dropped while a transfer runs; that is no 'skipped'."""
    log = tmp_path / "catalina.out"
    log.write_text(
        "22-Nov-2026 12:00:00.100 INFO [main] org.apache.catalina.ha.session.DeltaManager"
        ".getAllClusterSessions Manager [localhost#/app], requesting session state from "
        "[org.apache.catalina.tribes.membership.StaticMember[tcp://{127, 0, 0, 12}:4000,"
        "{127, 0, 0, 12},4000, alive=10, securePort=-1, UDP Port=-1, id={0 }, payload={}, "
        "command={}, domain={}]]. This operation will timeout if no session state has been "
        "received within [60] seconds.\n"
        "22-Nov-2026 12:00:00.200 WARNING [main] org.apache.catalina.ha.session.DeltaManager"
        ".getAllClusterSessions Manager [localhost#/app]: Drop message [SESSION-DELTA] inside "
        "GET_ALL_SESSIONS sync phase start date [Sun Nov 22 12:00:00 UTC 2026] message date "
        "[Sun Nov 22 11:59:59 UTC 2026]\n"
    )
    assert summary(list(scan_file(log))) == [("session-sync", "127.0.0.12:4000", "requested")]
