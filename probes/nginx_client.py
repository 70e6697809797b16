"""NGINX open source as a balancer: read from `nginx -T` over SSH, change through one include file.

NGINX OSS has no status API and no runtime changes, so:

- reading is `nginx -T` on the balancer's host (parsed by probes.nginx_conf), each server's
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
import hashlib
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from probes.balancer import (
    Balancer,
    BalancerChangeNotApplied,
    BalancerError,
    BalancerPage,
    Worker,
    describe_names,
)
from probes.haproxy_client import CommandRunner
from probes.nginx_conf import (
    NginxConf,
    NginxConfError,
    Upstream,
    UpstreamServer,
    parse_dump,
    server_line,
    tokenize,
)

COMMAND_TIMEOUT = 30.0
"""Seconds one command on the balancer's host may take (a login shell on a busy host can take
seconds before the command even starts)."""
CHECK_TIMEOUT = 2.0
"""Seconds a direct check of one server may take."""
_EXIT = "clusterconsole-exit="
_STEP = "clusterconsole-step: "
_PATH = re.compile(r"^/[A-Za-z0-9._/+-]{1,300}$")
_ADDRESS = re.compile(r"^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):[0-9]{1,5}$")
_STUB = re.compile(
    r"Active connections:\s*(\d+).*?server accepts handled requests\s+(\d+)\s+(\d+)\s+(\d+)"
    r".*?Reading:\s*(\d+)\s+Writing:\s*(\d+)\s+Waiting:\s*(\d+)",
    re.DOTALL,
)


def _path(kind: str, value: str) -> str:
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
        self.binary = _path("the nginx program", binary)
        self.conf = _path("a configuration file", conf) if conf is not None else None
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
        dump, marker, workers = text.partition(_STEP + "workers")
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
        command = f"{self.command('-T')}; echo {_STEP}workers; {self.workers_command()}"
        outcome = await self.run(command)
        if outcome.code != 0 or _STEP + "workers" not in outcome.output:
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
    if not _ADDRESS.match(address):
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


@dataclass(frozen=True, slots=True)
class IncludeEdit:
    """One edit of the owned include file: the line before and after (None: added/removed)."""

    include: str
    line: int | None
    before: str | None
    after: str | None

    def apply(self, text: str) -> str:
        lines = text.split("\n")
        if self.line is None:
            body = text if not text or text.endswith("\n") else text + "\n"
            return body + f"{self.after}\n"
        index = self.line - 1
        if self.after is None:
            del lines[index]
        else:
            lines[index] = self.after
        return "\n".join(lines)


class NginxWriter:
    """Edits the include file the console owns; `nginx -t`, reload, read back."""

    def __init__(self, reader: NginxReader, include: str) -> None:
        self.reader = reader
        self.host = reader.host
        self.include = _path("the include file the console owns", include)

    def _owned(self, server: UpstreamServer, upstream: str) -> None:
        if server.file != self.include:
            raise BalancerError(
                f"server {server.address} of upstream {upstream} is written in "
                f"{server.file}:{server.line}, not in the include file the console owns "
                f"({self.include}): move it there to change it; nothing was changed"
            )

    def _line_of(self, conf: NginxConf, server: UpstreamServer) -> str:
        line = conf.files[self.include].split("\n")[server.line - 1]
        words = [token.text for token in tokenize(line, self.include)]
        if words != ["server", server.address, *server.params, ";"]:
            raise BalancerError(
                f"{self.include}:{server.line} holds more than the one server line "
                f"({line.strip()!r}); the console edits only a line of its own"
            )
        return line

    def plan_down(self, conf: NginxConf, upstream: str, address: str, down: bool) -> IncludeEdit:
        _, server = find(conf, upstream, address, self.host.description)
        self._owned(server, upstream)
        before = self._line_of(conf, server)
        params = tuple(p for p in server.params if p != "down") + (("down",) if down else ())
        indent = before[: len(before) - len(before.lstrip())]
        return IncludeEdit(self.include, server.line, before, indent + server_line(address, params))

    def plan_add(self, conf: NginxConf, upstream: str, address: str) -> IncludeEdit:
        bare = address.split("://", 1)[-1].rstrip("/")
        if not _ADDRESS.match(bare):
            raise BalancerError(f"{address!r} is not an address:port such as 10.0.0.4:8080")
        found = conf.upstream(upstream)
        if found is None:
            raise BalancerError(f"{self.host.description} has no upstream {upstream!r}")
        if found.server(bare) is not None:
            raise BalancerError(f"upstream {upstream} already has the server {bare}")
        if not any(s.file == self.include for s in found.servers):
            raise BalancerError(
                f"upstream {upstream} includes no server from {self.include}: the console adds "
                "servers only to an upstream whose servers stand in the file it owns"
            )
        return IncludeEdit(self.include, None, None, server_line(bare, ()))

    def plan_remove(self, conf: NginxConf, upstream: str, address: str) -> IncludeEdit:
        found, server = find(conf, upstream, address, self.host.description)
        self._owned(server, upstream)
        if len(found.servers) == 1:
            raise BalancerError(f"{server.address} is the only server of upstream {upstream}")
        return IncludeEdit(self.include, server.line, self._line_of(conf, server), None)

    def script(self, expected: str) -> str:
        """The one shell command a change is: write the new include (stdin) only if the file
        still has the `expected` sha256, `nginx -t` (the previous file put back when it fails),
        reload, `nginx -T` to read back. One SSH round trip; steps are echoed as they are done."""
        include = shlex.quote(self.include)
        new = shlex.quote(self.include + ".clusterconsole-new")
        old = shlex.quote(self.include + ".clusterconsole-old")
        return "; ".join(
            [
                f"cat > {new} || exit 3",
                f'[ "$(sha256sum < {include} | cut -d" " -f1)" = {expected} ] '
                f"|| {{ rm -f -- {new}; echo {_STEP}stale; exit 4; }}",
                f"cp -p -- {include} {old} && mv -f -- {new} {include} || exit 5",
                f"echo {_STEP}wrote",
                f"if ! {self.host.command('-t')} 2>&1; then mv -f -- {old} {include}; "
                f"echo {_STEP}restored; exit 6; fi",
                f"echo {_STEP}tested",
                *self._wait_reloaded()[:1],
                f"{self.host.command('-s', 'reload')} 2>&1 || exit 7",
                f"echo {_STEP}reloaded; rm -f -- {old}",
                *self._wait_reloaded()[1:],
                self.host.command("-T"),
                f"echo {_STEP}workers",
                self.host.workers_command(),
            ]
        )

    def _wait_reloaded(self) -> list[str]:
        """Shell lines waiting (at most 10 s) until the master has replaced the workers it had
        before the reload (each one gone or `shutting down`): then every new request is routed
        by the new configuration."""
        if self.host.pid_file is None:
            return []
        pid = shlex.quote(self.host.pid_file)
        return [
            f'm=$(cat {pid}); before=$(ps -o pid= -o args= --ppid "$m" | '
            "awk '/worker process/ && !/shutting down/ {print $1}')",
            "i=0; while [ $i -lt 100 ]; do left=0; for w in $before; do "
            'case "$(ps -o args= -p "$w")" in *"worker process"*"shutting down"*|"") ;; '
            "*) left=1;; esac; done; [ $left = 0 ] && break; i=$((i+1)); sleep 0.1; done",
        ]

    async def commit(
        self, edit: IncludeEdit, previous: str, step: Callable[[str], None] = lambda _: None
    ) -> NginxConf:
        """Write the edit over `previous` (the include as planned; refused when the file has
        changed since), `nginx -t` (restoring the previous file when it fails), reload, and
        return the configuration read back. `step` hears each step done."""
        where = self.host.description
        expected = hashlib.sha256(previous.encode()).hexdigest()
        outcome = await self.host.run(
            f"sh -c {shlex.quote(self.script(expected))}", input=edit.apply(previous).encode()
        )
        done = [
            line.removeprefix(_STEP)
            for line in outcome.output.splitlines()
            if line.startswith(_STEP)
        ]
        words = {
            "wrote": f"wrote {self.include}",
            "tested": "nginx -t: ok",
            "reloaded": "nginx -s reload: sent",
            "restored": f"nginx -t failed; {self.include} restored",
        }
        for word in done:
            if word in words:
                step(words[word])
        if "stale" in done:
            raise BalancerChangeNotApplied(
                f"{self.include} changed since it was read; nothing was changed"
            )
        if "restored" in done:
            reason = Outcome(outcome.code, outcome.output.split(_STEP + "wrote", 1)[-1]).reason
            raise BalancerChangeNotApplied(
                f"{where}: `nginx -t` refused the configuration ({reason}); "
                f"{self.include} was restored and nginx was not reloaded: nothing changed"
            )
        if outcome.code != 0 or "reloaded" not in done:
            raise BalancerError(
                f"{where}: the change of {self.include} stopped after "
                f"{done[-1] if done else 'nothing'} (exit {outcome.code}): {outcome.reason}"
            )
        return self.host.learn(outcome.output.split(_STEP + "reloaded", 1)[-1])
