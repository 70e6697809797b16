"""The wso2 variant's NGINX (Debian 12: 1.22, open source): an upstream over the nodes.

Started by the sandbox itself (no systemd): its own configuration, pid file, temp and log files
under the sandbox directory, listening on loopback only. The upstream's `server` lines stand in
an include file the console owns; stickiness is `hash $cookie_JSESSIONID consistent`.
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

NGINX = "/usr/sbin/nginx"


def server_lines(layout: SandboxLayout) -> str:
    """The include file's text: one `server` line per node (what the console edits)."""
    head = "# The upstream's servers: owned by clusterconsole (drain marks a server down).\n"
    return head + "".join(f"server {node.address}:{HTTP_PORT};\n" for node in layout.nodes)


def prepare(layout: SandboxLayout) -> None:
    """Write nginx.conf and, when missing or naming other nodes, the servers' include file."""
    if not os.path.exists(NGINX):
        raise SandboxError(f"NGINX is not installed ({NGINX} is missing): run `make demo`")
    for sub in ("tmp", "conf.d"):
        (layout.nginx_dir / sub).mkdir(parents=True, exist_ok=True)
    layout.run.mkdir(parents=True, exist_ok=True)
    write_if_changed(
        layout.nginx_conf,
        render(
            "nginx.conf",
            pid_file=layout.nginx_pid_file,
            dir=layout.nginx_dir,
            include=layout.nginx_include,
            address=layout.balancer_address,
            port=BALANCER_PORT,
            status_port=HAPROXY_STATS_PORT,
        ),
    )
    # a drained node stays drained across `up` (the console owns the file); a new node list
    # (another --nodes) rewrites it
    try:
        current = layout.nginx_include.read_text("utf-8")
    except OSError:
        current = ""
    if any(f"{node.address}:{HTTP_PORT}" not in current for node in layout.nodes):
        write_if_changed(layout.nginx_include, server_lines(layout))


def running_pid(layout: SandboxLayout) -> int | None:
    return owned_pid(layout.nginx_pid_file, str(layout.nginx_conf))


def start(layout: SandboxLayout) -> None:
    """Start nginx (it daemonizes) and wait until the front and stub_status answer."""
    if running_pid(layout) is not None:
        return
    layout.nginx_pid_file.unlink(missing_ok=True)
    command = [NGINX, "-e", str(layout.nginx_dir / "error.log"), "-c", str(layout.nginx_conf)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if result.returncode != 0:
        raise SandboxError(
            f"nginx: did not start (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()}"
        )
    ready = wait_until(
        lambda: (
            port_open(layout.balancer_address, BALANCER_PORT)
            and port_open(layout.balancer_address, HAPROXY_STATS_PORT)
            and running_pid(layout) is not None
        ),
        15,
    )
    if not ready:
        raise SandboxError(
            f"nginx: not listening on {layout.balancer_address}:{BALANCER_PORT} after 15 s"
        )


def stop(layout: SandboxLayout) -> None:
    pid = running_pid(layout)
    if pid is not None:
        terminate(pid, 15.0)
    layout.nginx_pid_file.unlink(missing_ok=True)
