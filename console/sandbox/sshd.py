"""One OpenSSH sshd per node address, with host keys, a client key and known_hosts of their own."""

from __future__ import annotations

import getpass
import os
import subprocess
from pathlib import Path

from console.sandbox.errors import SandboxError
from console.sandbox.files import write_if_changed
from console.sandbox.layout import SSH_PORT, SandboxLayout, SshHost
from console.sandbox.procs import owned_pid, terminate
from console.sandbox.render import render
from console.sandbox.waits import port_open, tail_text, wait_until

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "/usr/bin/ssh-keygen"


def _keygen(path: Path, comment: str) -> None:
    """Make an ed25519 key pair at `path` once; never overwrite an existing key."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )


def hosts_file(node: SshHost) -> Path:
    """The node's own hosts file (its sshd points the doctor's host name lookup at it)."""
    return node.ssh_dir / "hosts"


def hosts_text(node: SshHost) -> str:
    """What a well-configured node's /etc/hosts says: its name is its own address."""
    return f"127.0.0.1 localhost\n{node.address} {node.name}\n"


def _log(node: SshHost) -> Path:
    return node.ssh_dir / "sshd.log"


def prepare(layout: SandboxLayout) -> None:
    """Keys, authorized_keys, known_hosts and one sshd_config per node and spare host."""
    for path in (SSHD, SSH_KEYGEN):
        if not os.path.exists(path):
            raise SandboxError(f"OpenSSH is not installed ({path} is missing): run `make demo`")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    _keygen(layout.client_key, "clusterconsole-sandbox")
    public = layout.client_key.with_suffix(".pub").read_text().strip()
    write_if_changed(layout.authorized_keys, public + "\n", 0o600)
    known = []
    for node in layout.ssh_hosts:
        _keygen(node.host_key, f"sandbox-{node.name}")
        key_type, key_data = node.host_key.with_suffix(".pub").read_text().split()[:2]
        known.append(f"[{node.address}]:{SSH_PORT} {key_type} {key_data}")
        changed = write_if_changed(
            node.sshd_config,
            render(
                "sshd_config",
                name=node.name,
                address=node.address,
                port=SSH_PORT,
                host_key=node.host_key,
                pid_file=node.sshd_pid_file,
                authorized_keys=layout.authorized_keys,
                user=getpass.getuser(),
                hosts_file=hosts_file(node),
            ),
        )
        if changed and running_pid(node) is not None:
            stop(node)  # sshd reads its config when it starts: `up` starts it again
        write_if_changed(hosts_file(node), hosts_text(node))
    write_if_changed(layout.known_hosts, "\n".join(known) + "\n")


def running_pid(node: SshHost) -> int | None:
    return owned_pid(node.sshd_pid_file, str(node.sshd_config))


def start(node: SshHost) -> None:
    """Start the node's sshd (it daemonises) and wait until it listens."""
    if running_pid(node) is not None:
        return
    node.sshd_pid_file.unlink(missing_ok=True)
    result = subprocess.run(
        [SSHD, "-f", str(node.sshd_config), "-E", str(_log(node))],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise SandboxError(
            f"{node.name}: sshd did not start (exit {result.returncode}): "
            f"{result.stderr.strip()}\n{tail_text(_log(node))}"
        )
    if not wait_until(lambda: port_open(node.address, SSH_PORT), 15):
        raise SandboxError(f"{node.name}: sshd not listening on {node.address}:{SSH_PORT}")


def stop(node: SshHost) -> None:
    pid = running_pid(node)
    if pid is not None:
        terminate(pid, 10.0)
    node.sshd_pid_file.unlink(missing_ok=True)
