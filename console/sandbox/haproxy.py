"""The liferay variant's HAProxy (Debian 12: 2.6): a frontend over the nodes, stats, runtime API.

Stickiness follows the route Tomcat appends to JSESSIONID (`<id>.<jvmRoute>`), as mod_proxy's
`stickysession` does; servers are health-checked by TCP connect, so a stopped node is DOWN.
"""

from __future__ import annotations

import os
import subprocess

from console.sandbox.errors import SandboxError
from console.sandbox.files import write_if_changed
from console.sandbox.layout import BALANCER_PORT, HAPROXY_STATS_PORT, HTTP_PORT, SandboxLayout
from console.sandbox.procs import owned_pid, terminate
from console.sandbox.render import render
from console.sandbox.waits import port_open, wait_until

HAPROXY = "/usr/sbin/haproxy"


def prepare(layout: SandboxLayout) -> None:
    """Write haproxy.cfg: one server per node named by its jvmRoute, sticky on that route."""
    if not os.path.exists(HAPROXY):
        raise SandboxError(f"HAProxy is not installed ({HAPROXY} is missing): run `make demo`")
    layout.haproxy_dir.mkdir(parents=True, exist_ok=True)
    layout.run.mkdir(parents=True, exist_ok=True)
    sticky = "\n".join(
        f"    acl route_{node.jvm_route} req.cook(JSESSIONID) -m end .{node.jvm_route}\n"
        f"    use-server {node.jvm_route} if route_{node.jvm_route}"
        for node in layout.nodes
    )
    servers = "\n".join(
        f"    server {node.jvm_route} {node.address}:{HTTP_PORT} check inter 1s fall 2 rise 2"
        for node in layout.nodes
    )
    write_if_changed(
        layout.haproxy_cfg,
        render(
            "haproxy.cfg",
            socket=layout.haproxy_socket,
            address=layout.balancer_address,
            port=BALANCER_PORT,
            stats_port=HAPROXY_STATS_PORT,
            sticky_rules=sticky,
            servers=servers,
        ),
    )


def running_pid(layout: SandboxLayout) -> int | None:
    return owned_pid(layout.haproxy_pid_file, str(layout.haproxy_cfg))


def start(layout: SandboxLayout) -> None:
    """Start haproxy in the background and wait until the frontend and the socket answer."""
    if running_pid(layout) is not None:
        return
    layout.haproxy_pid_file.unlink(missing_ok=True)
    result = subprocess.run(
        [HAPROXY, "-f", str(layout.haproxy_cfg), "-D", "-p", str(layout.haproxy_pid_file)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise SandboxError(
            f"haproxy: did not start (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()}"
        )
    if not wait_until(
        lambda: (
            port_open(layout.balancer_address, BALANCER_PORT) and layout.haproxy_socket.exists()
        ),
        15,
    ):
        raise SandboxError(
            f"haproxy: not listening on {layout.balancer_address}:{BALANCER_PORT} after 15 s"
        )


def stop(layout: SandboxLayout) -> None:
    pid = running_pid(layout)
    if pid is not None:
        terminate(pid, 15.0)
    layout.haproxy_pid_file.unlink(missing_ok=True)
    layout.haproxy_socket.unlink(missing_ok=True)
