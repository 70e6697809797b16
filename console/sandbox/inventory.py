"""The cluster.toml the sandbox writes: the sandbox described the way a user describes a cluster."""

from __future__ import annotations

import getpass
import json
import tomllib

from console.config.edit import with_node_text
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


def _haproxy_reload(layout: SandboxLayout) -> str:
    """A new haproxy taking over from the running one (-sf), as `sandbox up` starts it."""
    pid = layout.haproxy_pid_file
    return f"/usr/sbin/haproxy -f {{config}} -D -p {pid} -sf $(cat {pid})"


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
            "# Its configuration file (haproxy runs here, reached through node1's sshd):",
            "# add-node and remove-node write a server there too, check it and reload it.",
            f"config = {_q(f'{layout.nodes[0].name}:{layout.haproxy_cfg}')}",
            f"reload = {_q(_haproxy_reload(layout))}",
        ]
    if layout.balancer_kind == "nginx":
        return [
            "",
            "# NGINX open source: `nginx -T` over node1's SSH reads the upstream; the console",
            "# drains a server by marking it down in the include file it owns, then reloads.",
            "[[balancers]]",
            'name = "nginx"',
            'kind = "nginx"',
            f"host = {_q(layout.nodes[0].name)}",
            f"conf = {_q(layout.nginx_conf)}",
            f"include = {_q(layout.nginx_include)}",
            f"url = {_q(layout.nginx_status_url)}",
            'balancer = "cluster"',
        ]
    return [
        "",
        "[[balancers]]",
        'name = "httpd"',
        'kind = "apache"',
        f"url = {_q(layout.balancer_url)}",
        'balancer = "cluster"',
        "# Its configuration file (httpd runs on this machine, reached through node1's sshd):",
        "# add-node and remove-node write a BalancerMember there too, test it (apachectl -t) and",
        "# reload httpd gracefully (apachectl -k graceful).",
        f"config = {_q(f'{layout.nodes[0].name}:{layout.httpd_conf}')}",
    ]


def _logs(layout: SandboxLayout) -> str:
    """catalina.out, and for wso2 the wso2carbon.log the node writes in WSO2's layout."""
    if layout.variant == "wso2":
        return '["repository/logs/wso2carbon.log", "logs/catalina.out"]'
    return '["logs/catalina.out"]'


def inventory_text(layout: SandboxLayout) -> str:
    """The TOML text of the sandbox's inventory."""
    out = [
        "# The clusterconsole sandbox: a real local cluster on loopback addresses.",
        "# Written by `clusterconsole sandbox up` (it keeps the nodes add-node wrote here).",
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
            f"logs = {_logs(layout)}",
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


def kept_inventory(layout: SandboxLayout, old: str | None) -> str:
    """The sandbox's inventory, keeping the nodes the previous one had beyond the sandbox's own
    (those the add-node wizard wrote into it): `sandbox up` does not undo a wizard's work."""
    text = inventory_text(layout)
    if old is None:
        return text
    try:
        tables = tomllib.loads(old).get("nodes", [])
    except tomllib.TOMLDecodeError:
        return text
    own = {node.name for node in layout.nodes}
    count = len(layout.nodes)
    for table in tables if isinstance(tables, list) else []:
        if isinstance(table, dict) and table.get("name") not in own:
            text = with_node_text(text, table, count)
            count += 1
    return text
