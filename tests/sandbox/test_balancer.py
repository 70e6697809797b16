"""httpd's balancer in front of the nodes: spreading, stickiness, and balancer-manager."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

import httpx
import pytest

from console.sandbox.layout import HTTP_PORT, SandboxLayout

from .helpers import HTTP_TIMEOUT, app_get, log_since, log_size, new_user, wait_for

pytestmark = pytest.mark.sandbox

HTTPD_NS = "{http://httpd.apache.org}"


def test_new_sessions_are_spread_over_every_node(sandbox: SandboxLayout) -> None:
    replies = []
    for _ in range(9):
        with new_user() as client:  # no cookie: a new visitor each time
            replies.append(app_get(client, sandbox.app_url))
    served = Counter(reply.node for reply in replies)
    assert set(served) == {node.jvm_route for node in sandbox.nodes}, served
    for reply in replies:
        assert reply.count == 1, reply
        assert reply.session.endswith(f".{reply.node}"), reply  # jvmRoute suffix on the id


def test_a_session_sticks_to_its_node(sandbox: SandboxLayout) -> None:
    with new_user() as client:
        replies = [app_get(client, sandbox.app_url) for _ in range(3)]
        assert client.cookies.get("JSESSIONID") == replies[0].session
    assert [reply.count for reply in replies] == [1, 2, 3]
    assert len({reply.node for reply in replies}) == 1, replies
    assert len({reply.session for reply in replies}) == 1, replies


def test_two_users_keep_separate_sessions(sandbox: SandboxLayout) -> None:
    with new_user() as alice, new_user() as bob:
        first = [app_get(alice, sandbox.app_url) for _ in range(2)]
        other = app_get(bob, sandbox.app_url)
        last = app_get(alice, sandbox.app_url)
    assert other.session != first[0].session
    assert other.count == 1
    assert [reply.count for reply in [*first, last]] == [1, 2, 3]


def test_balancer_manager_xml_lists_every_worker(sandbox: SandboxLayout) -> None:
    response = httpx.get(
        f"{sandbox.balancer_url}?xml=1",
        headers={"Referer": sandbox.balancer_url},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{HTTPD_NS}manager"
    balancers = root.findall(f"{HTTPD_NS}balancers/{HTTPD_NS}balancer")
    assert [b.findtext(f"{HTTPD_NS}name") for b in balancers] == ["balancer://cluster"]
    assert balancers[0].findtext(f"{HTTPD_NS}nonce"), "every balancer carries a nonce"
    workers = balancers[0].findall(f"{HTTPD_NS}workers/{HTTPD_NS}worker")
    seen = {w.findtext(f"{HTTPD_NS}route"): w.findtext(f"{HTTPD_NS}name") for w in workers}
    assert seen == {node.jvm_route: f"http://{node.address}:{HTTP_PORT}" for node in sandbox.nodes}
    for worker in workers:
        assert (worker.findtext(f"{HTTPD_NS}status") or "").endswith("Ok "), ET.tostring(worker)


def test_balancer_manager_ignores_queries_without_referer(sandbox: SandboxLayout) -> None:
    error_log = sandbox.httpd_dir / "logs" / "error.log"
    offset = log_size(error_log)
    response = httpx.get(f"{sandbox.balancer_url}?xml=1", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<httpd:manager" not in response.text
    assert "Balancer Manager" in response.text
    wait_for(
        lambda: "AH10187" in log_since(error_log, offset),
        5,
        "httpd to log that it ignored the cross-site query (AH10187)",
    )
