"""How one asyncssh connect is set up: the options from the inventory and the OpenSSH config, the
host key check's client, the ciphers offered."""

from __future__ import annotations

from probes.ssh.config import HostConfig, config_paths
from probes.ssh.handshake import (
    HandshakeClient,
    client_keys,
    known_hosts,
    known_hosts_files,
    known_hosts_path,
    readable_files,
)
from probes.ssh.target import SshTarget

# aes128-gcm first: it costs ~40 % less CPU than chacha20 with hundreds of connections
# (docs/facts.md).
ENCRYPTION_ALGS = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
)


def connect_options(
    target: SshTarget, config: HostConfig, client: HandshakeClient
) -> dict[str, object]:
    """asyncssh options for ``target``: only what the inventory sets overrides the config."""
    options: dict[str, object] = {
        "client_factory": lambda: client,
        # Bounded by `within` instead: asyncssh's timeout would count the time an operator
        # takes to type a one-time code (keyboard-interactive) against the connect.
        "connect_timeout": None,
        "keepalive_interval": target.keepalive_interval,
        "keepalive_count_max": target.keepalive_count_max,
        "encryption_algs": list(ENCRYPTION_ALGS),
        "config": _config_files(target),
    }
    if target.username is not None:
        options["username"] = target.username
    if target.client_keys:
        options["client_keys"] = client_keys(target.client_keys)
    # Always explicit known hosts: the config may say `StrictHostKeyChecking no`, and asyncssh
    # would then verify nothing. No file at all trusts no key (every host is "unknown").
    options["known_hosts"] = known_hosts(client.files)
    return options


def _config_files(target: SshTarget) -> list[str]:
    return [str(path) for path in config_paths(target.ssh_config)]


def handshake_client(target: SshTarget, config: HostConfig, node: str) -> HandshakeClient:
    files = readable_files(known_hosts_files(target, config), target)
    return HandshakeClient(
        config,
        node=node,
        files=files,
        accept_new=target.accept_new or config.accept_new,
        record_to=known_hosts_path(target, config),
    )
