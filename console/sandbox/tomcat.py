"""Sandbox Tomcat nodes: one CATALINA_BASE each over Debian's tomcat10 CATALINA_HOME."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

from console.sandbox.errors import SandboxError
from console.sandbox.files import copy_package_tree, write_if_changed
from console.sandbox.frevvo import unload_delay_ms
from console.sandbox.layout import (
    CATALINA_HOME,
    DATABASE_NAME,
    DATABASE_PORT,
    DATABASE_USER,
    MANAGER_APP,
    MANAGER_USER,
    TRIBES_PORT,
    NodeLayout,
    SandboxLayout,
)
from console.sandbox.procs import owned_pid, terminate, wait_gone
from console.sandbox.render import render, write_file
from console.sandbox.waits import tail_text, wait_until

STARTED_MARKER = b"org.apache.catalina.startup.Catalina.start Server startup in"
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


def start_script(node: NodeLayout) -> Path:
    return node.base / "bin" / "sandbox-start.sh"


def stop_script(node: NodeLayout) -> Path:
    return node.base / "bin" / "sandbox-stop.sh"


def _static_members(layout: SandboxLayout, node: NodeLayout) -> str:
    lines = []
    for peer in layout.nodes:
        if peer.index == node.index:
            continue
        lines.append(
            '            <Member className="org.apache.catalina.tribes.membership.StaticMember"'
            f' host="{peer.address}" port="{TRIBES_PORT}" uniqueId="{peer.unique_id}" />'
        )
    return "\n".join(lines)


def manager_password(layout: SandboxLayout) -> str:
    """The manager user's password: generated once into a mode-600 file, then read from it."""
    path = layout.manager_password_file
    layout.secrets.mkdir(parents=True, exist_ok=True)
    layout.secrets.chmod(0o700)
    if not path.exists():
        write_file(path, secrets.token_urlsafe(18) + "\n", 0o600)
    return path.read_text(encoding="utf-8").splitlines()[0]


def _xml_attribute(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def prepare_manager(layout: SandboxLayout, node: NodeLayout) -> None:
    """Deploy Tomcat's manager application (tomcat10-admin) on `/manager` with one read-only
    user: the roles manager-status (server status) and manager-jmx (JMX proxy reads); no
    manager-gui or manager-script, so it cannot deploy or stop anything. Its realm is the
    context's own (a MemoryRealm on conf/tomcat-users.xml, mode 600), so server.xml is unchanged
    and a running node deploys it without a restart (autoDeploy watches conf/Catalina)."""
    if not (MANAGER_APP / "WEB-INF" / "web.xml").exists():
        raise SandboxError(
            f"Tomcat's manager application is not installed ({MANAGER_APP} is missing): "
            "run `make demo` or `apt-get install tomcat10-admin`"
        )
    password = _xml_attribute(manager_password(layout))
    write_if_changed(
        node.base / "conf" / "tomcat-users.xml",
        render("tomcat-users.xml", user=MANAGER_USER, password=password),
        0o600,
    )
    write_if_changed(
        node.base / "conf" / "Catalina" / "localhost" / "manager.xml",
        render("manager.xml", doc_base=MANAGER_APP),
    )


def _route_binder(layout: SandboxLayout) -> str:
    """Tomcat's JvmRouteBinderValve (a failed-over session's id takes its new node's route),
    except for wso2: NGINX hashes the JSESSIONID cookie, which must then never change (a changed
    id would hash elsewhere and make the session hop between nodes)."""
    if layout.variant == "wso2":
        return "<!-- no JvmRouteBinderValve: NGINX hashes the JSESSIONID cookie -->"
    return '<Valve className="org.apache.catalina.ha.session.JvmRouteBinderValve" />'


TOMCAT_ACCESS_LOG = 'directory="logs" prefix="localhost_access_log" suffix=".txt"'
"""Tomcat's server.xml as shipped: logs/localhost_access_log.YYYY-MM-DD.txt."""
WSO2_ACCESS_LOG = (
    'directory="repository/logs" prefix="http_access_" suffix=".log" fileDateFormat="yyyy-MM-dd"'
)
"""WSO2 Carbon's servlet transport access log: repository/logs/http_access_YYYY-MM-DD.log."""


def prepare(layout: SandboxLayout, node: NodeLayout) -> None:
    """Write the node's CATALINA_BASE: conf, scripts, the app and the license page."""
    if not (CATALINA_HOME / "bin" / "catalina.sh").exists():
        raise SandboxError(
            f"Tomcat 10 is not installed ({CATALINA_HOME}/bin/catalina.sh is missing): "
            "run `make demo` or `apt-get install tomcat10`"
        )
    for sub in ("conf", "logs", "temp", "webapps", "work", "bin", "license"):
        (node.base / sub).mkdir(parents=True, exist_ok=True)
    for name in ("web.xml", "context.xml", "catalina.properties"):
        write_if_changed(
            node.base / "conf" / name, (CATALINA_HOME / "etc" / name).read_text("utf-8")
        )
    write_if_changed(
        node.base / "conf" / "server.xml",
        render(
            "server.xml",
            name=node.name,
            address=node.address,
            jvm_route=node.jvm_route,
            unique_id=node.unique_id,
            static_members=_static_members(layout, node),
            route_binder=_route_binder(layout),
            # wso2: synchronous replication with acks (6) - a new session's next request may go
            # to the node NGINX's hash picks, which must hold the session already; else async (8)
            send_options=6 if layout.variant == "wso2" else 8,
            access_log=WSO2_ACCESS_LOG if layout.variant == "wso2" else TOMCAT_ACCESS_LOG,
            db_address=layout.database_address,
            db_port=DATABASE_PORT,
            db_name=DATABASE_NAME,
            db_user=DATABASE_USER,
        ),
    )
    logging = render("logging.properties")
    if layout.variant == "wso2":
        logging += render("logging-wso2.properties", directory=node.base / "repository" / "logs")
    write_if_changed(node.base / "conf" / "logging.properties", logging)
    fields = {
        "name": node.name,
        "jvm_route": node.jvm_route,
        "pid_file": node.pid_file,
        "catalina_home": CATALINA_HOME,
        "catalina_base": node.base,
        "shared": layout.shared,
        "stop_wait": unload_delay_ms(layout) // 1000 + 30,
    }
    write_if_changed(node.base / "bin" / "setenv.sh", render("setenv.sh", **fields))
    write_if_changed(start_script(node), render("node-start.sh", **fields), 0o755)
    write_if_changed(stop_script(node), render("node-stop.sh", **fields), 0o755)
    copy_package_tree("app", node.base / "webapps" / "app")
    write_if_changed(
        node.base / "webapps" / "app" / "META-INF" / "context.xml",
        render("app-context.xml", unload_delay=unload_delay_ms(layout)),
    )
    copy_package_tree("license", node.base / "webapps" / "license")
    prepare_manager(layout, node)
    shared_link = node.base / "shared"
    if not shared_link.is_symlink():
        shared_link.symlink_to(layout.shared, target_is_directory=True)


def running_pid(node: NodeLayout) -> int | None:
    """The node's JVM pid, if it runs with this CATALINA_BASE."""
    return owned_pid(node.pid_file, f"-Dcatalina.base={node.base}")


def start(node: NodeLayout) -> None:
    """Start the node and wait for `Server startup in` in its catalina.out."""
    if running_pid(node) is not None:
        return
    node.pid_file.unlink(missing_ok=True)  # stale: catalina.sh would refuse to start
    offset = node.catalina_out.stat().st_size if node.catalina_out.exists() else 0
    result = subprocess.run(
        [str(start_script(node))],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        check=False,
    )
    if result.returncode != 0:
        raise SandboxError(
            f"{node.name}: catalina.sh start failed (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()}"
        )

    def started() -> bool:
        try:
            with node.catalina_out.open("rb") as handle:
                handle.seek(offset)
                return STARTED_MARKER in handle.read()
        except OSError:
            return False

    def settled() -> bool:
        return started() or running_pid(node) is None

    if not wait_until(settled, START_TIMEOUT, 0.1) or not started():
        raise SandboxError(
            f"{node.name}: Tomcat did not start within {START_TIMEOUT:.0f} s; "
            f"last lines of {node.catalina_out}:\n{tail_text(node.catalina_out)}"
        )


def stop(node: NodeLayout) -> None:
    """Stop the node gracefully (SHUTDOWN port), killing it only if it will not go."""
    pid = running_pid(node)
    if pid is None:
        return
    subprocess.run(
        [str(stop_script(node)), str(int(STOP_TIMEOUT))],
        capture_output=True,
        timeout=STOP_TIMEOUT + 15,
        check=False,
    )
    if not wait_gone(pid, 5.0):
        terminate(pid, 10.0)
    node.pid_file.unlink(missing_ok=True)


def remove(node: NodeLayout) -> None:
    """Delete the node's directory (only when it is stopped)."""
    shutil.rmtree(node.base, ignore_errors=True)
