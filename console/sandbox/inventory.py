"""The cluster.toml the sandbox writes: the sandbox described the way a user describes a cluster."""

from __future__ import annotations

import getpass
import json

from console.sandbox.layout import (
    DATABASE_NAME,
    DATABASE_PORT,
    DATABASE_USER,
    MANAGER_USER,
    PROFILES,
    SSH_PORT,
    SandboxLayout,
)
from console.sandbox.tomcat import start_script, stop_script


def _q(value: object) -> str:
    """A TOML basic string (JSON's escaping is a subset TOML accepts)."""
    return json.dumps(str(value))


def _balancer(layout: SandboxLayout) -> list[str]:
    """The [[balancers]] entry of the variant's balancer."""
    if layout.balancer_kind == "haproxy":
        return [
            "",
            "# HAProxy: the stats page is read, the runtime API (admin socket) changes servers.",
            "[[balancers]]",
            'name = "haproxy"',
            'kind = "haproxy"',
            f"url = {_q(layout.haproxy_stats_url)}",
            f"socket = {_q(layout.haproxy_socket)}",
            'balancer = "cluster"',
        ]
    return [
        "",
        "[[balancers]]",
        'name = "httpd"',
        'kind = "apache"',
        f"url = {_q(layout.balancer_url)}",
        'balancer = "cluster"',
    ]


def inventory_text(layout: SandboxLayout) -> str:
    """The TOML text of the sandbox's inventory."""
    out = [
        "# The clusterconsole sandbox: a real local cluster on loopback addresses.",
        "# Written by `clusterconsole sandbox up` (rewritten on every up; copy it to edit it).",
        "",
        "[cluster]",
        'name = "sandbox"',
        f"profile = {_q(PROFILES[layout.variant])}",
        'color = "green"',
        "",
        "[ssh]",
        f"user = {_q(getpass.getuser())}",
        f"port = {SSH_PORT}",
        'identity_file = "ssh/id_ed25519"',
        'known_hosts = "ssh/known_hosts"',
    ]
    for node in layout.nodes:
        out += [
            "",
            "[[nodes]]",
            f"name = {_q(node.name)}",
            f"host = {_q(node.address)}",
            f"jvm_route = {_q(node.jvm_route)}",
            f"catalina_base = {_q(node.base)}",
            'logs = ["logs/catalina.out"]',
            f"http = {_q(node.http_url + '/app/')}",
            f"start = {_q(start_script(node))}",
            f"stop = {_q(stop_script(node))}",
        ]
    out += _balancer(layout)
    out += [
        "",
        "[database]",
        f'url = "mysql://{DATABASE_USER}@{layout.database_address}:{DATABASE_PORT}/{DATABASE_NAME}"',
        'password_file = "secrets/db_password"',
        "",
        "[shared_dir]",
        f"path = {_q(layout.shared)}",
        "",
        "[deploy]",
        'source = "node1:webapps/"',
        'exclude = ["*.log"]',
        "",
        "[license]",
        'kind = "per-node"',
        'page = "/license/"',
        'adapter = "standin"  # the sandbox\'s own stand-in page, whatever the variant',
        "",
        "# Tomcat's manager application on every node, read-only: sessions, heap, threads, rates.",
        "[metrics]",
        f"manager_user = {_q(MANAGER_USER)}",
        'password_file = "secrets/manager_password"',
        "interval = 5.0",
        "",
    ]
    return "\n".join(out)
