"""Where and how to reach one node (`SshTarget`), in a module of its own: the connection
(`probes.ssh.connection`) and the handshake's verdicts (`probes.ssh.handshake`) both need it, and
neither
imports the other for it."""

from __future__ import annotations

from dataclasses import dataclass

from probes.ssh.config import HostConfig, host_config

# Keepalives: asyncssh sends one after `interval` seconds without a packet from the node and drops
# the connection when `count_max` of them in a row got no answer, so a peer that went silent
# (a frozen host, a partition) is noticed within interval * (count_max + 1) = 4 s.
KEEPALIVE_INTERVAL = 2.0
KEEPALIVE_COUNT_MAX = 1
LISTENER_INTERVAL = 4.0
"""Seconds between two checks that the node's SSH port still answers with a banner, while the
connection is up: killing sshd's listener leaves established sessions (and their keepalives)
alive, so only a new connection shows that the node can no longer be reached."""


@dataclass(frozen=True, slots=True)
class SshTarget:
    """Where and how to reach one node; agent keys and the client config apply on top."""

    node: str
    host: str
    """An address, a host name or an alias of the client config."""
    port: int | None = None
    """None: the client config's Port for the host, else 22."""
    username: str | None = None
    client_keys: tuple[str, ...] = ()  # extra private key files (inventory identity_file)
    known_hosts: str | None = None
    """None: the files the client config names (UserKnownHostsFile, GlobalKnownHostsFile)."""
    ssh_config: tuple[str, ...] | None = None
    """Client config files; None: ~/.ssh/config and /etc/ssh/ssh_config where readable."""
    accept_new: bool = False
    """Record and trust the key of a host no known_hosts file names (never a changed key)."""
    connect_timeout: float = 10.0
    keepalive_interval: float = KEEPALIVE_INTERVAL
    keepalive_count_max: int = KEEPALIVE_COUNT_MAX
    listener_interval: float | None = LISTENER_INTERVAL
    """Check the SSH port for a banner this often while connected; None: never."""

    @property
    def label(self) -> str:
        """The host as OpenSSH writes it in known_hosts: `host`, or `[host]:port` off port 22."""
        return self.host if self.port in (None, 22) else f"[{self.host}]:{self.port}"

    @property
    def address(self) -> str:
        """``host:port``, or the host alone when the client config decides the port."""
        return f"{self.host}:{self.port}" if self.port else self.host

    def config(self) -> HostConfig:
        """The host as the client config resolves it, the inventory's port and user applied.
        Raises ValueError (asyncssh.ConfigParseError) for a config file OpenSSH refuses too."""
        return host_config(self.host, port=self.port, user=self.username, paths=self.ssh_config)
