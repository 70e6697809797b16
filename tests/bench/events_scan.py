"""Benchmark: `events` over a large, busy catalina.out against `grep -F -c member` on the same file.

The file is generated (deterministic seed) into a temporary directory and deleted afterwards: a
busy node's mix of Tomcat one-line INFO/WARNING records, application log4j lines, a few SEVERE and
ERROR records with stack traces, and a membership change every ~10,000 lines. Both commands are
timed as whole processes, best of 3, in turns (grep, events, grep, ...) in the same run.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

_THREADS = [f"http-nio-8080-exec-{n}" for n in range(1, 51)] + ["Catalina-utility-1", "main"]
_TOMCAT = (
    ("INFO", "org.apache.catalina.core.ApplicationContext.log", "SessionListener: created {sid}"),
    ("INFO", "org.apache.catalina.core.ApplicationContext.log", "CartServlet: cache hit ratio {n}"),
    (
        "INFO",
        "org.apache.coyote.http11.Http11Processor.service",
        "Error parsing HTTP request header\n Note: further occurrences of HTTP request parsing "
        "errors will be logged at DEBUG level.",
    ),
    (
        "WARNING",
        "org.apache.tomcat.util.http.parser.Cookie.logInvalidHeader",
        "A cookie header was received [{sid}] that contained an invalid cookie.",
    ),
    ("WARNING", "org.apache.tomcat.util.http.Parameters.processParameters", "Invalid chunk [{n}]"),
    (
        "WARNING",
        "org.apache.catalina.loader.WebappClassLoaderBase.clearReferencesThreads",
        "The web application [shop] appears to have started a thread named [pool-{n}-thread-1] "
        "but has failed to stop it. This is very likely to create a memory leak.",
    ),
)
_APP = (
    "INFO  [{th}] com.example.shop.OrderService - Order {n} created for customer {c}: {p} EUR",
    "DEBUG [{th}] com.example.shop.CartController - GET /cart?item={n} took {m} ms",
    "INFO  [{th}] com.example.shop.PaymentGateway - Payment {n} authorised, reference {sid}",
    "WARN  [{th}] com.example.shop.InventoryClient - Slow inventory response: {m} ms (limit 500)",
    "INFO  [{th}] org.hibernate.SQL - insert into order_line (order_id, sku, qty) values (?, ?, ?)",
    "INFO  [{th}] com.example.auth.LoginFilter - user u{c} logged in from 10.1.{m}.{p}",
    "INFO  [{th}] com.example.shop.SearchService - query 'red shoes' returned {m} results",
)
_TRACE = (
    "java.lang.IllegalStateException: Cannot create a session after the response was committed",
    "\tat org.apache.catalina.connector.Request.doGetSession(Request.java:3005)",
    "\tat org.apache.catalina.connector.Request.getSession(Request.java:2439)",
    "\tat com.example.shop.CartController.show(CartController.java:88)",
    "\tat jakarta.servlet.http.HttpServlet.service(HttpServlet.java:658)",
    "\tat org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:167)",
    "Caused by: java.io.IOException: Broken pipe",
    "\tat sun.nio.ch.FileDispatcherImpl.write0(Native Method)",
    "\t... 42 more",
)
_MEMBER = (
    "org.apache.catalina.tribes.membership.StaticMember[tcp://{{127, 0, 0, {ip}}}:4000,"
    "{{127, 0, 0, {ip}}},4000, alive={n}, securePort=-1, UDP Port=-1, "
    "id={{0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 {ip} }}, payload={{}}, command={command}, domain={{}}]"
)


def generate(
    path: Path, size_mb: int, seed: int = 20261122, profile: str = "calm"
) -> tuple[int, int]:
    """Write a catalina.out of about `size_mb` MiB; return (lines, membership lines).

    `calm`: a busy node on a good day (few errors). `busy`: a troubled one (see `_busy_block`).
    """
    if profile == "busy":
        return _generate_busy(path, size_mb, seed)
    rng = random.Random(seed)
    target = size_mb << 20
    written = lines = members = 0
    second = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        while written < target:
            block: list[str] = []
            for _ in range(10_000):
                second += 1
                clock = f"{second // 3600 % 24:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
                millis = f"{rng.randrange(1000):03d}"
                fields = {
                    "th": rng.choice(_THREADS),
                    "n": rng.randrange(10**6),
                    "c": rng.randrange(10**4),
                    "p": rng.randrange(256),
                    "m": rng.randrange(2000),
                    "sid": f"{rng.getrandbits(64):016X}",
                }
                roll = rng.random()
                if roll < 0.25:
                    level, source, message = rng.choice(_TOMCAT)
                    thread = rng.choice(_THREADS)
                    text = message.format(**fields)
                    block.append(f"22-Nov-2026 {clock}.{millis} {level} [{thread}] {source} {text}")
                elif roll < 0.9993:
                    text = rng.choice(_APP).format(**fields)
                    block.append(f"2026-11-22 {clock},{millis} {text}")
                elif roll < 0.99965:
                    block.append(
                        f"22-Nov-2026 {clock}.{millis} SEVERE [{fields['th']}] "
                        "org.apache.catalina.core.StandardWrapperValve.invoke Servlet.service() "
                        "for servlet [cart] in context with path [/shop] threw exception"
                    )
                    block.extend(_TRACE)
                else:
                    block.append(
                        f"2026-11-22 {clock},{millis} ERROR [{fields['th']}] "
                        "com.example.shop.PaymentGateway - Payment provider call failed"
                    )
                    block.extend(_TRACE)
            joined = rng.random() < 0.5
            member = _MEMBER.format(
                ip=rng.randrange(11, 14),
                n=rng.randrange(10**6),
                command="{}" if joined or rng.random() < 0.3 else "{66 65 66 89 45 65 76 ...(9)}",
            )
            method, message = (
                ("memberAdded", "Replication member added")
                if joined
                else ("memberDisappeared", "Received member disappeared")
            )
            block.insert(
                rng.randrange(len(block)),
                f"22-Nov-2026 {clock}.000 INFO [StaticMembership-{method}] "
                f"org.apache.catalina.ha.tcp.SimpleTcpCluster.{method} {message}:[{member}]",
            )
            members += 1
            text = "\n".join(block) + "\n"
            out.write(text)
            written += len(text.encode("utf-8"))
            lines += text.count("\n")
    return lines, members


_SEVERE = (
    (
        "org.apache.catalina.core.StandardWrapperValve.invoke",
        "Servlet.service() for servlet [cart] in context with path [/shop] threw exception",
    ),
    (
        "org.apache.catalina.core.StandardWrapperValve.invoke",
        "Servlet.service() for servlet [dispatcher] in context with path [/shop] threw exception "
        "[Request processing failed: org.springframework.dao.DataAccessResourceFailureException: "
        "Unable to acquire JDBC Connection] with root cause",
    ),
    (
        "org.apache.catalina.core.ApplicationDispatcher.invoke",
        "Servlet.service() for servlet [jsp] threw exception",
    ),
    (
        "org.apache.catalina.ha.tcp.ReplicationValve.send",
        "Unable to perform replication request.",
    ),
    (
        "org.apache.coyote.http11.Http11NioProtocol.process",
        "Error reading request, ignored",
    ),
    (
        "org.apache.catalina.session.StandardManager.processExpires",
        "Unable to expire session [{sid}]",
    ),
)
_DEEP = (
    "\tat com.example.shop.OrderRepository.lock(OrderRepository.java:{m})",
    "\tat com.example.shop.OrderService.place(OrderService.java:118)",
    "\tat jdk.internal.reflect.GeneratedMethodAccessor{p}.invoke(Unknown Source)",
    "\tat org.springframework.aop.support.AopUtils.invokeJoinpointUsingReflection"
    "(AopUtils.java:355)",
    "\tat org.springframework.transaction.interceptor.TransactionInterceptor.invoke"
    "(TransactionInterceptor.java:119)",
    "\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:{m})",
    "\tat org.apache.catalina.core.ApplicationFilterChain.doFilter"
    "(ApplicationFilterChain.java:138)",
    "\tat org.apache.catalina.authenticator.AuthenticatorBase.invoke(AuthenticatorBase.java:483)",
    "\tat org.apache.coyote.AbstractProtocol$ConnectionHandler.process(AbstractProtocol.java:904)",
    "\tat java.base/java.lang.Thread.run(Thread.java:840)",
    "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not "
    "available, request timed out after 30000ms.",
    "\t... {p} common frames omitted",
)


def _busy_record(rng: random.Random, stamp: str, iso: str, fields: dict[str, Any]) -> list[str]:
    """One record of a troubled server's catalina.out, with its stack trace if it has one."""
    roll = rng.random()
    thread = fields["th"]
    if roll < 0.07:  # SEVERE (Tomcat) or ERROR (application), 3 in 10 with a stack trace
        if roll < 0.055:
            source, message = rng.choice(_SEVERE)
            head = f"{stamp} SEVERE [{thread}] {source} {message.format(**fields)}"
        else:
            head = (
                f"{iso} ERROR [{thread}] com.example.shop.PaymentGateway - Payment provider "
                f"call failed for order {fields['n']}"
            )
        if rng.random() >= 0.3:
            return [head]
        depth = rng.randrange(2, 9)
        frames = [frame.format(**fields) for frame in rng.sample(_DEEP, depth)]
        return [head, _TRACE[0], *frames]
    if roll < 0.125:
        level, source, message = rng.choice(_TOMCAT)
        return [f"{stamp} {level} [{thread}] {source} {message.format(**fields)}"]
    if roll < 0.128:  # a long line: a request dump or a payload logged whole (2-16 KB)
        payload = ",".join(
            f'{{"sku":"S{rng.randrange(10**6)}","qty":{rng.randrange(9)}}}'
            for _ in range(rng.randrange(70, 560))
        )
        return [f"{iso} DEBUG [{thread}] com.example.shop.CartController - cart=[{payload}]"]
    if roll < 0.1295:  # two one-line records glued on one line (an unflushed writer)
        source, message = rng.choice(_SEVERE)
        other = rng.choice(_APP).format(**fields)
        return [f"{iso} {other} {stamp} SEVERE [{thread}] {source} {message.format(**fields)}"]
    return [f"{iso} {rng.choice(_APP).format(**fields)}"]


def _generate_busy(path: Path, size_mb: int, seed: int) -> tuple[int, int]:
    """A troubled server: a SEVERE or ERROR record every ~16 lines, 3 in 10 with a stack
    trace (~10 % of the lines are trace lines), long lines (2-16 KB) and glued records, and a
    membership change every ~10,000 lines."""
    rng = random.Random(seed)
    target = size_mb << 20
    written = lines = members = second = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        while written < target:
            block: list[str] = []
            while len(block) < 10_000:
                second += 1
                clock = f"{second // 3600 % 24:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
                millis = f"{rng.randrange(1000):03d}"
                fields = {
                    "th": rng.choice(_THREADS),
                    "n": rng.randrange(10**6),
                    "c": rng.randrange(10**4),
                    "p": rng.randrange(256),
                    "m": rng.randrange(2000),
                    "sid": f"{rng.getrandbits(64):016X}",
                }
                stamp, iso = f"22-Nov-2026 {clock}.{millis}", f"2026-11-22 {clock},{millis}"
                block.extend(_busy_record(rng, stamp, iso, fields))
            joined = rng.random() < 0.5
            member = _MEMBER.format(
                ip=rng.randrange(11, 14),
                n=rng.randrange(10**6),
                command="{}" if joined or rng.random() < 0.3 else "{66 65 66 89 45 65 76 ...(9)}",
            )
            method, message = (
                ("memberAdded", "Replication member added")
                if joined
                else ("memberDisappeared", "Received member disappeared")
            )
            at = rng.randrange(len(block))
            while block[at].startswith(("\t", "Caused by", "java.")):
                at += 1
            block.insert(
                at,
                f"22-Nov-2026 {clock}.000 INFO [StaticMembership-{method}] "
                f"org.apache.catalina.ha.tcp.SimpleTcpCluster.{method} {message}:[{member}]",
            )
            members += 1
            text = "\n".join(block) + "\n"
            out.write(text)
            written += len(text.encode("utf-8"))
            lines += text.count("\n")
    return lines, members


def _timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall time of one run of a whole process, and its stdout."""
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()}")
    return elapsed, done.stdout


def _best_of_interleaved(
    runs: int, first: list[str], second: list[str], env: dict[str, str]
) -> tuple[tuple[float, str], tuple[float, str]]:
    """The fastest of `runs` runs of each command, taken in turns (first, second, first, ...)
    so that both see the same machine."""
    best_first = best_second = (float("inf"), "")
    for _ in range(runs):
        best_first = min(best_first, _timed(first, env))
        best_second = min(best_second, _timed(second, env))
    return best_first, best_second


_EVENTS = (
    "import os, sys\n"
    "from console import events_command\n"
    "with open(os.devnull, 'w') as devnull:\n"
    "    sys.exit(events_command.run([sys.argv[1]], as_json=True, out=devnull, err=sys.stderr))\n"
)
_COUNT = (
    "import sys\n"
    "from console import events_command\n"
    "class Count:\n"
    "    n = 0\n"
    "    def write(self, text): self.n += text.count('\\n')\n"
    "out = Count()\n"
    "events_command.run([sys.argv[1]], as_json=True, out=out, err=sys.stderr)\n"
    "print(out.n)\n"
)


def run(size_mb: int = 500) -> dict[str, Any]:
    """Generate the file, time grep and the events scan (best of 3 each), report the ratio."""
    from probes.logs import lines as lines_module

    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="cc-bench-events-") as root:
        path = Path(root) / "catalina.out"
        lines, members = generate(path, size_mb)
        file_mb = path.stat().st_size / (1 << 20)
        env = {**os.environ, "LC_ALL": "C"}
        (grep_s, grep_out), (events_s, _) = _best_of_interleaved(
            3, ["grep", "-F", "-c", "member", str(path)], [python, "-c", _EVENTS, str(path)], env
        )
        counted = subprocess.run(
            [python, "-c", _COUNT, str(path)], capture_output=True, text=True, check=True
        )
    ratio = grep_s / events_s if events_s else 0.0
    return {
        "name": "events_scan",
        "file_mb": round(file_mb, 1),
        "lines": lines,
        "membership_lines": members,
        "grep_matches": int(grep_out.strip() or 0),
        "events": int(counted.stdout.strip() or 0),
        "grep_s": round(grep_s, 3),
        "grep_mb_s": round(file_mb / grep_s, 1),
        "events_s": round(events_s, 3),
        "events_mb_s": round(file_mb / events_s, 1),
        "ratio": round(ratio, 2),
        "cpus": os.cpu_count(),
        "newline_count": "compiled helper" if lines_module.ACCELERATED else "bytes.count",
        "target": ">= 0.5x grep -F -c member",
        "met": ratio >= 0.5,
    }


if __name__ == "__main__":
    import json

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    print(json.dumps(run(size), indent=2))
