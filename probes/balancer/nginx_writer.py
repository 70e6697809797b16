"""The change half of the NGINX client: one edit of the include file the console owns, sent as
one shell command (write if unchanged since planned, `nginx -t` or put the previous file back,
graceful reload, wait for the old workers to be replaced, `nginx -T` read back)."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from probes.balancer.model import BalancerChangeNotApplied, BalancerError
from probes.balancer.nginx_client import (
    ADDRESS,
    STEP,
    NginxReader,
    Outcome,
    checked_path,
    find,
)
from probes.balancer.nginx_conf import NginxConf, UpstreamServer, server_line, tokenize


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
        self.include = checked_path("the include file the console owns", include)

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
        if not ADDRESS.match(bare):
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
                f"|| {{ rm -f -- {new}; echo {STEP}stale; exit 4; }}",
                f"cp -p -- {include} {old} && mv -f -- {new} {include} || exit 5",
                f"echo {STEP}wrote",
                f"if ! {self.host.command('-t')} 2>&1; then mv -f -- {old} {include}; "
                f"echo {STEP}restored; exit 6; fi",
                f"echo {STEP}tested",
                *self._wait_reloaded()[:1],
                f"{self.host.command('-s', 'reload')} 2>&1 || exit 7",
                f"echo {STEP}reloaded; rm -f -- {old}",
                *self._wait_reloaded()[1:],
                self.host.command("-T"),
                f"echo {STEP}workers",
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
            line.removeprefix(STEP) for line in outcome.output.splitlines() if line.startswith(STEP)
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
            reason = Outcome(outcome.code, outcome.output.split(STEP + "wrote", 1)[-1]).reason
            raise BalancerChangeNotApplied(
                f"{where}: `nginx -t` refused the configuration ({reason}); "
                f"{self.include} was restored and nginx was not reloaded: nothing changed"
            )
        if outcome.code != 0 or "reloaded" not in done:
            raise BalancerError(
                f"{where}: the change of {self.include} stopped after "
                f"{done[-1] if done else 'nothing'} (exit {outcome.code}): {outcome.reason}"
            )
        return self.host.learn(outcome.output.split(STEP + "reloaded", 1)[-1])
