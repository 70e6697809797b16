"""What an SSH handshake saw, and how to say why a connection failed or ended.

Plain sentences for the operator (a changed host key, a refused key, a refused port), and the
parsed known_hosts and client keys, cached per file version so that hundreds of sessions share
one parse.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import asyncssh

from probes.ssh_state import SshState as SshState

if TYPE_CHECKING:
    from probes.ssh import SshTarget

_loaded: dict[tuple[str, ...], tuple[tuple[tuple[int, int], ...], object]] = {}


def _load_once(kind: str, paths: tuple[str, ...], load: Callable[[], object]) -> object:
    """Files parsed once per version (mtime, size): 500 sessions share one parse of known_hosts
    and of each client key, instead of one per connect (it was ~25 % of the connect CPU)."""
    version = tuple((stat.st_mtime_ns, stat.st_size) for stat in map(os.stat, paths))
    cached = _loaded.get((kind, *paths))
    if cached is None or cached[0] != version:
        cached = _loaded[(kind, *paths)] = (version, load())
    return cached[1]


def known_hosts(path: str) -> asyncssh.SSHKnownHosts:
    known = _load_once("known_hosts", (path,), lambda: asyncssh.read_known_hosts(path))
    assert isinstance(known, asyncssh.SSHKnownHosts)
    return known


def client_keys(paths: tuple[str, ...]) -> list[asyncssh.SSHKeyPair]:
    keys = _load_once("keys", paths, lambda: list(asyncssh.load_keypairs(list(paths))))
    assert isinstance(keys, list)
    return keys


class HandshakeClient(asyncssh.SSHClient):
    """Remembers what the handshake saw, to explain a failure or a dropped connection."""

    def __init__(self) -> None:
        self.conn: asyncssh.SSHClientConnection | None = None
        self.offered_key: asyncssh.SSHKey | None = None
        self.lost: Exception | None = None
        self.tried: list[str] = []  # auth methods whose every credential was refused

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        self.conn = conn

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        self.offered_key = key  # not in known_hosts: remember it for the reason, refuse it
        return False

    def public_key_auth_requested(self) -> None:
        self.tried.append("publickey")  # asked only once every configured key was refused
        return None

    def password_auth_requested(self) -> None:
        self.tried.append("password")
        return None


def known_hosts_path(target: SshTarget) -> str:
    """The known_hosts file a node is verified against: the inventory's, else the user's."""
    return target.known_hosts or str(Path("~", ".ssh", "known_hosts").expanduser())


def _host_key_reason(target: SshTarget, client: HandshakeClient) -> str:
    """Say whether the node's key changed (known_hosts has another) or is simply unknown."""
    offered = ""
    if client.offered_key is not None:
        offered = f" (it offered {client.offered_key.get_fingerprint()})"
    addr = target.host
    if client.conn is not None:
        peer = client.conn.get_extra_info("peername")
        if peer:
            addr = str(peer[0])
    path = known_hosts_path(target)
    try:
        known = known_hosts(path).match(target.host, addr, target.port)[0]
    except (OSError, ValueError):
        known = []
    if known:
        return f"host key for {target.label} does not match {path}{offered}: refusing to connect"
    return f"host key for {target.label} is not in {path}{offered}: refusing to connect"


def os_reason(exc: OSError) -> str:
    """An OS-level failure in plain lower-case words."""
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name ({exc.strerror or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if exc.errno is not None:
        return os.strerror(exc.errno).lower()
    return str(exc) or type(exc).__name__


def classify(
    exc: BaseException, target: SshTarget, client: HandshakeClient
) -> tuple[SshState, str]:
    """Map a failed connect to a state and a plain sentence."""
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return "host-key-mismatch", _host_key_reason(target, client)
    if isinstance(exc, asyncssh.PermissionDenied):
        tried = f" ({', '.join(dict.fromkeys(client.tried))})" if client.tried else ""
        return "auth-failed", f"permission denied{tried}"
    if isinstance(exc, TimeoutError):
        return "timeout", f"no SSH answer within {target.connect_timeout:g} s"
    if isinstance(exc, asyncssh.ConnectionLost) and "timeout" in str(exc).lower():
        return "timeout", str(exc).lower()
    if isinstance(exc, OSError) and exc.filename:
        # Raised before any packet left: a local file (known_hosts, a client key) is unreadable.
        what = f"{exc.filename}: {os.strerror(exc.errno) if exc.errno else exc}"
        if str(exc.filename) == known_hosts_path(target):
            return "host-key-mismatch", f"cannot read known_hosts {what}: cannot verify the node"
        return "auth-failed", f"cannot read a client key ({what})"
    if isinstance(exc, OSError):
        if exc.errno == errno.ETIMEDOUT:
            return "timeout", os_reason(exc)
        return "down", os_reason(exc)
    if isinstance(exc, asyncssh.KeyImportError | asyncssh.KeyEncryptionError):
        return "auth-failed", f"cannot use a client key: {exc}"
    if isinstance(exc, asyncssh.DisconnectError):
        return "down", f"disconnected during login: {exc.reason or type(exc).__name__}"
    return "down", f"{type(exc).__name__}: {exc}"


def lost_reason(exc: Exception | None, target: SshTarget) -> tuple[SshState, str]:
    """Map the end of an established connection to a state and a plain sentence."""
    if exc is None:
        return "down", "connection closed by the node"
    text = str(exc).strip() or type(exc).__name__
    if "keepalive" in text:
        interval = target.keepalive_interval
        silence = (target.keepalive_count_max + 1) * interval
        return "timeout", f"no answer within {silence:g} s (keepalives every {interval:g} s)"
    if isinstance(exc, OSError):
        return "down", f"connection lost: {os_reason(exc)}"
    return "down", f"connection lost: {text[0].lower()}{text[1:]}"
