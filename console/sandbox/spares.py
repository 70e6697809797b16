"""`clusterconsole sandbox spares`: the bare spare hosts `sandbox up --spare N` prepared.

A spare is what the add-node wizard brings into the cluster: an sshd on its own loopback address
(its host key in the sandbox's known_hosts, the client key authorised), Java, Debian's Tomcat
binaries and the shared directory reachable, and nothing else: no CATALINA_BASE, not in a
balancer, not in cluster.toml.
"""

from __future__ import annotations

import getpass
import json
from typing import Any

from console import exitcodes
from console.sandbox import manager
from console.sandbox.layout import SSH_PORT, SandboxLayout


def spares_json(layout: SandboxLayout) -> dict[str, Any]:
    """The spares as JSON: what an add-node answers file needs to name one (host, ssh port)."""
    return {
        "dir": str(layout.root),
        "known_hosts": str(layout.known_hosts),
        "identity_file": str(layout.client_key),
        "shared_dir": str(layout.shared),
        "spares": [
            {
                "name": spare.name,
                "address": spare.address,
                "ssh_port": SSH_PORT,
                "ssh_user": getpass.getuser(),
                "running": pid is not None,
                "pid": pid,
            }
            for spare, pid in manager.spares(layout)
        ],
    }


def print_spares(layout: SandboxLayout, *, as_json: bool) -> int:
    """Print the spares; exit 1 when one of them is not running, 0 otherwise (none is fine)."""
    document = spares_json(layout)
    rows = document["spares"]
    if as_json:
        print(json.dumps(document))
    elif not rows:
        print(f"no spare hosts in {layout.root}: `clusterconsole sandbox up --spare N` adds some")
    else:
        print(f"spare hosts of the sandbox in {layout.root} (ssh user {getpass.getuser()}):")
        for row in rows:
            state = f"running (pid {row['pid']})" if row["running"] else "stopped"
            print(f"  {row['name']:<8} {row['address']:<15} ssh port {row['ssh_port']:<6} {state}")
    return exitcodes.OK if all(row["running"] for row in rows) else exitcodes.PROBLEMS
