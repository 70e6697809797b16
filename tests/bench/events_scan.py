"""Benchmark: `events` over a large catalina.out against `grep -F -c member` on the same file.

Two generated files (deterministic seed, deleted afterwards), each with a membership change every
~10,000 lines. `calm`: a busy node on a good day (Tomcat INFO/WARNING records, application log4j
lines, a few SEVERE and ERROR records with stack traces). `busy`: a troubled server (a SEVERE or
ERROR record every ~16 lines, 3 in 10 with a stack trace, ~11 % of the lines trace lines, long
lines of 2-16 KB and records glued on one line). All commands are timed as whole processes, best
of 3, in turns in the same run: grep, `events --json` (every event, into a file) and `events
--json --kind member-joined,member-left,membership`; on the busy log also two references: every
record read by Python, and records read in C but events encoded in Python (the JSON line path
off).
"""

from __future__ import annotations

import os
import random
import resource
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


_CPU: list[float] = [0.0]
"""CPU seconds (user + system, its children included) of the last process `_timed` ran."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(
    command: list[str], env: dict[str, str] | None = None, out: Path | None = None
) -> tuple[float, str]:
    """Wall time of one run of a whole process, and its stdout (into `out` when given: a real
    file, as an operator's `> events.jsonl`; the text returned is then empty). Its CPU time
    is left in `_CPU`: on a loaded machine the wall clock says more about the others."""
    cpu = _children_cpu()
    began = time.perf_counter()
    if out is None:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    else:
        with out.open("wb") as sink:
            done = subprocess.run(
                command, stdout=sink, stderr=subprocess.PIPE, text=True, env=env, check=False
            )
    elapsed = time.perf_counter() - began
    _CPU[0] = _children_cpu() - cpu
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()}")
    return elapsed, done.stdout or ""


_EVENTS = (
    "import sys\n"
    "from console.commands import events as events_command\n"
    "kinds = sys.argv[2:] or None\n"
    "sys.exit(events_command.run([sys.argv[1]], as_json=True, out=sys.stdout, err=sys.stderr, "
    "kinds=kinds))\n"
)
MEMBERSHIP_KINDS = "member-joined,member-left,membership"
_PYTHON_RECORDS = "import probes.logs.lines\nprobes.logs.lines.error_record = None\n"
"""Prepended to `_EVENTS`: every record read by Python (the C record path off), the reference
that says what `_lines.error_record` buys in the same run."""
_OBJECT_EVENTS = "import probes.logs.jsonl\nprobes.logs.jsonl.json_errors = None\n"
"""Prepended to `_EVENTS`: records read in C but every event built as an object and encoded by
orjson in the parent (the JSON line path off): what `_lines.json_errors` buys in the same run."""


def _measure(
    path: Path, runs: int, env: dict[str, str], *, python_records: bool = False
) -> dict[str, Any]:
    """grep, `events --json` (every event) and `events --json --kind <membership>`, best of
    `runs` each, taken in turns (grep, all, kind, grep, ...) so that all see the same machine.
    grep's output is a pipe (GNU grep writing to /dev/null stops at the first match); the
    events go to a file."""
    python = sys.executable
    grep = ["grep", "-F", "-c", "member", str(path)]
    every = [python, "-c", _EVENTS, str(path)]
    some = [python, "-c", _EVENTS, str(path), MEMBERSHIP_KINDS]
    out_all, out_kind = path.with_suffix(".all.jsonl"), path.with_suffix(".kind.jsonl")
    out_py = path.with_suffix(".py.jsonl")
    commands = [("grep", grep, None), ("all", every, out_all), ("kind", some, out_kind)]
    out_objects = path.with_suffix(".objects.jsonl")
    if python_records:
        commands.append(
            ("all_python_records", [python, "-c", _PYTHON_RECORDS + _EVENTS, str(path)], out_py)
        )
        commands.append(
            ("all_objects", [python, "-c", _OBJECT_EVENTS + _EVENTS, str(path)], out_objects)
        )
    best = {name: float("inf") for name, _, _ in commands}
    cpu = dict(best)
    grep_out = ""
    for _ in range(runs):
        for name, command, out in commands:
            seconds, text = _timed(command, env, out)
            grep_out = text if name == "grep" else grep_out
            best[name], cpu[name] = min(best[name], seconds), min(cpu[name], _CPU[0])
    with out_all.open("rb") as handle:
        events = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    with out_kind.open("rb") as handle:
        kind_events = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    same = not python_records or out_py.read_bytes() == out_all.read_bytes()
    same_objects = not python_records or out_objects.read_bytes() == out_all.read_bytes()
    out_all.unlink()
    out_kind.unlink()
    out_py.unlink(missing_ok=True)
    out_objects.unlink(missing_ok=True)
    mb = path.stat().st_size / (1 << 20)
    return {
        "file_mb": round(mb, 1),
        "grep_matches": int(grep_out.strip() or 0),
        "grep_s": round(best["grep"], 3),
        "events": events,
        "events_s": round(best["all"], 3),
        "events_mb_s": round(mb / best["all"], 1),
        "ratio": round(best["grep"] / best["all"], 2),
        "kind": MEMBERSHIP_KINDS,
        "kind_events": kind_events,
        "kind_s": round(best["kind"], 3),
        "kind_ratio": round(best["grep"] / best["kind"], 2),
        "cpu_s": {name: round(seconds, 3) for name, seconds in cpu.items()},
        "cpu_us_per_event": round(cpu["all"] / max(1, events) * 1e6, 1),
        **(
            {
                "python_records_s": round(best["all_python_records"], 3),
                "python_records_cpu_us_per_event": round(
                    cpu["all_python_records"] / max(1, events) * 1e6, 1
                ),
                "python_records_same_output": same,
                "objects_s": round(best["all_objects"], 3),
                "objects_cpu_us_per_event": round(cpu["all_objects"] / max(1, events) * 1e6, 1),
                "objects_same_output": same_objects,
            }
            if python_records
            else {}
        ),
        "load_average": os.getloadavg()[0],
    }


def run(size_mb: int = 500, runs: int = 3) -> dict[str, Any]:
    """Both profiles: generate each file, time grep and the scans against it, report ratios.

    Targets: calm >= 0.5x grep with every event; busy >= 0.5x with every event and >= 0.8x
    with `--kind` naming the membership kinds only."""
    from probes.logs import lines as lines_module

    env = {**os.environ, "LC_ALL": "C"}
    profiles: dict[str, dict[str, Any]] = {}
    for profile in ("calm", "busy"):
        with tempfile.TemporaryDirectory(prefix="cc-bench-events-") as root:
            path = Path(root) / "catalina.out"
            lines, members = generate(path, size_mb, profile=profile)
            profiles[profile] = {
                "lines": lines,
                "membership_lines": members,
                **_measure(path, runs, env, python_records=profile == "busy"),
            }
    calm, busy = profiles["calm"], profiles["busy"]
    return {
        "name": "events_scan",
        **{key: calm[key] for key in ("file_mb", "lines", "membership_lines", "grep_matches")},
        **{key: calm[key] for key in ("events", "grep_s", "events_s", "events_mb_s", "ratio")},
        "profiles": profiles,
        "cpus": os.cpu_count(),
        "newline_count": "compiled helper" if lines_module.ACCELERATED else "bytes.count",
        "target": ">= 0.5x grep -F -c member (calm and busy, every event); >= 0.8x with --kind",
        "met": {
            "calm": calm["ratio"] >= 0.5,
            "busy": busy["ratio"] >= 0.5,
            "busy_kind": busy["kind_ratio"] >= 0.8,
        },
    }


if __name__ == "__main__":
    import json

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    print(json.dumps(run(size), indent=2))
