"""Reading one line as a record: layouts, localized levels and dates, prefixes, glued records."""

from __future__ import annotations

import pytest

from probes.logs.records import is_continuation, parse, split_glued, strip_prefixes
from probes.logs.text import clean, iso_from_jul_two_line


@pytest.mark.parametrize(
    ("line", "layout", "level", "logger", "method", "time"),
    [
        (
            "22-Nov-2026 11:59:01.358 INFO [main] org.apache.catalina.startup.Catalina.start Hi",
            "jul1",
            "INFO",
            "org.apache.catalina.startup.Catalina",
            "start",
            "2026-11-22T11:59:01.358",
        ),
        (
            "22-Nov-2026 11:59:01.358 GRAVE [a [b] c] org.apache.x.Y.run boom",
            "jul1",
            "SEVERE",
            "org.apache.x.Y",
            "run",
            "2026-11-22T11:59:01.358",
        ),
        (
            "Jan 17, 2016 11:21:32 PM org.apache.catalina.ha.tcp.SimpleTcpCluster memberAdded",
            "jul2",
            None,
            "org.apache.catalina.ha.tcp.SimpleTcpCluster",
            "memberAdded",
            "2016-01-17T23:21:32",
        ),
        (
            "06/11/2013 9:56:14 PM org.apache.catalina.ha.session.waitForSendAllSessions",
            "jul2",
            None,
            "org.apache.catalina.ha.session",
            "waitForSendAllSessions",
            "2013-11-06T21:56:14",
        ),
        ("重大: サービス [x] を停止します", "level", "SEVERE", None, None, None),
        (
            "[2016-01-28 14:34:13,252] ERROR {org.wso2.carbon.X} -  boom",
            "carbon",
            "ERROR",
            "org.wso2.carbon.X",
            None,
            "2016-01-28T14:34:13.252",
        ),
        (
            "2017-03-15 09:42:47.197  INFO 7 --- [main] com.hazelcast.core.LifecycleService : hi",
            "iso",
            "INFO",
            "com.hazelcast.core.LifecycleService",
            None,
            "2017-03-15T09:42:47.197",
        ),
        (
            "07:42:50,796 ERROR [org.jgroups.protocols.pbcast.GMS] (Thread-5) boom",
            "clock",
            "ERROR",
            "org.jgroups.protocols.pbcast.GMS",
            None,
            None,
        ),
        ("just some text", "bare", None, None, None, None),
    ],
)
def test_parse_layouts(
    line: str,
    layout: str,
    level: str | None,
    logger: str | None,
    method: str | None,
    time: str | None,
) -> None:
    record = parse(line)
    assert (record.layout, record.level, record.logger, record.method, record.time) == (
        layout,
        level,
        logger,
        method,
        time,
    )


@pytest.mark.parametrize(
    ("stamp", "iso"),
    [
        ("nov. 22, 2026 10:59:01 PM", "2026-11-22T22:59:01"),
        ("11月 22, 2026 10:59:01 午後", "2026-11-22T22:59:01"),
        ("nov 22, 2026 12:05:01 A. M.", "2026-11-22T00:05:01"),
        ("Dez. 1, 2026 10:59:01", "2026-12-01T10:59:01"),
        ("13/11/2013 9:55:47 AM", "2013-11-13T09:55:47"),
        ("11/13/2013 9:55:47 AM", "2013-11-13T09:55:47"),
        ("Foo 22, 2026 10:59:01 AM", None),
    ],
)
def test_two_line_stamps_in_many_locales(stamp: str, iso: str | None) -> None:
    assert iso_from_jul_two_line(stamp) == iso


def test_prefixes_are_removed_but_not_carbon_timestamps() -> None:
    assert strip_prefixes("Nov 22 11:59:01 host tomcat10[123]: 22-Nov-2026 x") == "22-Nov-2026 x"
    assert (
        strip_prefixes("[tomcat] 29-Nov-2020 13:36:56.163 INFO") == "29-Nov-2020 13:36:56.163 INFO"
    )
    assert strip_prefixes("web-1   | 22-Nov-2026 x") == "22-Nov-2026 x"
    carbon = "[2021-07-28 07:54:59,446] []  INFO {x} - y"
    assert strip_prefixes(carbon) == carbon


def test_glued_records_are_split_and_dates_inside_messages_are_not() -> None:
    line = (
        "WARNING: Manager [webservice#], requesting session state. May 8, 2014 10:54:21 AM "
        "org.apache.catalina.tribes.group.interceptors.ThroughputInterceptor report INFO: Report"
    )
    assert len(split_glued(line)) == 2
    assert split_glued("INFO: session state send at 5/8/14 10:54 AM received in 111 ms.") == [
        "INFO: session state send at 5/8/14 10:54 AM received in 111 ms."
    ]


def test_stack_trace_lines_are_continuations_and_records_are_not() -> None:
    for line in ("\tat a.B.c(B.java:1)", "Caused by: java.io.IOException: x", "\t... 5 more",
                 "java.lang.IllegalStateException: boom", "    at x.Y(Z.java:1)"):  # fmt: skip
        assert is_continuation(line), line
    for line in ("22-Nov-2026 11:59:01.358 INFO [main] x.Y.z hi", "", "   ", "INFO: hi"):
        assert not is_continuation(line), line


def test_clean_replaces_escape_and_control_characters_but_keeps_tabs() -> None:
    assert clean(b"a\x1b[31mred\x00\x07\tb\xff") == "a\ufffd[31mred\ufffd\ufffd\tb\ufffd"
    assert clean("x\u009by".encode()) == "x\ufffdy"


def test_timestamp_fast_roads_give_the_general_roads_answers() -> None:
    """The cached-day readings of the two commonest stamps agree with the general parsers on
    valid and invalid stamps alike (a wrong month, day 0, hour 24, minute 60 ...)."""
    import random

    from probes.logs import text

    rng = random.Random(7)
    for _ in range(5000):
        clock = (
            f"{rng.randrange(0, 26):02d}:{rng.randrange(0, 62):02d}:{rng.randrange(0, 62):02d}"
            f"{rng.choice('.,')}{rng.randrange(1000):03d}"
        )
        year, month, day = rng.randrange(1999, 2030), rng.randrange(0, 14), rng.randrange(0, 33)
        name = rng.choice(["Jan", "Nov", "Déc", "Foo", "nov"])
        jul = f"{day:02d}-{name}-{year} {clock}"
        iso = f"{year}-{month:02d}-{day:02d}{rng.choice(' T')}{clock}"
        assert text.iso_from_jul_one_line(jul) == text._slow_jul_one_line(jul), jul
        assert text.iso_from_iso_like(iso) == text._slow_iso_like(iso), iso
