"""What a balancer change would send (pure), and how HTTP failures become sentences."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from probes.balancer.httpd_client import BalancerReader, BalancerWriter, WorkerChange
from probes.balancer.httpd_html import PAGE_LIMIT, parse_html
from probes.balancer.model import BalancerChangeNotApplied, BalancerError, BalancerPage

DATA = Path(__file__).parent / "data" / "balancer"
URL = "http://127.0.5.1:8000/balancer-manager"
REAL = (DATA / "real_2471_page.html").read_text(encoding="latin-1")
NONCE = "13cf696e-7218-d8dc-b224-cf513dc9c80f"

Handler = Callable[[httpx.Request], httpx.Response]


def reader(handler: Handler | None = None, **options: object) -> BalancerReader:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"nothing may be sent: {request.method} {request.url}")

    transport = httpx.MockTransport(handler or refuse)
    return BalancerReader(URL, transport=transport, **options)  # type: ignore[arg-type]


def real_page() -> BalancerPage:
    return parse_html(REAL, URL)


def hcheck_page() -> BalancerPage:
    return parse_html((DATA / "synthetic_24_hcheck.html").read_text(encoding="latin-1"), URL)


def test_drain_request_carries_b_w_nonce_in_the_body_and_the_referer() -> None:
    request = BalancerWriter(reader()).request_for(
        real_page(), "cluster", "node2", WorkerChange(drain=True, factor=2)
    )
    assert (request.method, request.url) == ("POST", URL)
    assert dict(request.headers) == {
        "Referer": URL,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert request.form == (
        ("b", "cluster"),
        ("w", "http://127.0.5.12:8080"),
        ("nonce", NONCE),
        ("w_status_N", "1"),
        ("w_lf", "2"),
    )
    assert "?" not in request.url  # httpd ignores the query string of a POST
    assert parse_qsl(request.body) == list(request.form)
    assert request.to_json() == {
        "method": "POST",
        "url": URL,
        "headers": dict(request.headers),
        "form": [list(pair) for pair in request.form],
        "body": request.body,
    }


def test_every_switch_maps_to_its_httpd_field() -> None:
    change = WorkerChange(
        drain=False, disabled=True, standby=True, stopped=False, ignore_errors=True, lbset=3
    )
    request = BalancerWriter(reader()).request_for(real_page(), "cluster", "node1", change)
    assert request.form[3:] == (
        ("w_status_I", "1"),
        ("w_status_N", "0"),
        ("w_status_D", "1"),
        ("w_status_H", "1"),
        ("w_status_S", "0"),
        ("w_ls", "3"),
    )
    assert change.describe() == (
        "ignore errors on, drain off, disabled on, standby on, stopped off, set 3"
    )


def test_describe() -> None:
    assert WorkerChange(drain=True, factor=2).describe() == "drain on, factor 2"
    assert WorkerChange(factor=1.5).describe() == "factor 1.5"
    assert WorkerChange().describe() == "no change"


def test_a_wrong_referer_is_sent_as_given() -> None:
    writer = BalancerWriter(reader(), referer="http://evil.example/")
    request = writer.request_for(real_page(), "cluster", "node1", WorkerChange(drain=True))
    assert dict(request.headers)["Referer"] == "http://evil.example/"


def test_exact_matching_never_takes_a_prefix() -> None:
    writer = BalancerWriter(reader())
    page = hcheck_page()
    by_url = writer.request_for(page, "app", "http://10.0.0.2:8080", WorkerChange(drain=True))
    assert dict(by_url.form)["w"] == "http://10.0.0.2:8080"
    by_route = writer.request_for(page, "app", "node2", WorkerChange(drain=True))
    assert dict(by_route.form)["w"] == "http://10.0.0.2:8080"
    twenty = writer.request_for(page, "app", "http://10.0.0.20:8080", WorkerChange(drain=True))
    assert dict(twenty.form)["w"] == "http://10.0.0.20:8080"
    for near in ("10.0.0.2", "http://10.0.0.2", "10.0.0.2:8080", "node", "http://10.0.0.2:80"):
        with pytest.raises(BalancerError) as caught:
            writer.request_for(page, "app", near, WorkerChange(drain=True))
        message = str(caught.value)
        assert repr(near) in message and "http://10.0.0.20:8080 (node20)" in message


def test_a_route_shared_by_two_workers_is_ambiguous() -> None:
    page = parse_html(REAL.replace("<td>node3</td>", "<td>node2</td>"), URL)
    writer = BalancerWriter(reader())
    with pytest.raises(BalancerError, match="names 2 workers"):
        writer.request_for(page, "cluster", "node2", WorkerChange(drain=True))
    by_url = writer.request_for(page, "cluster", "http://127.0.5.13:8080", WorkerChange(drain=True))
    assert dict(by_url.form)["w"] == "http://127.0.5.13:8080"


def test_unknown_balancer_names_the_ones_that_exist() -> None:
    with pytest.raises(BalancerError, match=r"no balancer 'nope'; it has: app, empty"):
        BalancerWriter(reader()).request_for(
            hcheck_page(), "nope", "node2", WorkerChange(drain=True)
        )


@pytest.mark.parametrize(
    "change",
    [
        WorkerChange(factor=0.5),
        WorkerChange(factor=0),
        WorkerChange(factor=100.5),
        WorkerChange(factor=-1),
        WorkerChange(factor=math.nan),
        WorkerChange(factor=math.inf),
        WorkerChange(drain=True, lbset=100),
        WorkerChange(lbset=-1),
        WorkerChange(lbset=1.5),  # type: ignore[arg-type]
    ],
)
async def test_out_of_range_values_are_refused_before_anything_is_sent(
    change: WorkerChange,
) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, text=REAL)

    client = reader(handler)
    with pytest.raises(BalancerError, match="nothing was sent"):
        await BalancerWriter(client).apply("cluster", "node1", change)
    await client.aclose()
    assert all(request.method == "GET" for request in sent)


@pytest.mark.parametrize("factor", [1, 1.0, 2.5, 100])
def test_factor_bounds_are_inclusive(factor: float) -> None:
    request = BalancerWriter(reader()).request_for(
        real_page(), "cluster", "node1", WorkerChange(factor=factor)
    )
    assert dict(request.form)["w_lf"] == f"{factor:g}"


def test_an_empty_change_is_refused() -> None:
    with pytest.raises(BalancerError, match="nothing to change"):
        BalancerWriter(reader()).request_for(real_page(), "cluster", "node1", WorkerChange())


def test_httpd_22_cannot_be_changed_with_post() -> None:
    page = parse_html((DATA / "synthetic_22_page.html").read_text(encoding="latin-1"), URL)
    with pytest.raises(BalancerError, match=r"httpd 2\.4"):
        BalancerWriter(reader()).request_for(page, "mycluster", "jvm2", WorkerChange(drain=True))


def test_a_body_httpd_would_truncate_is_refused() -> None:
    long_url = "http://" + "a" * 1100 + ":8080"
    page = parse_html(REAL.replace("http://127.0.5.11:8080", long_url), URL)
    with pytest.raises(BalancerError, match="1024 bytes"):
        BalancerWriter(reader()).request_for(page, "cluster", "node1", WorkerChange(drain=True))


def test_credentials_in_the_url_become_auth_and_never_reach_the_request() -> None:
    client = BalancerReader(
        "http://admin:s3cret@127.0.5.1:8000/balancer-manager",
        transport=httpx.MockTransport(lambda request: httpx.Response(500)),
    )
    assert client.url == URL and client.has_auth
    request = BalancerWriter(client).request_for(
        real_page(), "cluster", "node1", WorkerChange(drain=True)
    )
    assert "s3cret" not in repr(request.to_json())
    assert "Authorization" not in dict(request.headers)


def test_not_an_http_url() -> None:
    with pytest.raises(BalancerError, match="not an http"):
        BalancerReader("ftp://127.0.5.1/balancer-manager")


async def test_reads_send_the_referer_and_xml_asks_for_xml() -> None:
    seen: list[httpx.Request] = []
    xml = (DATA / "real_2471_xml.xml").read_bytes()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("xml") == "1":
            return httpx.Response(200, content=xml, headers={"content-type": "text/xml"})
        return httpx.Response(200, text=REAL, headers={"content-type": "text/html"})

    client = reader(handler)
    html_page = await client.read()
    xml_page = await client.read_xml()
    await client.aclose()
    assert [r.headers["referer"] for r in seen] == [URL, URL]
    assert str(seen[1].url) == f"{URL}?xml=1"
    assert html_page.balancers[0].nonce == xml_page.balancers[0].nonce == NONCE


async def test_xml_answered_with_the_page_says_httpd_ignored_the_query() -> None:
    client = reader(lambda request: httpx.Response(200, text=REAL))
    with pytest.raises(BalancerError, match="AH10187"):
        await client.read_xml()
    await client.aclose()


def _refused(request: httpx.Request) -> httpx.Response:
    """What httpx raises when nothing listens: the OS error hides in the cause chain."""
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError as error:
        raise httpx.ConnectError("All connection attempts failed") from error


def _raise(error: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


@pytest.mark.parametrize(
    ("handler", "words"),
    [
        (lambda r: httpx.Response(401), "asks for a user name and password"),
        (lambda r: httpx.Response(403), "HTTP 403"),
        (lambda r: httpx.Response(404), "HTTP 404"),
        (lambda r: httpx.Response(500), "HTTP 500 Internal Server Error"),
        (lambda r: httpx.Response(302, headers={"location": "/login"}), "redirects to /login"),
        (lambda r: httpx.Response(200, text=""), "empty page"),
        (lambda r: httpx.Response(200, text="<form><input type=password></form>"), "password"),
        (_raise(httpx.ConnectError("All connection attempts failed")), "cannot connect"),
        (_raise(httpx.ReadTimeout("slow")), "timed out"),
        (_refused, "connection refused"),
    ],
)
async def test_failures_are_one_sentence_naming_the_url(handler: Handler, words: str) -> None:
    client = reader(handler)
    with pytest.raises(BalancerError) as caught:
        await client.read()
    await client.aclose()
    message = str(caught.value)
    assert words in message and URL in message and "\n" not in message


async def test_connection_refused_is_named() -> None:
    client = BalancerReader("http://127.0.5.250:9/balancer-manager", timeout=2)
    with pytest.raises(BalancerError, match="connection refused"):
        await client.read()
    await client.aclose()


async def test_401_with_credentials_says_they_were_rejected() -> None:
    client = reader(lambda r: httpx.Response(401), auth=("u", "p"))
    with pytest.raises(BalancerError, match="rejected the user name and password"):
        await client.read()
    await client.aclose()


async def test_a_huge_answer_is_cut_off() -> None:
    chunk = b"<td>" * (1 << 18)

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(PAGE_LIMIT // len(chunk) + 2):
            yield chunk

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    client = reader(handler)
    with pytest.raises(BalancerError, match="MiB"):
        await client.read()
    await client.aclose()


async def test_apply_posts_then_reads_back() -> None:
    state = {"node2": "Init Ok "}
    posted: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posted.append(request)
            form = dict(parse_qsl(request.content.decode()))
            if form.get("nonce") == NONCE and request.headers.get("referer") == URL:
                state["node2"] = "Init Drn Ok "
        text = REAL.replace(
            "<td>node2</td><td></td><td>1.00</td><td>0</td><td>Init Ok </td>",
            f"<td>node2</td><td></td><td>1.00</td><td>0</td><td>{state['node2']}</td>",
        )
        return httpx.Response(200, text=text)

    client = reader(handler)
    seen = await BalancerWriter(client).apply("cluster", "node2", WorkerChange(drain=True))
    assert (seen.url, seen.status, seen.draining) == ("http://127.0.5.12:8080", "Init Drn Ok", True)
    (post,) = posted
    assert post.url.query == b""
    assert dict(parse_qsl(post.content.decode()))["w_status_N"] == "1"

    with pytest.raises(BalancerChangeNotApplied) as caught:
        await BalancerWriter(client, referer="http://evil.example/").apply(
            "cluster", "node2", WorkerChange(drain=False)
        )
    await client.aclose()
    message = str(caught.value)
    assert "drain: asked off, seen on" in message and URL in message
    assert isinstance(caught.value, BalancerError)


async def test_a_read_on_a_connection_httpd_just_closed_is_sent_once_more() -> None:
    """httpd closes idle kept-alive connections; a GET that crosses the close is repeated."""
    sent: list[str] = []

    def closed_once(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        if len(sent) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200, text=REAL)

    page = await reader(closed_once).read()
    assert sent == ["GET", "GET"]
    assert page.balancer("cluster") is not None


async def test_a_balancer_that_keeps_closing_the_connection_is_an_error() -> None:
    def always_closed(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    with pytest.raises(BalancerError, match="cannot read the balancer-manager"):
        await reader(always_closed).read()
