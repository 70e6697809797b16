"""HTTP access to one httpd balancer-manager: read the page or XML view, change one worker.

Every request carries `Referer: <the balancer-manager URL>`: httpd ignores queries and edits
without it (AH10187) and still answers 200, so a change is only trusted once read back.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from probes.balancer.httpd_html import PAGE_LIMIT, parse_html
from probes.balancer.httpd_xml import parse_xml
from probes.balancer.model import (
    BALANCER_PREFIX,
    BalancerChangeNotApplied,
    BalancerError,
    BalancerPage,
    Worker,
    describe_names,
)
from probes.balancer.worker_change import FACTOR_RANGE as FACTOR_RANGE
from probes.balancer.worker_change import LBSET_RANGE as LBSET_RANGE
from probes.balancer.worker_change import WorkerChange as WorkerChange
from probes.http import DEADLINE, network_reason, no_answer

FORM_LIMIT = 1024
"""httpd reads only this many bytes of a balancer-manager POST body."""
USER_AGENT = "clusterconsole"


def _split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without any `user:password@` part, and that part as basic-auth credentials."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BalancerError(f"{url!r} is not an http:// or https:// balancer-manager URL")
    if parts.username is None and parts.password is None:
        return urlunsplit(parts), None
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, (parts.username or "", parts.password or "")


def _status_error(url: str, response: httpx.Response, has_auth: bool) -> BalancerError:
    """The sentence for a non-200 answer."""
    code = response.status_code
    if code == 401:
        if has_auth:
            return BalancerError(f"{url} rejected the user name and password (HTTP 401)")
        return BalancerError(
            f"{url} asks for a user name and password (HTTP 401, authentication required)"
        )
    if code == 403:
        return BalancerError(f"{url} refused access (HTTP 403 Forbidden)")
    if code == 404:
        return BalancerError(f"{url} answered HTTP 404 Not Found: no balancer-manager there")
    if 300 <= code < 400:
        where = response.headers.get("location", "elsewhere")
        return BalancerError(
            f"{url} redirects to {where} (HTTP {code}), not to a balancer-manager page "
            "(a login page or the wrong URL?)"
        )
    phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
    return BalancerError(f"{url} answered HTTP {code}{phrase}, not a balancer-manager page")


KEEPALIVE_SECONDS = 2.0
"""How long an idle connection is kept: less than httpd's default KeepAliveTimeout (5 s), so the
client lets go of a connection before the server closes it."""


_WORKER_URL = re.compile(
    r"^(?:https?|ajp|h2c?|wss?|fcgi)://[A-Za-z0-9._\[\]:-]{1,253}(?:/[^\s<>\"']{0,200})?$"
)


_ROUTE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _form_headers(referer: str) -> tuple[tuple[str, str], ...]:
    return (("Referer", referer), ("Content-Type", "application/x-www-form-urlencoded"))


class BalancerReader:
    """Reads one balancer-manager; one long-lived httpx.AsyncClient with explicit timeouts.

    `timeout` bounds each network read; `deadline` bounds a whole request, so a server that
    trickles its answer a byte at a time fails with "no answer within N s" instead of hanging."""

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
        self.url, embedded = _split_credentials(url)
        self.deadline = deadline
        self._auth = auth or embedded
        self._client = httpx.AsyncClient(
            auth=self._auth,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS),
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            verify=verify,
        )

    @property
    def has_auth(self) -> bool:
        """Whether credentials are sent (changes the wording of an HTTP 401)."""
        return self._auth is not None

    @property
    def client(self) -> httpx.AsyncClient:
        """The one HTTP client of this balancer (the writer posts through it too)."""
        return self._client

    async def _get(self, url: str) -> tuple[bytes, httpx.Response]:
        """GET with the Referer, at most PAGE_LIMIT bytes, every failure as a BalancerError.

        A GET that finds its kept-alive connection closed under it (httpd closes idle ones
        after KeepAliveTimeout, and the close can cross the request) is sent once more on a new
        connection: it is a read, so repeating it is harmless. Both tries together get at most
        `deadline` seconds."""
        try:
            async with asyncio.timeout(self.deadline):
                try:
                    return await self._get_once(url)
                except BalancerError as exc:
                    if not isinstance(exc.__cause__, httpx.RemoteProtocolError | httpx.ReadError):
                        raise
                return await self._get_once(url)
        except TimeoutError:
            raise BalancerError(
                f"cannot read the balancer-manager at {self.url}: {no_answer(self.deadline)}"
            ) from None

    async def _get_once(self, url: str) -> tuple[bytes, httpx.Response]:
        try:
            async with self._client.stream("GET", url, headers={"Referer": self.url}) as response:
                if response.status_code != 200:
                    raise _status_error(self.url, response, self._auth is not None)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > PAGE_LIMIT:
                        raise BalancerError(
                            f"{self.url} answered with more than {PAGE_LIMIT // (1024 * 1024)} "
                            "MiB, far more than any balancer-manager page; not read"
                        )
                    chunks.append(chunk)
                return b"".join(chunks), response
        except httpx.HTTPError as exc:
            raise BalancerError(
                f"cannot read the balancer-manager at {self.url}: {network_reason(exc)}"
            ) from exc

    async def read(self) -> BalancerPage:
        """The HTML page (it has every column: busy, load, to, from)."""
        body, response = await self._get(self.url)
        charset = response.charset_encoding or "iso-8859-1"
        try:
            text = body.decode(charset, errors="replace")
        except LookupError:
            text = body.decode("iso-8859-1")
        return parse_html(text, self.url)

    async def read_xml(self) -> BalancerPage:
        """The `?xml=1` view; httpd only honours it with the Referer, else sends the page."""
        url = str(httpx.URL(self.url).copy_merge_params({"xml": "1"}))
        body, response = await self._get(url)
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "text/html" or body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")):
            raise BalancerError(
                f"{self.url} answered ?xml=1 with the HTML page: httpd ignored the query "
                "(it does so when the Referer does not name the server, AH10187)"
            )
        return parse_xml(body, self.url)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> BalancerReader:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.aclose()


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """The exact request a change sends (for dry runs and the audit log); never credentials."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    form: tuple[tuple[str, str], ...]

    @property
    def body(self) -> str:
        return urlencode(self.form)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": dict(self.headers),
            "form": [list(pair) for pair in self.form],
            "body": self.body,
        }


class BalancerWriter:
    """The only thing that changes a balancer; watch mode never constructs one."""

    def __init__(self, reader: BalancerReader, *, referer: str | None = None) -> None:
        self._reader = reader
        self.referer = referer if referer is not None else reader.url

    def request_for(
        self, page: BalancerPage, balancer: str, worker: str, change: WorkerChange
    ) -> ChangeRequest:
        """The POST that would apply `change` to `worker` (exact URL or route) of `balancer`."""
        url = self._reader.url
        if change.empty:
            raise BalancerError(f"nothing to change on {worker!r} at {url}")
        problems = change.problems()
        if problems:
            raise BalancerError(f"{'; '.join(problems)}; nothing was sent to {url}")
        version = page.server_version or ""
        if version.startswith(("Apache/2.2", "Apache/2.0")):
            raise BalancerError(
                f"{url} runs {version}: changing workers needs httpd 2.4's balancer-manager"
            )
        found = page.balancer(balancer)
        if found is None:
            names = [b.name for b in page.balancers]
            raise BalancerError(
                f"{url} has no balancer {balancer!r}; it has: {describe_names(names)}"
            )
        member = found.worker(worker)
        if member is None:
            known = [f"{w.url} ({w.route})" if w.route else w.url for w in found.workers]
            raise BalancerError(
                f"{BALANCER_PREFIX}{found.name} at {url} has no worker whose URL or route is "
                f"exactly {worker!r}; it has: {describe_names(known)}"
            )
        same_route = [w.url for w in found.workers if w.route == worker]
        if member.url != worker and len(same_route) > 1:
            raise BalancerError(
                f"route {worker!r} names {len(same_route)} workers of {BALANCER_PREFIX}"
                f"{found.name} at {url} ({', '.join(same_route)}); give the worker URL"
            )
        if not found.nonce:
            raise BalancerError(
                f"{url} shows no nonce for {BALANCER_PREFIX}{found.name}; httpd would ignore "
                "the change"
            )
        form = (("b", found.name), ("w", member.url), ("nonce", found.nonce), *change.form())
        request = ChangeRequest(
            method="POST",
            url=url,
            headers=(
                ("Referer", self.referer),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ),
            form=form,
        )
        if len(request.body.encode()) > FORM_LIMIT:
            raise BalancerError(
                f"the change for {member.url} would need a form body over {FORM_LIMIT} bytes, "
                f"more than httpd reads; nothing was sent to {url}"
            )
        return request

    def add_request(self, page: BalancerPage, balancer: str, worker_url: str) -> ChangeRequest:
        """The POST that adds `worker_url` to `balancer` (httpd 2.4's "Add new worker" form).

        httpd adds it only into a free member slot (the balancer's `growth`), and disabled."""
        url = self._reader.url
        found = page.balancer(balancer)
        if found is None:
            names = [b.name for b in page.balancers]
            raise BalancerError(
                f"{url} has no balancer {balancer!r}; it has: {describe_names(names)}"
            )
        where = f"{BALANCER_PREFIX}{found.name} at {url}"
        if not _WORKER_URL.match(worker_url):
            raise BalancerError(
                f"{worker_url!r} is not a worker URL such as http://10.0.0.4:8080 or "
                "ajp://10.0.0.4:8009; nothing was sent"
            )
        if found.worker(worker_url) is not None:
            raise BalancerError(f"{where} already has the worker {worker_url}")
        settings = found.settings
        if settings is not None and settings.free_slots == 0:
            raise BalancerError(
                f"{where} has no free member slot (MaxMembers {settings.max_members}, "
                f"{settings.members_used} used): httpd adds workers at runtime only into the "
                "room its `growth` parameter leaves (ProxySet growth=N, then a restart)"
            )
        if not found.nonce:
            raise BalancerError(f"{url} shows no nonce for {where}; httpd would ignore the form")
        form = (("b", found.name), ("nonce", found.nonce), ("b_nwrkr", worker_url), ("b_wyes", "1"))
        return ChangeRequest(
            method="POST",
            url=url,
            headers=(
                ("Referer", self.referer),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ),
            form=form,
        )

    async def add_worker(self, balancer: str, worker_url: str, route: str | None = None) -> Worker:
        """Read a fresh nonce, POST the new worker (then its route, when given), read back; the
        worker as httpd shows it (disabled: httpd starts every worker added at runtime
        disabled)."""
        url = self._reader.url
        request = self.add_request(await self._reader.read(), balancer, worker_url)
        await self._post(request, f"the new worker {worker_url}")
        after = await self._reader.read()
        found = after.balancer(balancer)
        seen = found.worker(worker_url) if found is not None else None
        if seen is None or found is None:
            raise BalancerChangeNotApplied(
                f"{url} did not add {worker_url} to {BALANCER_PREFIX}{balancer} (no free member "
                "slot, a stale nonce, or a Referer httpd does not accept, AH10187)"
            )
        if route is None or seen.route == route:
            return seen
        if not _ROUTE.match(route) or not found.nonce:
            raise BalancerError(f"{worker_url} was added but its route {route!r} cannot be set")
        form = (("b", found.name), ("w", worker_url), ("nonce", found.nonce), ("w_wr", route))
        await self._post(
            ChangeRequest("POST", url, _form_headers(self.referer), form), f"route {route}"
        )
        final = (await self._reader.read()).balancer(balancer)
        seen = final.worker(worker_url) if final is not None else None
        if seen is None or seen.route != route:
            raise BalancerChangeNotApplied(
                f"{url} added {worker_url} but did not set its route to {route!r}"
            )
        return seen

    async def _post(self, request: ChangeRequest, what: str) -> None:
        url = self._reader.url
        try:
            async with (
                asyncio.timeout(self._reader.deadline),
                self._reader.client.stream(
                    request.method,
                    request.url,
                    content=request.body.encode(),
                    headers=dict(request.headers),
                ) as response,
            ):
                if response.status_code != 200:
                    raise _status_error(url, response, self._reader.has_auth)
        except TimeoutError:
            raise BalancerError(
                f"could not send {what} to {url}: {no_answer(self._reader.deadline)} "
                "(read the balancer to see whether it took)"
            ) from None
        except httpx.HTTPError as exc:
            raise BalancerError(f"could not send {what} to {url}: {network_reason(exc)}") from exc

    async def apply(self, balancer: str, worker: str, change: WorkerChange) -> Worker:
        """Read a fresh nonce, POST the change, read back; the worker as httpd now shows it."""
        url = self._reader.url
        page = await self._reader.read()
        request = self.request_for(page, balancer, worker, change)
        target = dict(request.form)["w"]
        await self._post(request, f"{change.describe()} for {target}")
        after = await self._reader.read()
        found = after.balancer(balancer)
        seen = found.worker(target) if found is not None else None
        if seen is None:
            raise BalancerError(f"{target} is gone from {url} after the change was sent")
        differences = change.differences(seen)
        if differences:
            raise BalancerChangeNotApplied(
                f"{url} did not apply {change.describe()} to {target}: "
                f"{'; '.join(differences)} (httpd ignores an edit whose Referer does not name "
                "the server, AH10187, or whose nonce is stale)"
            )
        return seen
