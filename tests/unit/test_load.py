"""The load generator's bookkeeping: the counter-break rule, the report maths, and one short run
against a fake app (httpx.MockTransport: no network)."""

from __future__ import annotations

import asyncio
import itertools
import json
from http.cookies import SimpleCookie

import httpx
import pytest

from console.sandbox.load import (
    AppReply,
    ClientTracker,
    LoadBook,
    LoadGenerator,
    Verdict,
    judge,
    parse_reply,
    percentile,
    session_base,
)

URL = "http://127.0.9.1:8000/app/"


def reply(count: int, node: str = "node2", session: str = "ABC") -> AppReply:
    return AppReply(node, f"{session}.{node}", count)


# --- parsing ---------------------------------------------------------------------------------


def test_parse_reply_reads_the_apps_line() -> None:
    assert parse_reply("node=node2 session=5F3A.node2 count=17\n") == AppReply(
        "node2", "5F3A.node2", 17
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "<html>502 Proxy Error</html>",
        "node=node2 session=X count=",
        "node=n session=s count=-1",
    ],
)
def test_parse_reply_refuses_anything_else(text: str) -> None:
    assert parse_reply(text) is None


def test_session_base_drops_only_the_route_suffix() -> None:
    assert session_base("5F3A.node2") == "5F3A"
    assert session_base("5F3A") == "5F3A"
    assert session_base("a.b.node10") == "a.b"


# --- the counter-break rule --------------------------------------------------------------------


def test_first_reply_has_no_previous() -> None:
    assert judge(None, reply(1)) is Verdict.FIRST


def test_next_count_on_the_same_node_is_fine() -> None:
    assert judge(reply(4), reply(5)) is Verdict.NEXT


def test_failover_with_the_route_rewritten_is_not_a_break() -> None:
    # JvmRouteBinderValve: ABC.node2 becomes ABC.node1 on the node that took the session over.
    verdict = judge(reply(4, "node2"), reply(5, "node1"))
    assert verdict is Verdict.NEXT
    assert not verdict.is_break


def test_a_new_session_is_a_lost_session_break() -> None:
    verdict = judge(reply(9, "node2"), reply(1, "node1", session="NEW"))
    assert verdict is Verdict.LOST
    assert verdict.is_break


@pytest.mark.parametrize("count", [4, 3, 1])
def test_a_count_that_does_not_move_forward_is_a_stale_break(count: int) -> None:
    verdict = judge(reply(4, "node2"), reply(count, "node1"))
    assert verdict is Verdict.STALE
    assert verdict.is_break


def test_a_count_that_jumps_forward_is_a_skip_not_a_break() -> None:
    verdict = judge(reply(4), reply(6))
    assert verdict is Verdict.SKIP
    assert not verdict.is_break


# --- one client's tracker ----------------------------------------------------------------------


def test_tracker_counts_switches_breaks_skips_and_failures() -> None:
    tracker = ClientTracker(3)
    seen = [
        tracker.observe(reply(1, "node2")),
        tracker.observe(reply(2, "node2")),
        tracker.observe(reply(3, "node1")),  # moved with its session: a switch
        tracker.observe(reply(3, "node3")),  # stale copy: a break and a switch
    ]
    tracker.fail()
    seen.append(tracker.observe(reply(5, "node3")))  # the failed request had counted: a skip
    seen.append(tracker.observe(reply(1, "node3", session="NEW")))  # lost: a break
    seen.append(tracker.observe(reply(2, "node3", session="NEW")))  # the new baseline
    assert [verdict for verdict, _ in seen] == [
        Verdict.FIRST,
        Verdict.NEXT,
        Verdict.NEXT,
        Verdict.STALE,
        Verdict.SKIP,
        Verdict.LOST,
        Verdict.NEXT,
    ]
    assert [source for _, source in seen] == [None, None, "node2", "node1", None, None, None]
    report = tracker.report()
    assert (report.requests, report.ok, report.failures) == (8, 7, 1)
    assert (report.breaks, report.skips, report.switches) == (2, 1, 2)
    assert report.nodes == ("node2", "node1", "node3")
    assert (report.node, report.session, report.count) == ("node3", "NEW.node3", 2)


def test_a_client_that_never_got_a_reply_reports_nothing_seen() -> None:
    tracker = ClientTracker(0)
    tracker.fail()
    report = tracker.report()
    assert (report.node, report.session, report.count, report.nodes) == (None, None, None, ())
    assert (report.requests, report.failures) == (1, 1)


# --- the report maths --------------------------------------------------------------------------


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) is None


def book_with_traffic() -> LoadBook:
    book = LoadBook(clients=2, keep=2)
    book.answered(0, 0.10, 0.010, reply(1, "node1", "A"))
    book.answered(1, 0.20, 0.020, reply(1, "node2", "B"))
    book.answered(0, 1.10, 0.030, reply(2, "node1", "A"))
    book.failed(1, 1.20, 5.0, "timeout (ReadTimeout)")
    book.answered(1, 2.70, 0.040, reply(3, "node1", "B"))  # skip + switch, 2.5 s after B's last
    book.answered(0, 2.80, 0.050, reply(2, "node3", "A"))  # stale + switch
    return book


def test_report_adds_up_the_clients_and_keeps_samples() -> None:
    report = book_with_traffic().report(
        url=URL, target_rate=2.0, started_at="t", duration=3.0, running=False
    )
    assert (report.requests, report.ok, report.failures) == (6, 5, 1)
    assert (report.breaks, report.skips, report.switches) == (1, 1, 2)
    assert report.rate == pytest.approx(2.0)
    assert dict(report.replies_by_node) == {"node1": 3, "node2": 1, "node3": 1}
    assert report.latency_max_s == 5.0
    assert report.latency_p50_s == pytest.approx(0.03)
    assert report.longest_gap_s == pytest.approx(1.6)  # no good reply from 1.10 to 2.70
    assert report.slowest_second == 2  # seconds 0, 1, 2 had 2 completions each
    assert [s.kind for s in report.failure_samples] == ["failure"]
    assert report.failure_samples[0].detail == "timeout (ReadTimeout)"
    assert [s.kind for s in report.break_samples] == ["stale"]
    assert [s.kind for s in report.skip_samples] == ["skip"]
    assert [(s.client, s.source, s.target) for s in report.switch_events] == [
        (1, "node2", "node1"),
        (0, "node1", "node3"),
    ]
    assert report.clients_on("node1") == (1,)
    assert report.clients_on("node3") == (0,)
    data = report.to_json(per_client=True)
    json.dumps(data)  # serialisable as is
    assert data["counter_breaks"] == 1
    assert data["latency_ms"] == {"p50": 30.0, "p99": 5000.0, "max": 5000.0}
    assert len(data["per_client"]) == 2
    assert data["switch_events"][0] == {"at_s": 2.7, "client": 1, "from": "node2", "to": "node1"}


def test_samples_are_capped_but_everything_is_counted() -> None:
    book = LoadBook(clients=1, keep=2)
    for n in range(5):
        book.failed(0, float(n), 0.1, f"HTTP 502 #{n}")
    report = book.report(url=URL, target_rate=1.0, started_at="t", duration=5.0, running=False)
    assert report.failures == 5
    assert [s.detail for s in report.failure_samples] == ["HTTP 502 #0", "HTTP 502 #1"]


def test_window_between_two_snapshots() -> None:
    book = book_with_traffic()
    early = book.report(url=URL, target_rate=2.0, started_at="t", duration=1.0, running=True)
    book.failed(0, 3.5, 0.2, "HTTP 503")
    late = book.report(url=URL, target_rate=2.0, started_at="t", duration=4.0, running=True)
    window = late.since(early)
    assert (window.start_s, window.duration_s) == (1.0, 3.0)
    assert (window.requests, window.failures, window.breaks, window.switches) == (1, 1, 0, 0)
    assert window.rate == pytest.approx(1 / 3)
    assert window.to_json()["rate"] == 0.3


def test_a_running_report_counts_the_silence_up_to_now_as_a_gap() -> None:
    book = LoadBook(clients=1)
    book.answered(0, 1.0, 0.01, reply(1))
    running = book.report(url=URL, target_rate=1.0, started_at="t", duration=4.0, running=True)
    assert running.longest_gap_s == pytest.approx(3.0)


# --- a short run against a fake app ------------------------------------------------------------


class FakeApp:
    """Counts per session like the sandbox app; sessions live on the route in their cookie."""

    def __init__(self, routes: tuple[str, ...] = ("node1", "node2", "node3")) -> None:
        self.routes = routes
        self.counts: dict[str, int] = {}
        self.ids = itertools.count(1)
        self.first_cookies: list[str] = []
        self.fail_next = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.fail_next:
            self.fail_next -= 1
            return httpx.Response(502, text="<html>Proxy Error</html>")
        cookie = SimpleCookie(request.headers.get("cookie", ""))
        sent = cookie["JSESSIONID"].value if "JSESSIONID" in cookie else None
        if sent is None or session_base(sent) not in self.counts:
            self.first_cookies.append(sent or "")
            route = sent.rsplit(".", 1)[1] if sent and "." in sent else self.routes[0]
            session = f"S{next(self.ids)}.{route}"
            self.counts[session_base(session)] = 0
        else:
            session = sent
        base = session_base(session)
        self.counts[base] += 1
        node = session.rsplit(".", 1)[1]
        body = f"node={node} session={session} count={self.counts[base]}\n"
        return httpx.Response(
            200, text=body, headers={"set-cookie": f"JSESSIONID={session}; Path=/app"}
        )


async def test_a_short_run_paces_its_clients_and_keeps_their_sessions() -> None:
    app = FakeApp()
    load = LoadGenerator(
        URL,
        clients=6,
        rate=120.0,
        timeout=1.0,
        routes=app.routes,
        transport=httpx.MockTransport(app),
    )
    await load.start()
    deadline = asyncio.get_running_loop().time() + 10
    while load.snapshot().ok < 30:
        assert asyncio.get_running_loop().time() < deadline, load.snapshot()
        await asyncio.sleep(0.01)
    app.fail_next = 1
    while load.snapshot().failures < 1:
        assert asyncio.get_running_loop().time() < deadline, load.snapshot()
        await asyncio.sleep(0.01)
    report = await load.stop()
    assert not report.running
    assert report.requests >= 31
    assert (report.failures, report.breaks, report.switches) == (1, 0, 0)
    assert report.failure_samples[0].detail.startswith("HTTP 502")
    # One session per client, pinned to the routes in turn by the first request's cookie.
    assert len(app.counts) == 6
    assert sorted(app.first_cookies) == sorted(f"load{i}.{app.routes[i % 3]}" for i in range(6))
    assert [client.node for client in report.per_client] == [app.routes[i % 3] for i in range(6)]
    for client in report.per_client:
        assert client.count == app.counts[session_base(client.session or "")]
    # Stopped means stopped: no request leaves after stop().
    total = sum(app.counts.values())
    await asyncio.sleep(0.1)
    assert sum(app.counts.values()) == total


async def test_connection_errors_are_failures_with_their_reason() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    load = LoadGenerator(URL, clients=2, rate=50.0, transport=httpx.MockTransport(refuse))
    await load.start()
    deadline = asyncio.get_running_loop().time() + 10
    while load.snapshot().failures < 3:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    report = await load.stop()
    assert report.ok == 0
    assert report.failures == report.requests
    assert report.failure_samples[0].detail == "ConnectError: Connection refused"


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        LoadGenerator(URL, clients=0)
    with pytest.raises(ValueError):
        LoadGenerator(URL, rate=0)
