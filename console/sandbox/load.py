"""A load generator for the sandbox app: sticky clients at a paced total rate.

Each client is a browser of its own (its own `httpx.AsyncClient`, so its own cookie jar and its
own keep-alive connection) and sends one request at a time, the next only after the previous one
ended, as a browser session does. The clients share a total target rate: client *i* of *N* asks
every ``N / rate`` seconds, phase-shifted by ``i / rate`` so that the requests are spread evenly.
A client that falls behind (a slow reply) sends its next request at once but never bursts to
catch up, so the achieved rate is the honest figure of what the cluster and this machine served.

The sandbox app answers ``node=<jvmRoute> session=<id> count=<n>`` and counts hits per session.
Per client the generator tracks the session, the last count and the node of every reply, and
counts:

- **failures**: any answer other than HTTP 200, a timeout, a connection error, or a body that is
  not the app's line (the first few are kept with their time and reason);
- **node switches**: a reply from another node than the previous reply;
- **counter breaks**: replies that show the session was lost or an update was lost.

The counter-break rule
----------------------
A session's identity is its id *without* the ``.jvmRoute`` suffix: on failover Tomcat's
JvmRouteBinderValve rewrites ``ABC.node2`` into ``ABC.node1`` (same session, new home), which is
a node switch, not a break. Comparing a reply with the client's previous successful reply:

- ``count == previous + 1``, same session: fine.
- **lost session** (a break): the session id (without its route) changed: the node that answered
  did not have the session and made a new one (its count restarts at 1).
- **stale count** (a break): ``count <= previous``: the node that answered held an older copy of
  the session (replication is asynchronous, docs/facts.md), so at least one update the client had
  already seen acknowledged was lost.
- **skip** (*not* a break, counted separately): ``count > previous + 1``: the server counted a
  request whose reply the client never saw. That happens when the client's request failed or
  timed out after the server had handled it, or when the balancer re-sent a request to another
  worker after the first one had handled it. Nothing the client saw was lost; the session kept
  counting. Skips are expected after a failure and are reported so that a silent balancer retry
  remains visible.

After a break the client takes the new session and count as its baseline, so one lost session
is one break, not one per later reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import httpx

from console.sandbox.load_report import (
    KEEP_SAMPLES,
    AppReply,
    ClientReport,
    ClientTracker,
    LoadBook,
    LoadReport,
    LoadWindow,
    Sample,
    Switch,
    Verdict,
    judge,
    parse_reply,
    percentile,
    session_base,
)

__all__ = [
    "KEEP_SAMPLES",
    "AppReply",
    "ClientReport",
    "ClientTracker",
    "LoadBook",
    "LoadGenerator",
    "LoadReport",
    "LoadWindow",
    "Sample",
    "Switch",
    "Verdict",
    "failure_reason",
    "judge",
    "main",
    "parse_reply",
    "percentile",
    "run_for",
    "session_base",
]


def failure_reason(error: BaseException) -> str:
    """A short sentence for an exception raised by an HTTP request."""
    if isinstance(error, httpx.TimeoutException):
        return f"timeout ({type(error).__name__})"
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class LoadGenerator:
    """N sticky clients GETting `url` at a paced total `rate` (requests per second).

    Use ``await start()``, then ``snapshot()`` whenever you like, then ``await stop()`` for the
    final `LoadReport`; or ``async with LoadGenerator(...) as load:``.
    """

    def __init__(
        self,
        url: str,
        clients: int = 20,
        rate: float = 120.0,
        timeout: float = 5.0,
        *,
        routes: Sequence[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`routes`, when given, spreads the clients' first sessions over these jvmRoutes in
        turn (client i's first request names route ``routes[i % len(routes)]`` in a made-up
        session cookie, which httpd's sticky routing follows and Tomcat replaces with a real
        session); by default the balancer places each new session itself."""
        if clients < 1:
            raise ValueError("clients must be at least 1")
        if not rate > 0:
            raise ValueError("rate must be above 0")
        self.url = url
        self.clients = clients
        self.rate = rate
        self.timeout = timeout
        self.routes = tuple(routes)
        self._transport = transport
        self._clock = clock
        self._book = LoadBook(clients)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._began: float | None = None
        self._ended: float | None = None
        self._started_at = ""

    @property
    def running(self) -> bool:
        return self._began is not None and self._ended is None

    def _elapsed(self) -> float:
        if self._began is None:
            return 0.0
        end = self._ended if self._ended is not None else self._clock()
        return end - self._began

    async def start(self) -> None:
        """Start every client (once); returns at once, the clients run as tasks."""
        if self._began is not None:
            raise RuntimeError("this load generator was already started")
        self._began = self._clock()
        self._started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        self._tasks = [
            asyncio.create_task(self._run_client(index), name=f"load-client-{index}")
            for index in range(self.clients)
        ]

    async def stop(self) -> LoadReport:
        """Stop asking; wait for the requests in flight (at most `timeout` + 1 s); the report."""
        self._stopping = True
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=self.timeout + 1.0)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            for task in self._tasks:
                if not task.cancelled() and task.exception() is not None:
                    raise RuntimeError("a load client crashed") from task.exception()
        if self._began is not None and self._ended is None:
            self._ended = self._clock()
        return self.snapshot()

    def snapshot(self) -> LoadReport:
        """The figures so far (safe to call while running)."""
        return self._book.report(
            url=self.url,
            target_rate=self.rate,
            started_at=self._started_at,
            duration=self._elapsed(),
            running=self.running,
        )

    async def __aenter__(self) -> LoadGenerator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            transport=self._transport,
            follow_redirects=False,
            headers={"User-Agent": "clusterconsole-load"},
        )

    async def _run_client(self, index: int) -> None:
        assert self._began is not None
        interval = self.clients / self.rate
        next_at = self._began + index / self.rate
        pin = (
            f"JSESSIONID=load{index}.{self.routes[index % len(self.routes)]}" if self.routes else ""
        )
        async with self._new_client() as client:
            while not self._stopping:
                delay = next_at - self._clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                    if self._stopping:
                        break
                first = pin and not client.cookies.get("JSESSIONID")
                await self._one_request(client, index, {"Cookie": pin} if first else None)
                # Paced, never bursting to catch up: a late client simply goes on from now.
                next_at = max(next_at + interval, self._clock())

    async def _one_request(
        self, client: httpx.AsyncClient, index: int, headers: dict[str, str] | None
    ) -> None:
        assert self._began is not None
        sent = self._clock()
        reason: str | None = None
        reply: AppReply | None = None
        try:
            response = await client.get(self.url, headers=headers)
        except httpx.HTTPError as error:
            reason = failure_reason(error)
        else:
            if response.status_code != 200:
                reason = f"HTTP {response.status_code}: {response.text[:80]!r}"
            else:
                reply = parse_reply(response.text)
                if reply is None:
                    reason = f"unparsable body: {response.text[:80]!r}"
        now = self._clock()
        at = now - self._began
        if reply is not None:
            self._book.answered(index, at, now - sent, reply)
        else:
            self._book.failed(index, at, now - sent, reason or "no reply")


async def run_for(
    url: str,
    seconds: float,
    clients: int = 20,
    rate: float = 120.0,
    timeout: float = 5.0,
) -> LoadReport:
    """Run a load for `seconds` and return its report."""
    load = LoadGenerator(url, clients, rate, timeout)
    await load.start()
    try:
        await asyncio.sleep(seconds)
    finally:
        report = await load.stop()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m console.sandbox.load URL SECONDS [CLIENTS] [RATE]``: a load, its report."""
    import json
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2:
        print("usage: python -m console.sandbox.load URL SECONDS [CLIENTS] [RATE]", file=sys.stderr)
        return 2
    url, seconds = args[0], float(args[1])
    clients = int(args[2]) if len(args) > 2 else 20
    rate = float(args[3]) if len(args) > 3 else 120.0
    report = asyncio.run(run_for(url, seconds, clients, rate))
    print(json.dumps(report.to_json(), indent=2))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
