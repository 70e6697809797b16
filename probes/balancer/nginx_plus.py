"""NGINX Plus's REST API (ngx_http_api_module): upstream peers read, servers changed at runtime.

Not tried against a live NGINX Plus (a commercial product): written and tested on responses
recorded in the documented format (tests/unit/data/nginx_plus/). Reading is
`GET {api}/http/upstreams` (peers with `state` up, draining, down, unavail, checking or
unhealthy); a change is `PATCH {api}/http/upstreams/NAME/servers/ID` with `{"drain": true}`,
`{"down": true}` or `{"down": false, "drain": false}`, read back through the servers list. The
API answers an error as `{"error": {"status", "text", "code"}, ...}`: its text is reported.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
from typing import Any
from urllib.parse import quote

import httpx

from probes.balancer.model import (
    Balancer,
    BalancerChangeNotApplied,
    BalancerError,
    BalancerPage,
    Worker,
    describe_names,
)
from probes.http import DEADLINE, network_reason, no_answer

ANSWER_LIMIT = 16 * 1024 * 1024
_API = re.compile(r"^https?://[^/\s]+(?:/[^\s?#]*)?/[0-9]{1,2}/?$")
_STATES = {"up", "draining", "down", "unavail", "checking", "unhealthy"}


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def peer_worker(peer: dict[str, Any]) -> Worker:
    """One peer of `GET /http/upstreams` as a balancer worker (unknown fields: None)."""
    state = peer.get("state")
    state = state if isinstance(state, str) and state in _STATES else None
    weight = _number(peer.get("weight"))
    backup = peer.get("backup")
    return Worker(
        url=str(peer.get("server") or peer.get("name") or "?"),
        route=None,
        redirect=None,
        factor=float(weight) if weight is not None else None,
        lbset=None,
        status=state,
        flags=(state,) if state else (),
        usable=None if state is None else state in ("up", "draining"),
        draining=None if state is None else state == "draining",
        disabled=None if state is None else state == "down",
        standby=backup if isinstance(backup, bool) else None,
        elected=_number(peer.get("requests")),
        busy=_number(peer.get("active")),
        load=None,
        to_bytes=_number(peer.get("sent")),
        from_bytes=_number(peer.get("received")),
    )


def parse_upstreams(document: object, where: str) -> BalancerPage:
    """`GET /http/upstreams` (name -> {peers, keepalive, zombies, zone}) as a page."""
    if not isinstance(document, dict):
        raise BalancerError(f"{where}: not an NGINX Plus upstreams object")
    balancers = []
    for name, upstream in document.items():
        peers = upstream.get("peers") if isinstance(upstream, dict) else None
        if not isinstance(peers, list):
            raise BalancerError(f"{where}: upstream {name!r} has no peers list")
        workers = tuple(peer_worker(p) for p in peers if isinstance(p, dict))
        balancers.append(Balancer(name=str(name), nonce=None, workers=workers))
    return BalancerPage(url=where, balancers=tuple(balancers))


def api_error(body: bytes, status: int) -> str:
    """The API's own error text (`{"error": {"text", "code"}}`), else the HTTP status."""
    try:
        error = json.loads(body).get("error", {})
        return f"{error['text']} ({error.get('code', status)})"
    except (ValueError, AttributeError, KeyError, TypeError):
        return f"HTTP {status}"


class NginxPlusApi:
    """The API at a base URL such as ``http://lb:8080/api/9``."""

    def __init__(
        self,
        url: str,
        *,
        auth: tuple[str, str] | None = None,
        timeout: float = 5.0,
        deadline: float = DEADLINE,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        if not _API.match(url):
            raise BalancerError(
                f"{url!r} is not an NGINX Plus API URL such as http://lb:8080/api/9 "
                "(the version number last)"
            )
        self.url = url.rstrip("/")
        self.deadline = deadline
        self._client = httpx.AsyncClient(
            auth=auth, timeout=httpx.Timeout(timeout), transport=transport, verify=verify
        )

    @property
    def description(self) -> str:
        return f"the NGINX Plus API at {self.url}"

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One request; the decoded JSON answer, or BalancerError with the API's reason."""
        url = self.url + path
        try:
            async with asyncio.timeout(self.deadline):
                response = await self._client.request(method, url, json=body)
        except TimeoutError:
            raise BalancerError(f"{self.description}: {no_answer(self.deadline)}") from None
        except httpx.HTTPError as error:
            raise BalancerError(f"{self.description}: {network_reason(error)}") from None
        content = response.content[:ANSWER_LIMIT]
        if response.status_code not in (200, 201, 204):
            reason = api_error(content, response.status_code)
            raise BalancerError(f"{self.description} refused {method} {path}: {reason}")
        if not content:
            return None
        try:
            return json.loads(content)
        except ValueError:
            raise BalancerError(f"{self.description}: {method} {path} answered no JSON") from None

    async def read(self) -> BalancerPage:
        return parse_upstreams(await self.call("GET", "/http/upstreams"), self.description)

    def servers_path(self, upstream: str) -> str:
        return f"/http/upstreams/{quote(upstream, safe='')}/servers"

    async def server_id(self, upstream: str, address: str) -> tuple[int, dict[str, Any]]:
        """The id and configuration of the server whose `server` is `address`."""
        servers = await self.call("GET", self.servers_path(upstream))
        if not isinstance(servers, list):
            raise BalancerError(f"{self.description}: upstream {upstream} has no servers list")
        for server in servers:
            if isinstance(server, dict) and server.get("server") == address:
                ident = _number(server.get("id"))
                if ident is not None:
                    return ident, server
        known = [str(s.get("server")) for s in servers if isinstance(s, dict)]
        raise BalancerError(
            f"upstream {upstream} at {self.description} has no server {address!r}; it has: "
            f"{describe_names(known)}"
        )

    async def patch(self, upstream: str, address: str, body: dict[str, Any]) -> dict[str, Any]:
        """PATCH the server, then read its configuration back; it must show `body`."""
        ident, _ = await self.server_id(upstream, address)
        await self.call("PATCH", f"{self.servers_path(upstream)}/{ident}", body)
        _, seen = await self.server_id(upstream, address)
        wrong = [key for key, value in body.items() if bool(seen.get(key, False)) != value]
        if wrong:
            raise BalancerChangeNotApplied(
                f"{self.description} does not show {', '.join(wrong)} as asked on {address}"
            )
        return seen

    async def aclose(self) -> None:
        await self._client.aclose()
