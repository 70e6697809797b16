"""The balancer-manager HTML parser on real, public and synthetic pages, and on hostile input."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest

from probes.balancer.httpd_html import PAGE_LIMIT, parse_html, tables
from probes.balancer.model import BalancerError, BalancerPage, Worker, parse_size
from tests.unit.contracts import WORKER_KEYS

DATA = Path(__file__).parent / "data" / "balancer"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def page(name: str) -> BalancerPage:
    return parse_html((DATA / name).read_bytes().decode("latin-1"), f"file:{name}")


def worker(found: BalancerPage, balancer: str, key: str) -> Worker:
    chosen = found.balancer(balancer)
    assert chosen is not None, [b.name for b in found.balancers]
    member = chosen.worker(key)
    assert member is not None, [w.url for w in chosen.workers]
    return member


def test_public_httpd_2451_page() -> None:
    found = page("b04_httpd2451_win64_balancer_manager_perl_fixture.html")
    assert found.server_version == "Apache/2.4.51 (Win64) OpenSSL/1.1.1l"
    assert [b.name for b in found.balancers] == ["balancer_name", "second_balancer"]
    assert found.balancers[0].nonce == "488d6558-fe13-6927-de4f-de761f8f7d74"
    assert found.balancers[1].nonce == "0e761cdb-a55e-c0c4-b5f7-16f46e063ca6"
    first = worker(found, "balancer_name", "http://127.0.0.1:5001")
    assert (first.route, first.redirect, first.factor) == ("route", "redir", 1.5)
    assert first.lbset is None  # the fixture shows "3.5", which is not a set number
    assert (first.status, first.flags) == ("Init Dis", ("Init", "Dis"))
    assert (first.usable, first.disabled, first.draining, first.standby) == (
        False,
        True,
        False,
        False,
    )
    assert (first.elected, first.busy, first.load) == (41, 0, 100)
    assert (first.to_bytes, first.from_bytes) == (15360, 1024)
    second = worker(found, "balancer_name", "http://127.0.0.1:5002")
    assert (second.route, second.redirect, second.usable) == (None, None, True)
    assert (second.to_bytes, second.from_bytes) == (16384, 1536)
    other = worker(found, "balancer://second_balancer", "http://127.0.0.1:5000")
    assert other.status == "Init Ok" and other.to_bytes == 0


def test_real_httpd_2471_page_from_the_sandbox() -> None:
    found = page("real_2471_page.html")
    assert found.server_version == "Apache/2.4.71 (Debian)"
    assert [b.name for b in found.balancers] == ["cluster"]
    cluster = found.balancers[0]
    assert cluster.nonce is not None and UUID.match(cluster.nonce)
    assert [(w.url, w.route) for w in cluster.workers] == [
        ("http://127.0.5.11:8080", "node1"),
        ("http://127.0.5.12:8080", "node2"),
        ("http://127.0.5.13:8080", "node3"),
    ]
    for member in cluster.workers:
        assert member.status == "Init Ok" and member.flags == ("Init", "Ok")
        assert (member.usable, member.draining, member.disabled, member.standby) == (
            True,
            False,
            False,
            False,
        )
        assert (member.factor, member.lbset, member.busy, member.redirect) == (1.0, 0, 0, None)


def test_real_page_with_changed_states() -> None:
    cluster = page("real_2471_states.html").balancers[0]
    node1, node2, node3 = cluster.workers
    assert (node1.status, node1.standby, node1.usable) == ("Init Stby Ok", True, True)
    assert (node1.factor, node1.lbset, node1.load) == (2.5, 1, 250)
    assert (node1.to_bytes, node1.from_bytes) == (1024, 395)
    assert (node2.status, node2.draining, node2.usable) == ("Init Drn Ok", True, True)
    assert (node3.status, node3.disabled, node3.usable) == ("Init Dis Stop", True, False)


def test_real_post_response_with_the_edit_form_adds_no_workers() -> None:
    found = page("real_2471_post_response.html")
    assert [len(b.workers) for b in found.balancers] == [3]
    assert found.balancers[0].workers[1].draining is True


def test_real_page_with_health_check_columns() -> None:
    found = page("real_2471_hcheck.html")
    assert [b.name for b in found.balancers] == ["hccluster", "static"]
    hccluster = found.balancers[0]
    assert [w.route for w in hccluster.workers] == ["node1", "node2", "gone", "node3"]
    gone = worker(found, "hccluster", "gone")
    assert (gone.status, gone.usable, gone.load) == ("Init Err", False, -100)
    static = worker(found, "static", "http://127.0.5.13:8080")
    assert (static.factor, static.route, static.to_bytes) == (3.0, None, 1229)


def test_httpd_22_layout_has_no_busy_nor_load() -> None:
    found = page("synthetic_22_page.html")
    assert found.server_version == "Apache/2.2.22 (Debian)"
    assert [b.name for b in found.balancers] == ["mycluster", "static"]
    assert found.balancers[0].nonce == "5b7c0a6e-3f1d-4c2b-9a8e-1d2f3c4b5a69"
    ok = worker(found, "mycluster", "ajp://10.0.0.2:8009")
    assert (ok.busy, ok.load) == (None, None)
    assert (ok.status, ok.usable, ok.factor, ok.elected) == ("Ok", True, 1.0, 1204)
    assert (ok.to_bytes, ok.from_bytes) == (4718592, 12582912)
    assert worker(found, "mycluster", "jvm20").disabled is True
    assert worker(found, "mycluster", "jvm20").redirect == "jvm2"
    assert worker(found, "mycluster", "jvm21").standby is True
    assert worker(found, "mycluster", "jvm22").usable is False
    stopped = worker(found, "mycluster", "jvm23")
    assert (stopped.flags, stopped.usable) == (("Dis", "Stop"), False)
    uninitialised = worker(found, "static", "http://10.0.0.30")
    assert (uninitialised.status, uninitialised.usable) == ("-", False)


def test_httpd_24_with_hcheck_columns_found_by_name() -> None:
    found = page("synthetic_24_hcheck.html")
    app = found.balancer("app")
    assert app is not None and len(app.workers) == 6
    first = worker(found, "app", "http://10.0.0.2:8080")
    assert (first.busy, first.load, first.to_bytes, first.from_bytes) == (3, 12, 15360, 57671680)
    draining = worker(found, "app", "node20")
    assert (draining.factor, draining.draining, draining.usable) == (0.5, True, True)
    assert (draining.to_bytes, draining.from_bytes) == (1536, 2 * 1024**3)
    failed = worker(found, "app", "node12")
    assert (failed.flags, failed.usable, failed.to_bytes) == (("Init", "HcFl"), False, None)
    hostile = worker(found, "app", "http://10.0.0.13:8080")
    assert hostile.route == "\x1b[31mnode13<b>[bold]x[/bold]"
    mixed = worker(found, "app", "node14")
    assert (mixed.draining, mixed.disabled, mixed.usable) == (True, True, False)
    socket = worker(found, "app", "sock")
    assert socket.url == "unix:/run/app.sock|http://localhost/"
    assert socket.flags == ("Init", "Shut", "Err") and socket.usable is False
    empty = found.balancer("empty")
    assert empty is not None and empty.workers == ()
    assert empty.nonce == "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"


def test_browser_saved_page() -> None:
    raw = (DATA / "synthetic_browser_saved.html").read_bytes()
    assert b"\r\n" in raw and b"<TD" in raw
    found = parse_html(raw.decode("cp1252"), "saved")
    assert found.server_version == "Apache/2.4.58 (Ubuntu)"
    shop = found.balancer("shop")
    assert shop is not None and shop.nonce == "e3b0c442-98fc-1c14-9afb-f4c8996fb924"
    assert [w.route for w in shop.workers] == ["shop1", "shop2", "Tom & Jerry"]
    first, second, third = shop.workers
    assert (first.status, first.to_bytes, first.from_bytes) == ("Init Ok", 15360, 1258291)
    assert (second.status, second.redirect, second.elected) == ("Init Drn Ok", "shop1", 1999)
    assert (third.disabled, third.usable) == (True, False)


def _shuffle_columns(text: str, seed: int) -> str:
    """The same page with its worker-table columns in another order plus two unknown ones."""
    order: list[int] = []

    def table(match: re.Match[str]) -> str:
        rows = re.findall(r"<tr>(.*?)</tr>", match.group(0), re.S)
        out = []
        for row in rows:
            cells = re.findall(r"<(t[hd])>(.*?)</t[hd]>", row, re.S)
            if not order:
                order.extend(range(len(cells)))
                random.Random(seed).shuffle(order)
            tag = cells[0][0]
            extra = (
                [("th", "Sessions"), ("th", "Zone")] if tag == "th" else [("td", "9"), ("td", "x")]
            )
            moved = [cells[index] for index in order] + extra
            out.append("<tr>" + "".join(f"<{t}>{c}</{t}>" for t, c in moved) + "</tr>")
        return "<table>" + "\n".join(out) + "</table>"

    return re.sub(r"<table><tr><th>Worker URL.*?</table>", table, text, flags=re.S)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_columns_are_found_by_header_name_not_position(seed: int) -> None:
    text = (DATA / "real_2471_states.html").read_text(encoding="latin-1")
    shuffled = _shuffle_columns(text, seed)
    assert shuffled != text
    assert parse_html(shuffled, "u").balancers == parse_html(text, "u").balancers


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("", "empty page"),
        ("   \r\n ", "empty page"),
        ("<html><body><h1>It works!</h1></body></html>", "not answer with a balancer-manager"),
        ('{"balancers": []}', "not answer with a balancer-manager"),
        (
            '<html><form action="/login"><input name="user"><input type="password" name="p">'
            "</form></html>",
            "password",
        ),
        (
            "<h1>Proxy LoadBalancer Status for balancer://x</h1><table><tr><th>Sch</th>"
            "<th>Host</th><th>Stat</th></tr><tr><td>http</td><td>a</td><td>Ok</td></tr></table>",
            "not answer with a balancer-manager",
        ),
        ("\x00\x01\x02<<<>>>&&&;;;" * 1000, "not answer with a balancer-manager"),
    ],
)
def test_not_a_balancer_manager_page(body: str, words: str) -> None:
    with pytest.raises(BalancerError) as caught:
        parse_html(body, "http://127.0.5.1:8000/x")
    message = str(caught.value)
    assert words in message and "http://127.0.5.1:8000/x" in message
    assert "\n" not in message and "Traceback" not in message


def test_a_manager_page_without_balancers_is_empty_not_an_error() -> None:
    text = (
        "<html><head><title>Balancer Manager</title></head>"
        "<body><h1>Load Balancer Manager for x</h1></body></html>"
    )
    assert parse_html(text, "u").balancers == ()


def test_a_page_over_the_limit_is_refused_at_once() -> None:
    began = time.perf_counter()
    with pytest.raises(BalancerError, match="MiB"):
        parse_html("x" * (PAGE_LIMIT + 1), "u")
    assert time.perf_counter() - began < 1.0


@pytest.mark.parametrize(
    "chunk",
    [
        "<td",  # tags that never close: every pattern stops at the next '<'
        "<table><tr><td>",  # ever deeper nesting
        "LoadBalancer Status for balancer://b <td>",
        "<a href='?b=x&nonce=",
    ],
)
def test_hostile_pages_parse_in_linear_time(chunk: str) -> None:
    text = "<title>Balancer Manager</title>" + chunk * (6 * 1024 * 1024 // len(chunk))
    began = time.perf_counter()
    found = parse_html(text, "u")
    assert isinstance(found, BalancerPage)
    assert (
        time.perf_counter() - began < 20.0
    )  # generous for a busy 2-core machine; quadratic is hours


def test_tables_tolerate_omitted_end_tags_and_nesting() -> None:
    found = tables("<table><tr><th>A<th>B<tr><td>1<td><table><tr><td>x</table>2</table>")
    inner, outer = found
    assert inner == [[(False, "x")]]
    assert [cell for _, cell in outer[0]] == ["A", "B"]
    assert outer[1][0] == (False, "1")


def test_worker_matching_is_exact() -> None:
    app = page("synthetic_24_hcheck.html").balancer("app")
    assert app is not None
    two = app.worker("http://10.0.0.2:8080")
    assert two is not None and two.route == "node2"
    assert app.worker("node2") is two
    twenty = app.worker("node20")
    assert twenty is not None and twenty.url == "http://10.0.0.20:8080"
    for near in ("10.0.0.2", "http://10.0.0.2", "http://10.0.0.2:808", "node", "NODE2", " node2"):
        assert app.worker(near) is None, near


def test_to_json_is_exactly_the_contract() -> None:
    document = page("synthetic_22_page.html").to_json()
    assert set(document) == {"url", "balancers", "server_version"}  # server_version: issue 12
    balancer = document["balancers"][0]
    assert set(balancer) == {"name", "nonce", "workers", "settings"}  # settings: issue 12
    assert set(balancer["workers"][0]) == WORKER_KEYS
    assert balancer["workers"][0]["flags"] == ["Ok"]
    assert balancer["workers"][0]["busy"] is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  15K ", 15360),
        (" 55M", 55 * 1024 * 1024),
        ("1.5K", 1536),
        ("395 ", 395),
        ("  0 ", 0),
        ("2.0G", 2 * 1024**3),
        ("  - ", None),
        ("****", None),
        ("", None),
        ("12Q", None),
    ],
)
def test_sizes(text: str, expected: int | None) -> None:
    assert parse_size(text) == expected


def test_fifty_workers_parse_fast() -> None:
    text = (DATA / "real_2471_page.html").read_text(encoding="latin-1")
    row = re.search(r"<tr>\n<td><a href.*?</tr>\n", text, re.S)
    assert row is not None
    rows = "".join(row.group(0).replace("127.0.5.11", f"10.1.0.{n}") for n in range(50))
    big = text.replace(row.group(0), rows, 1)
    assert len(parse_html(big, "u").balancers[0].workers) == 52
    began = time.perf_counter()
    for _ in range(20):
        parse_html(big, "u")
    assert (time.perf_counter() - began) / 20 < 0.05  # ~1 ms measured; generous for CI noise
