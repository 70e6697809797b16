"""NGINX open source as a balancer: read from `nginx -T` over SSH, change through one include file.

NGINX OSS has no status API and no runtime changes, so:

- reading is `nginx -T` on the balancer's host (parsed by probes.balancer.nginx_conf), each server's
  health by a direct HTTP request to the server's address (any HTTP answer is up), and the
  totals from a `stub_status` URL where one is configured;
- a change (drain or disable: `down`; enable: no `down`; add or remove a server) edits the one
  include file the console owns (the inventory's `include`), runs `nginx -t`, and only then a
  graceful `nginx -s reload` (old workers finish their requests); then reads back through
  `nginx -T`. A failed `nginx -t` writes the previous include back: nothing changed, and the
  error says nginx's reason.

NGINX OSS cannot drain (keep a server's sessions while refusing new ones): `down` stops all
requests to it; with `hash $cookie_JSESSIONID consistent` the others take its sessions, which
Tomcat's replication must then hold.
"""

from __future__ import annotations

import asyncio
import re
import shlex
from dataclasses import dataclass

import httpx

from probes.balancer.haproxy_client import CommandRunner
from probes.balancer.model import (
    Balancer,
    BalancerError,
    BalancerPage,
    Worker,
    describe_names,
)
from probes.balancer.nginx_conf import (
    NginxConf,
    NginxConfError,
    Upstream,
    UpstreamServer,
    parse_dump,
)

COMMAND_TIMEOUT = 45.0
"""Seconds one command on the balancer's host may take (a login shell on a busy host can take
seconds before the command even starts)."""
CHECK_TIMEOUT = 2.0
"""Seconds a direct check of one server may take."""
_EXIT = "clusterconsole-exit="
STEP = "clusterconsole-step: "
"""The marker line before each step a shell command reports (and before `ps` of the workers)."""
_PATH = re.compile(r"^/[A-Za-z0-9._/+-]{1,300}$")
ADDRESS = re.compile(r"^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):[0-9]{1,5}$")
_STUB = re.compile(
    r"Active connections:\s*(\d+).*?server accepts handled requests\s+(\d+)\s+(\d+)\s+(\d+)"
    r".*?Reading:\s*(\d+)\s+Writing:\s*(\d+)\s+Waiting:\s*(\d+)",
    re.DOTALL,
)


def checked_path(kind: str, value: str) -> str:
    if not _PATH.match(value) or ".." in value.split("/"):
        raise BalancerError(f"{value!r} is not a plain absolute path of {kind}")
    return value


@dataclass(frozen=True, slots=True)
class Outcome:
    """A command's exit status and its output (stdout and stderr together)."""

    code: int | None
    output: str

    @property
    def reason(self) -> str:
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        wrong = [line for line in lines if "[emerg]" in line or "[alert]" in line]
        return " ".join(wrong or lines[-2:])[:600] or f"exit {self.code}"


class NginxHost:
    """`nginx` on the balancer's host, through a CommandRunner (the node's SSH session)."""

    def __init__(
        self,
        runner: CommandRunner,
        *,
        node: str,
        binary: str = "/usr/sbin/nginx",
        conf: str | None = None,
        timeout: float = COMMAND_TIMEOUT,
    ) -> None:
        self.runner = runner
        self.node = node
        self.binary = checked_path("the nginx program", binary)
        self.conf = checked_path("a configuration file", conf) if conf is not None else None
        self.timeout = timeout
        self.pid_file: str | None = None
        """The master's pid file, learnt from the last `nginx -T`."""
        self.old_workers: int | None = None
        """Workers of an earlier configuration still finishing requests (`worker process is
        shutting down`) at the last read; None: not known yet."""

    @property
    def description(self) -> str:
        conf = f" -c {self.conf}" if self.conf else ""
        return f"nginx{conf} on {self.node}"

    def command(self, *args: str) -> str:
        conf = ["-c", self.conf] if self.conf else []
        return shlex.join([self.binary, *conf, *args])

    async def run(self, command: str, *, input: bytes = b"") -> Outcome:
        """`command` with stderr folded into stdout and its exit status appended."""
        line = f"{command} 2>&1; printf '\\n{_EXIT}%s\\n' \"$?\""
        try:
            async with asyncio.timeout(self.timeout * 2):
                raw = await self.runner(line, input=input, timeout=self.timeout)
        except TimeoutError:
            raise BalancerError(
                f"{self.description}: no answer within {self.timeout:g} s"
            ) from None
        except BalancerError:
            raise
        except Exception as error:  # the SSH layer's own errors: one sentence, never a traceback
            raise BalancerError(f"{self.description}: {error or type(error).__name__}") from None
        text = raw.decode("utf-8", "replace")
        body, _, code = text.rstrip("\n").rpartition(_EXIT)
        if not code.strip().isdigit():
            raise BalancerError(f"{self.description}: `{command}` did not run to its end")
        return Outcome(int(code), body[:-1] if body.endswith("\n") else body)

    def workers_command(self) -> str:
        """The master's children (`ps`), once the pid file is known from an earlier dump."""
        if self.pid_file is None:
            return "true"
        return f'ps -o args= --ppid "$(cat {shlex.quote(self.pid_file)})"'

    def learn(self, text: str) -> NginxConf:
        """Parse `nginx -T` output (then `ps` of the workers, after a marker line)."""
        dump, marker, workers = text.partition(STEP + "workers")
        try:
            conf = parse_dump(dump)
        except NginxConfError as error:
            raise NginxConfError(f"{self.description}: {error}") from None
        known = self.pid_file is not None and bool(marker)
        lines = [line.strip() for line in workers.splitlines() if "worker process" in line]
        self.old_workers = sum("shutting down" in line for line in lines) if known else None
        self.pid_file = conf.pid_file
        return conf

    async def dump(self) -> NginxConf:
        """`nginx -T`, parsed; BalancerError with nginx's reason when it fails."""
        command = f"{self.command('-T')}; echo {STEP}workers; {self.workers_command()}"
        outcome = await self.run(command)
        if outcome.code != 0 or STEP + "workers" not in outcome.output:
            raise BalancerError(f"{self.description}: `nginx -T` failed: {outcome.reason}")
        return self.learn(outcome.output)

    async def test(self) -> Outcome:
        return await self.run(self.command("-t"))

    async def reload(self) -> None:
        outcome = await self.run(self.command("-s", "reload"))
        if outcome.code != 0:
            raise BalancerError(f"{self.description}: `nginx -s reload` failed: {outcome.reason}")


def stub_totals(text: str) -> dict[str, int] | None:
    """`stub_status`'s page as numbers (active, accepts, handled, requests, reading, ...)."""
    found = _STUB.search(text[:4096])
    if found is None:
        return None
    names = ("active", "accepts", "handled", "requests", "reading", "writing", "waiting")
    return dict(zip(names, (int(value) for value in found.groups()), strict=True))


async def check(client: httpx.AsyncClient, address: str) -> str | None:
    """None when the server answers HTTP at all, else why not (a direct check of the node)."""
    if not ADDRESS.match(address):
        return "not checked (not an address:port)"
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            response = await client.get(f"http://{address}/")
            await response.aclose()
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT:g} s"
    except httpx.HTTPError as error:
        return type(error).__name__
    return None


def to_worker(
    server: UpstreamServer, problem: str | None, old_workers: int | None = None
) -> Worker:
    """A server as a balancer worker: `down` is disabled, a failed direct check unusable.

    NGINX OSS counts nothing per server; one figure is known all the same: a server marked
    `down` has no request in flight (busy 0) once no worker of an earlier configuration is left
    (`old_workers` 0). Otherwise busy is unknown (None)."""
    flags = tuple(param for param in server.params if param in ("down", "backup"))
    if server.down:
        status = "down"
    elif problem is None:
        status = "up"
    elif problem.startswith("not checked"):
        status = None
    else:
        status = f"unreachable ({problem})"
    return Worker(
        url=server.address,
        route=server.route,
        redirect=None,
        factor=float(server.weight) if server.weight is not None else 1.0,
        lbset=None,
        status=status,
        flags=flags,
        usable=None if status is None else (not server.down and problem is None),
        draining=False,
        disabled=server.down,
        standby=server.backup,
        elected=None,
        busy=0 if server.down and old_workers == 0 else None,
        load=None,
        to_bytes=None,
        from_bytes=None,
    )


class NginxReader:
    """Reads the upstreams (`nginx -T`), checks each server, and reads stub_status totals."""

    def __init__(self, host: NginxHost, *, stub_status_url: str | None = None) -> None:
        self.host = host
        self.stub_status_url = stub_status_url
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(CHECK_TIMEOUT))
        self.totals: dict[str, int] | None = None
        """The last stub_status totals read (None: not configured or not readable)."""

    async def page(self, conf: NginxConf) -> BalancerPage:
        addresses = sorted({s.address for u in conf.upstreams for s in u.servers if not s.down})
        problems = await asyncio.gather(*(check(self.client, a) for a in addresses))
        found = dict(zip(addresses, problems, strict=True))
        balancers = tuple(
            Balancer(
                name=upstream.name,
                nonce=None,
                workers=tuple(
                    to_worker(s, found.get(s.address), self.host.old_workers)
                    for s in upstream.servers
                ),
            )
            for upstream in conf.upstreams
        )
        self.totals = await self.read_totals()
        return BalancerPage(url=self.host.description, balancers=balancers, totals=self.totals)

    async def read_totals(self) -> dict[str, int] | None:
        if self.stub_status_url is None:
            return None
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                response = await self.client.get(self.stub_status_url)
        except (TimeoutError, httpx.HTTPError):
            return None
        return stub_totals(response.text) if response.status_code == 200 else None

    async def read(self) -> BalancerPage:
        return await self.page(await self.host.dump())

    async def aclose(self) -> None:
        await self.client.aclose()


def find(
    conf: NginxConf, upstream: str, address: str, where: str
) -> tuple[Upstream, UpstreamServer]:
    found = conf.upstream(upstream)
    if found is None:
        names = [u.name for u in conf.upstreams]
        raise BalancerError(
            f"{where} has no upstream {upstream!r}; it has: {describe_names(names)}"
        )
    server = found.server(address)
    if server is None:
        known = [s.address for s in found.servers]
        raise BalancerError(
            f"upstream {upstream} of {where} has no server {address!r}; it has: "
            f"{describe_names(known)}"
        )
    return found, server
