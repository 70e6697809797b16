"""`sandbox up`, `down` and `status`: the order things start and stop in, and what is running.

Everything runs from Debian's packages with configuration, data and logs under the sandbox
directory; nothing is written to /etc. Tomcat nodes start one after another because two nodes
starting at once each wait 60 s for the other's session state (docs/facts.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from console.sandbox import httpd, mariadb, sshd, tomcat
from console.sandbox.errors import SandboxError
from console.sandbox.files import write_if_changed
from console.sandbox.inventory import inventory_text
from console.sandbox.layout import (
    BALANCER_PORT,
    DATABASE_PORT,
    DEFAULT_NODES,
    MAX_NODES,
    SSH_PORT,
    SandboxLayout,
    recorded_layout,
    sandbox_dir,
    sandbox_net,
)
from console.sandbox.layout import (
    current_layout as current_layout,
)

Report = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ComponentStatus:
    """One server of the sandbox: what it is, where it listens, and its pid if it runs."""

    name: str
    kind: str
    listen: str
    pid: int | None

    @property
    def running(self) -> bool:
        return self.pid is not None


def status(layout: SandboxLayout | None = None) -> list[ComponentStatus]:
    """Every server of the sandbox with its pid (None when stopped)."""
    layout = layout or current_layout()
    rows = [
        ComponentStatus(
            "mariadb",
            "database",
            f"{layout.database_address}:{DATABASE_PORT}",
            mariadb.running_pid(layout),
        ),
        ComponentStatus(
            "httpd",
            "balancer",
            f"{layout.balancer_address}:{BALANCER_PORT}",
            httpd.running_pid(layout),
        ),
    ]
    for node in layout.nodes:
        rows.append(
            ComponentStatus(node.name, "tomcat", f"{node.address}:8080", tomcat.running_pid(node))
        )
        rows.append(
            ComponentStatus(
                f"{node.name}-sshd", "sshd", f"{node.address}:{SSH_PORT}", sshd.running_pid(node)
            )
        )
    return rows


def up(count: int = DEFAULT_NODES, report: Report = print) -> SandboxLayout:
    """Build (once) and start every server; idempotent: running pieces are left alone."""
    if not 1 <= count <= MAX_NODES:
        raise SandboxError(f"--nodes must be between 1 and {MAX_NODES}, got {count}")
    layout = SandboxLayout(sandbox_dir(), count, sandbox_net())
    recorded = recorded_layout()
    if recorded is not None and (recorded.count, recorded.net) != (count, layout.net):
        running = [row.name for row in status(recorded) if row.running]
        if running:
            raise SandboxError(
                f"the sandbox in {recorded.root} is running with {recorded.count} nodes on "
                f"{recorded.net}.x ({', '.join(running)}); run `clusterconsole sandbox down` "
                f"before `up --nodes {count}`"
            )
    began = time.monotonic()
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.shared.mkdir(exist_ok=True)
    write_if_changed(layout.state_file, json.dumps({"nodes": count, "net": layout.net}) + "\n")
    mariadb.prepare(layout)
    sshd.prepare(layout)
    httpd.prepare(layout)
    for node in layout.nodes:
        tomcat.prepare(layout, node)
    write_if_changed(layout.inventory, inventory_text(layout))

    _start(
        "mariadb",
        f"{layout.database_address}:{DATABASE_PORT}",
        mariadb.running_pid(layout),
        lambda: mariadb.start(layout),
        report,
    )
    for node in layout.nodes:
        _start(
            f"{node.name} sshd",
            f"{node.address}:{SSH_PORT}",
            sshd.running_pid(node),
            partial(sshd.start, node),
            report,
        )
    _start(
        "httpd", layout.balancer_url, httpd.running_pid(layout), lambda: httpd.start(layout), report
    )
    for node in layout.nodes:
        _start(
            f"{node.name} tomcat",
            f"{node.http_url}/app/ (jvmRoute {node.jvm_route})",
            tomcat.running_pid(node),
            partial(tomcat.start, node),
            report,
        )
    report(f"sandbox up in {time.monotonic() - began:.1f} s; inventory: {layout.inventory}")
    return layout


def _start(
    what: str, where: str, pid: int | None, action: Callable[[], None], report: Report
) -> None:
    if pid is not None:
        report(f"{what}: already running (pid {pid}) at {where}")
        return
    began = time.monotonic()
    action()
    report(f"{what}: started at {where} in {time.monotonic() - began:.1f} s")


def down(report: Report = print) -> int:
    """Stop exactly the processes the sandbox started; returns how many were stopped."""
    layout = current_layout()
    stopped = 0
    for node in reversed(layout.nodes):
        if tomcat.running_pid(node) is not None:
            tomcat.stop(node)
            report(f"{node.name} tomcat: stopped")
            stopped += 1
    if httpd.running_pid(layout) is not None:
        httpd.stop(layout)
        report("httpd: stopped")
        stopped += 1
    for node in layout.nodes:
        if sshd.running_pid(node) is not None:
            sshd.stop(node)
            report(f"{node.name} sshd: stopped")
            stopped += 1
    if mariadb.running_pid(layout) is not None:
        mariadb.stop(layout)
        report("mariadb: stopped")
        stopped += 1
    report(
        f"sandbox down: {stopped} process(es) stopped" if stopped else "sandbox: nothing running"
    )
    return stopped
