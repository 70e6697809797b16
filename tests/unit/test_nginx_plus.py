"""NGINX Plus's REST API client (probes/balancer/nginx_plus.py, console/balancer/nginx_plus.py) on
responses recorded in the format ngx_http_api_module documents (no live NGINX Plus here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.balancer.nginx_plus import NginxPlusBalancer, plus_body
from console.config.model import BalancerConfig
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import BalancerError
from probes.balancer.nginx_plus import NginxPlusApi, parse_upstreams

DATA = Path(__file__).parent / "data" / "nginx_plus"
API = "http://lb.example:8080/api/9"


def recorded(name: str) -> Any:
    return json.loads((DATA / name).read_text())


class FakePlus:
    """Answers as the recorded API does and keeps the PATCHes it was sent."""

    def __init__(self) -> None:
        self.servers = recorded("servers.json")
        self.sent: list[tuple[str, str, Any]] = []
        self.write = True

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/9")
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, path, body))
        if path == "/http/upstreams":
            return httpx.Response(200, json=recorded("upstreams.json"))
        if path == "/http/upstreams/wso2ei/servers" and request.method == "GET":
            return httpx.Response(200, json=self.servers)
        if path.startswith("/http/upstreams/wso2ei/servers/") and request.method == "PATCH":
            if not self.write:
                return httpx.Response(405, json=recorded("error_method_disabled.json"))
            server = self.servers[int(path.rsplit("/", 1)[1])]
            server.update(body)
            return httpx.Response(200, json=server)
        return httpx.Response(404, json=recorded("error_upstream_not_found.json"))


def client(fake: FakePlus, *, writable: bool = True) -> NginxPlusBalancer:
    config = BalancerConfig(name="plus", kind="nginx-plus", url=API, balancer="wso2ei")
    api = NginxPlusApi(API, transport=httpx.MockTransport(fake))
    return NginxPlusBalancer(config, api, writable=writable)


def test_peers_read_with_their_state_and_counters() -> None:
    page = parse_upstreams(recorded("upstreams.json"), "api")
    (upstream,) = page.balancers
    up, draining, unavail = upstream.workers
    assert (up.url, up.status, up.usable, up.busy, up.elected) == (
        "10.0.0.11:8280",
        "up",
        True,
        3,
        18034,
    )
    assert (up.to_bytes, up.from_bytes) == (9876543, 123456789)
    assert (draining.draining, draining.usable, draining.disabled) == (True, True, False)
    assert (unavail.usable, unavail.standby) == (False, True)


async def test_drain_is_a_patch_read_back() -> None:
    fake = FakePlus()
    balancer = client(fake)
    planned = await balancer.plan(None, "10.0.0.11:8280", WorkerChange(drain=True))
    assert planned.request == {
        "method": "PATCH",
        "url": f"{API}/http/upstreams/wso2ei/servers/0",
        "body": {"drain": True},
    }
    await balancer.apply(planned, WorkerChange(drain=True))
    assert ("PATCH", "/http/upstreams/wso2ei/servers/0", {"drain": True}) in fake.sent
    assert fake.servers[0]["drain"] is True
    await balancer.aclose()


async def test_the_apis_own_error_text_is_reported_and_read_only_sends_nothing() -> None:
    fake = FakePlus()
    fake.write = False
    balancer = client(fake)
    planned = await balancer.plan(None, "10.0.0.12:8280", WorkerChange(drain=False, disabled=False))
    with pytest.raises(BalancerError, match=r"method disabled \(MethodDisabled\)"):
        await balancer.apply(planned, WorkerChange(drain=False, disabled=False))
    watcher = client(FakePlus(), writable=False)
    with pytest.raises(BalancerError, match="read-only"):
        await watcher.plan(None, "10.0.0.11:8280", WorkerChange(drain=True))
    other = NginxPlusApi(API, transport=httpx.MockTransport(fake))
    with pytest.raises(BalancerError, match=r"upstream not found \(UpstreamNotFound\)"):
        await other.server_id("nope", "10.0.0.11:8280")


@pytest.mark.parametrize("document", [[], {"x": {"peers": "no"}}, "garbage", {"x": None}], ids=str)
def test_garbage_is_refused(document: object) -> None:
    with pytest.raises(BalancerError):
        parse_upstreams(document, "api")


def test_bodies_and_urls() -> None:
    assert plus_body(WorkerChange(disabled=True)) == {"down": True}
    assert plus_body(WorkerChange(drain=False, disabled=False)) == {"drain": False, "down": False}
    with pytest.raises(BalancerError):
        plus_body(WorkerChange(standby=True))
    with pytest.raises(BalancerError, match="not an NGINX Plus API URL"):
        NginxPlusApi("http://lb.example:8080/status")
