"""What an SSH handshake saw, and how to say why a connection failed or ended.

Plain sentences for the operator (a changed host key, a refused key, a refused port), and the
parsed known_hosts and client keys, cached per file version so that hundreds of sessions share
one parse.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import os
import shlex
import socket
from collections.abc import Callable, Sequence

import asyncssh

from probes.ssh.config import HostConfig
from probes.ssh.prompt import KbdintPrompt as KbdintPrompt
from probes.ssh.prompt import ask, kbdint_prompt, refusal
from probes.ssh.prompt import set_kbdint_prompt as set_kbdint_prompt
from probes.ssh.state import SshState as SshState
from probes.ssh.target import SshTarget

_loaded: dict[tuple[str, ...], tuple[tuple[tuple[int, int], ...], object]] = {}


def _load_once(kind: str, paths: tuple[str, ...], load: Callable[[], object]) -> object:
    """Files parsed once per version (mtime, size): 500 sessions share one parse of known_hosts
    and of each client key, instead of one per connect (it was ~25 % of the connect CPU)."""
    version = tuple((stat.st_mtime_ns, stat.st_size) for stat in map(os.stat, paths))
    cached = _loaded.get((kind, *paths))
    if cached is None or cached[0] != version:
        cached = _loaded[(kind, *paths)] = (version, load())
    return cached[1]


def known_hosts(paths: str | tuple[str, ...]) -> asyncssh.SSHKnownHosts:
    """The known hosts of ``paths`` read as one list (no file: an empty list, trusting none)."""
    files = (paths,) if isinstance(paths, str) else paths
    known = _load_once("known_hosts", files, lambda: asyncssh.read_known_hosts(list(files)))
    assert isinstance(known, asyncssh.SSHKnownHosts)
    return known


def client_keys(paths: tuple[str, ...]) -> list[asyncssh.SSHKeyPair]:
    keys = _load_once("keys", paths, lambda: list(asyncssh.load_keypairs(list(paths))))
    assert isinstance(keys, list)
    return keys


class HandshakeClient(asyncssh.SSHClient):
    """Remembers what the handshake saw, to explain a failure or a dropped connection.

    With ``accept_new`` a host that no known_hosts file names at all has its key recorded in
    ``record_to`` and is trusted (OpenSSH's ``StrictHostKeyChecking accept-new``), hashed when
    the config says ``HashKnownHosts yes``; a host that a file names with another key is refused
    whatever the setting.
    """

    def __init__(
        self,
        config: HostConfig | None = None,
        *,
        node: str = "",
        files: tuple[str, ...] = (),
        accept_new: bool = False,
        record_to: str | None = None,
    ) -> None:
        self.conn: asyncssh.SSHClientConnection | None = None
        self.offered_key: asyncssh.SSHKey | None = None
        self.lost: Exception | None = None
        self.tried: list[str] = []  # auth methods whose every credential was refused
        self.config = config
        self.node = node
        self.files = files
        self.accept_new = accept_new
        self.record_to = record_to
        self.recorded: str | None = None  # the known_hosts line written by accept_new
        self.kbdint_refused = False  # asked for keyboard-interactive with no one to answer
        self.kbdint_declined = False  # the operator cancelled the keyboard-interactive prompt

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        self.conn = conn

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        self.offered_key = key  # not in known_hosts: remember it for the reason
        if not self.accept_new or self.record_to is None:
            return False
        if _known_entries(self.files, host, addr, port):
            return False  # known with another key: a real mismatch is never accepted
        label = host if port in (None, 22) else f"[{host}]:{port}"
        if self.config is not None and self.config.hash_known_hosts:
            label = hashed_host(label)
        kind, data = key.export_public_key("openssh").decode("ascii").split()[:2]
        line = f"{label} {kind} {data}\n"
        try:
            directory = os.path.dirname(self.record_to)
            if directory:
                os.makedirs(directory, mode=0o700, exist_ok=True)
            fd = os.open(self.record_to, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="ascii") as out:
                out.write(line)
        except OSError:
            return False
        self.recorded = line.strip()
        return True

    def kbdint_auth_requested(self) -> str | None:
        if kbdint_prompt() is None:
            self.kbdint_refused = True
            self.tried.append("keyboard-interactive")
            return None
        return ""

    async def kbdint_challenge_received(
        self, name: str, instructions: str, lang: str, prompts: Sequence[tuple[str, bool]]
    ) -> list[str] | None:
        if not prompts:
            return []
        answers = await ask(self.node, name, instructions, prompts)
        if answers is None:
            self.kbdint_declined = True
            self.tried.append("keyboard-interactive")
        return answers

    def public_key_auth_requested(self) -> None:
        self.tried.append("publickey")  # asked only once every configured key was refused
        return None

    def password_auth_requested(self) -> None:
        self.tried.append("password")
        return None


def hashed_host(label: str, salt: bytes | None = None) -> str:
    """``label`` (``host`` or ``[host]:port``) as OpenSSH hashes it under ``HashKnownHosts yes``:
    ``|1|`` base64(salt) ``|`` base64(HMAC-SHA1 keyed with the 20-byte salt, of the label)."""
    salt = os.urandom(20) if salt is None else salt
    digest = hmac.new(salt, label.encode("utf-8"), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def known_hosts_files(target: SshTarget, config: HostConfig | None = None) -> tuple[str, ...]:
    """The known_hosts files a node is verified against: the inventory's when it names one,
    else those the client config names (OpenSSH's defaults: the user's and the system's)."""
    if target.known_hosts:
        return (target.known_hosts,)
    if config is None:
        return (str(os.path.expanduser("~/.ssh/known_hosts")),)
    return config.known_hosts


def readable_files(files: tuple[str, ...], target: SshTarget) -> tuple[str, ...]:
    """The files to read: the inventory's even when missing (reading it then fails the connect
    as "cannot read known_hosts"), the config's defaults only where they exist."""
    if target.known_hosts:
        return files
    return tuple(path for path in files if os.path.isfile(path))


def known_hosts_path(target: SshTarget, config: HostConfig | None = None) -> str:
    """The file a newly accepted host key goes to, and the one messages name first."""
    files = known_hosts_files(target, config)
    return files[0] if files else str(os.path.expanduser("~/.ssh/known_hosts"))


def _known_entries(files: tuple[str, ...], host: str, addr: str, port: int | None) -> bool:
    """Whether any of ``files`` names ``host`` (or ``addr``) with any key."""
    readable = tuple(path for path in files if os.path.isfile(path))
    if not readable:
        return False
    try:
        found = known_hosts(readable).match(host, addr, None if port == 22 else port)
    except (OSError, ValueError, asyncssh.Error):
        return False
    return bool(found[0] or found[2])


def _host_key_reason(target: SshTarget, client: HandshakeClient) -> tuple[SshState, str]:
    """Say whether the node's key changed (known_hosts has another) or is simply unknown; for an
    unknown key, its fingerprint and the exact line that accepts it."""
    config = client.config
    host = target.host
    port = target.port or 22
    if config is not None:
        host, port = config.host_key_alias or config.hostname, config.port
    label = host if port == 22 else f"[{host}]:{port}"
    addr = host
    if client.conn is not None:
        peer = client.conn.get_extra_info("peername")
        if peer:
            addr = str(peer[0])
    files = client.files or known_hosts_files(target, config)
    where = ", ".join(files) if files else "no known_hosts file (UserKnownHostsFile none)"
    fingerprint = client.offered_key.get_fingerprint() if client.offered_key else None
    offered = f" (it offered {fingerprint})" if fingerprint else ""
    if _known_entries(files, host, addr, port):
        return "host-key-mismatch", (
            f"host key for {label} does not match {where}{offered}: refusing to connect"
        )
    reason = f"unknown host key for {label}: not in {where}{offered}"
    if client.offered_key is not None:
        kind, data = client.offered_key.export_public_key("openssh").decode("ascii").split()[:2]
        record = client.record_to or known_hosts_path(target, config)
        line = shlex.quote(f"{label} {kind} {data}")
        reason += (
            f"; if that is the node's fingerprint, accept it with: echo {line} >> "
            f"{shlex.quote(record)} (or run with --accept-new-host-keys)"
        )
    return "host-key-unknown", reason


class BastionError(Exception):
    """The ProxyJump host could not be reached: its state and a sentence naming it."""

    def __init__(self, state: SshState, reason: str) -> None:
        super().__init__(reason)
        self.state: SshState = state
        self.reason = reason


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
    if isinstance(exc, BastionError):
        return exc.state, exc.reason
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return _host_key_reason(target, client)
    if isinstance(exc, asyncssh.PermissionDenied):
        tried = f" ({', '.join(dict.fromkeys(client.tried))})" if client.tried else ""
        if client.kbdint_refused:
            return "auth-failed", (
                f"permission denied{tried}: the node asks for a keyboard-interactive login "
                f"(a one-time code?), which {refusal()}"
            )
        if client.kbdint_declined:
            return "auth-failed", (
                f"permission denied{tried}: the keyboard-interactive login (a one-time code?) "
                "was not answered"
            )
        return "auth-failed", f"permission denied{tried}"
    if isinstance(exc, TimeoutError):
        return "timeout", f"no SSH answer within {target.connect_timeout:g} s"
    if isinstance(exc, asyncssh.ConnectionLost) and "timeout" in str(exc).lower():
        return "timeout", str(exc).lower()
    if isinstance(exc, OSError) and exc.filename:
        # Raised before any packet left: a local file (known_hosts, a client key) is unreadable.
        what = f"{exc.filename}: {os.strerror(exc.errno) if exc.errno else exc}"
        if str(exc.filename) in known_hosts_files(target, client.config):
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
