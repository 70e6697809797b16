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

from console.sandbox import frevvo, haproxy, httpd, mariadb, nginx, sshd, tomcat
from console.sandbox.errors import SandboxError
from console.sandbox.files import write_if_changed
from console.sandbox.inventory import kept_inventory
from console.sandbox.layout import (
    BALANCER_PORT,
    DATABASE_PORT,
    DEFAULT_NODES,
    DEFAULT_VARIANT,
    MAX_NODES,
    MAX_SPARES,
    SSH_PORT,
    SandboxLayout,
    SpareLayout,
    check_variant,
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


def _balancer_pid(layout: SandboxLayout) -> int | None:
    """The pid of the variant's balancer (httpd, or haproxy for liferay)."""
    if layout.balancer_kind == "haproxy":
        return haproxy.running_pid(layout)
    if layout.balancer_kind == "nginx":
        return nginx.running_pid(layout)
    return httpd.running_pid(layout)


def _stop_balancers(layout: SandboxLayout, report: Report) -> int:
    """Stop whichever balancer runs for this sandbox directory (a variant switched while one ran
    leaves the other's pid file); returns how many were stopped."""
    stopped = 0
    if httpd.running_pid(layout) is not None:
        httpd.stop(layout)
        report("httpd: stopped")
        stopped += 1
    if haproxy.running_pid(layout) is not None:
        haproxy.stop(layout)
        report("haproxy: stopped")
        stopped += 1
    if nginx.running_pid(layout) is not None:
        nginx.stop(layout)
        report("nginx: stopped")
        stopped += 1
    return stopped


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
            layout.balancer_kind,
            "balancer",
            f"{layout.balancer_address}:{BALANCER_PORT}",
            _balancer_pid(layout),
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
    for spare in layout.spare_hosts:
        rows.append(
            ComponentStatus(
                f"{spare.name}-sshd",
                "spare",
                f"{spare.address}:{SSH_PORT}",
                sshd.running_pid(spare),
            )
        )
    return rows


def spares(layout: SandboxLayout | None = None) -> list[tuple[SpareLayout, int | None]]:
    """The spare hosts `up --spare N` prepared, each with its sshd's pid (None when stopped)."""
    layout = layout or current_layout()
    return [(spare, sshd.running_pid(spare)) for spare in layout.spare_hosts]


def up(
    count: int = DEFAULT_NODES,
    report: Report = print,
    variant: str = DEFAULT_VARIANT,
    spare_count: int | None = None,
) -> SandboxLayout:
    """Build (once) and start every server; idempotent: running pieces are left alone.

    `variant` picks the cluster (joget: httpd over HTTP; liferay: HAProxy; frevvo: httpd over
    AJP, unloadDelay 40000 and a JGroups channel); switching needs a `down` first.
    `spare_count` bare spare hosts (an sshd each, for the add-node wizard) on the addresses after
    the nodes; None keeps the spares the sandbox has."""
    if not 1 <= count <= MAX_NODES:
        raise SandboxError(f"--nodes must be between 1 and {MAX_NODES}, got {count}")
    recorded = recorded_layout()
    if spare_count is None:
        spare_count = recorded.spares if recorded is not None else 0
    if not 0 <= spare_count <= MAX_SPARES:
        raise SandboxError(f"--spare must be between 0 and {MAX_SPARES}, got {spare_count}")
    layout = SandboxLayout(sandbox_dir(), count, sandbox_net(), check_variant(variant), spare_count)
    if recorded is not None and (recorded.count, recorded.net, recorded.variant) != (
        count,
        layout.net,
        variant,
    ):
        running = [row.name for row in status(recorded) if row.running]
        if running:
            raise SandboxError(
                f"the sandbox in {recorded.root} is running with {recorded.count} nodes on "
                f"{recorded.net}.x, variant {recorded.variant} ({', '.join(running)}); run "
                f"`clusterconsole sandbox down` before `up --nodes {count} --variant {variant}`"
            )
    began = time.monotonic()
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.shared.mkdir(exist_ok=True)
    if recorded is not None:
        for gone in recorded.spare_hosts[spare_count:]:  # fewer spares than before
            if sshd.running_pid(gone) is not None:
                sshd.stop(gone)
                report(f"{gone.name} sshd: stopped (no longer a spare)")
    state = {"nodes": count, "net": layout.net, "variant": variant, "spares": spare_count}
    write_if_changed(layout.state_file, json.dumps(state) + "\n")
    mariadb.prepare(layout)
    sshd.prepare(layout)
    if layout.balancer_kind == "haproxy":
        haproxy.prepare(layout)
    elif layout.balancer_kind == "nginx":
        nginx.prepare(layout)
    else:
        httpd.prepare(layout)
    for node in layout.nodes:
        tomcat.prepare(layout, node)
        frevvo.prepare(layout, node)
    old = layout.inventory.read_text() if layout.inventory.is_file() else None
    write_if_changed(layout.inventory, kept_inventory(layout, old))

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
    for spare in layout.spare_hosts:
        _start(
            f"{spare.name} sshd (spare host)",
            f"{spare.address}:{SSH_PORT}",
            sshd.running_pid(spare),
            partial(sshd.start, spare),
            report,
        )
    if layout.balancer_kind == "haproxy":
        _start(
            "haproxy",
            f"{layout.app_url} (stats {layout.haproxy_stats_url})",
            haproxy.running_pid(layout),
            lambda: haproxy.start(layout),
            report,
        )
    elif layout.balancer_kind == "nginx":
        _start(
            "nginx",
            f"{layout.app_url} (stub_status {layout.nginx_status_url})",
            nginx.running_pid(layout),
            lambda: nginx.start(layout),
            report,
        )
    else:
        _start(
            "httpd",
            layout.balancer_url,
            httpd.running_pid(layout),
            lambda: httpd.start(layout),
            report,
        )
    for node in layout.nodes:
        _start(
            f"{node.name} tomcat",
            f"{node.http_url}/app/ (jvmRoute {node.jvm_route})",
            tomcat.running_pid(node),
            partial(tomcat.start, node),
            report,
        )
    report(
        f"sandbox ({layout.variant}) up in {time.monotonic() - began:.1f} s; "
        f"inventory: {layout.inventory}"
    )
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
    stopped += _stop_balancers(layout, report)
    for host in layout.ssh_hosts:
        if sshd.running_pid(host) is not None:
            sshd.stop(host)
            report(f"{host.name} sshd: stopped")
            stopped += 1
    if mariadb.running_pid(layout) is not None:
        mariadb.stop(layout)
        report("mariadb: stopped")
        stopped += 1
    report(
        f"sandbox down: {stopped} process(es) stopped" if stopped else "sandbox: nothing running"
    )
    return stopped
