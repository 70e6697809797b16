"""The sandbox's Apache httpd: balancer://cluster over the nodes, balancer-manager, status."""

from __future__ import annotations

import os
import pwd
import subprocess

from console.balancer.conf import BEGIN, END
from console.sandbox.errors import SandboxError
from console.sandbox.files import write_if_changed
from console.sandbox.layout import AJP_PORT, BALANCER_PORT, HTTP_PORT, NodeLayout, SandboxLayout
from console.sandbox.procs import owned_pid, terminate
from console.sandbox.render import render
from console.sandbox.waits import port_open, tail_text, wait_until

APACHE2 = "/usr/sbin/apache2"


def _user_directives() -> str:
    """httpd refuses to serve as root: drop to www-data when started as root."""
    if os.geteuid() != 0:
        return ""
    try:
        pwd.getpwnam("www-data")
    except KeyError:
        return "User nobody\nGroup nogroup"
    return "User www-data\nGroup www-data"


def _member_url(layout: SandboxLayout, node: NodeLayout) -> str:
    if layout.variant == "frevvo":
        return f"ajp://{node.address}:{AJP_PORT}"
    return f"http://{node.address}:{HTTP_PORT}"


def _kept_members(layout: SandboxLayout) -> str:
    """The members the add-node wizard wrote into the console's block of the current httpd.conf
    (not the sandbox's own nodes): `sandbox up` keeps them."""
    try:
        old = layout.httpd_conf.read_text().splitlines()
    except OSError:
        return ""
    if BEGIN not in (line.strip() for line in old) or END not in (line.strip() for line in old):
        return ""
    block = old[[line.strip() for line in old].index(BEGIN) + 1 :]
    block = block[: [line.strip() for line in block].index(END)]
    own = {f"route={node.jvm_route}" for node in layout.nodes}
    kept = [line for line in block if not own & set(line.split())]
    if not kept:
        return ""
    return "\n" + "\n".join([f"  {BEGIN}", *kept, f"  {END}"])


def prepare(layout: SandboxLayout) -> None:
    """Write httpd.conf with one BalancerMember per node (route = jvmRoute)."""
    if not os.path.exists(APACHE2):
        raise SandboxError(f"Apache httpd is not installed ({APACHE2} is missing): run `make demo`")
    (layout.httpd_dir / "logs").mkdir(parents=True, exist_ok=True)
    layout.run.mkdir(parents=True, exist_ok=True)
    # ttl=10: httpd drops an idle backend connection before Tomcat's keep-alive timeout (20 s)
    # closes it; reusing one that Tomcat is closing answers the client 502 (seen in the tests).
    # The frevvo variant talks AJP to the nodes' AJP connectors (port 8009), as its guide has it.
    members = "\n".join(
        f'  BalancerMember "{_member_url(layout, node)}" route={node.jvm_route} retry=5 ttl=10'
        for node in layout.nodes
    )
    members += _kept_members(layout)
    write_if_changed(
        layout.httpd_conf,
        render(
            "httpd.conf",
            root=layout.httpd_dir,
            address=layout.balancer_address,
            port=BALANCER_PORT,
            run=layout.run,
            logs=layout.httpd_dir / "logs",
            user_directives=_user_directives(),
            members=members,
        ),
    )


def running_pid(layout: SandboxLayout) -> int | None:
    return owned_pid(layout.httpd_pid_file, str(layout.httpd_conf))


def start(layout: SandboxLayout) -> None:
    """Start httpd and wait until it listens."""
    if running_pid(layout) is not None:
        return
    layout.httpd_pid_file.unlink(missing_ok=True)
    result = subprocess.run(
        [APACHE2, "-f", str(layout.httpd_conf), "-k", "start"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    error_log = layout.httpd_dir / "logs" / "error.log"
    if result.returncode != 0:
        raise SandboxError(
            f"httpd: did not start (exit {result.returncode}): {result.stderr.strip()}\n"
            f"{tail_text(error_log)}"
        )
    if not wait_until(lambda: port_open(layout.balancer_address, BALANCER_PORT), 15):
        raise SandboxError(
            f"httpd: not listening on {layout.balancer_address}:{BALANCER_PORT} after 15 s; "
            f"see {error_log}:\n{tail_text(error_log)}"
        )


def stop(layout: SandboxLayout) -> None:
    pid = running_pid(layout)
    if pid is not None:
        terminate(pid, 15.0)
    layout.httpd_pid_file.unlink(missing_ok=True)
