"""The host key of a new host (add-node): shown with its fingerprint, trusted only when confirmed.

``check_host_key(target)`` makes one SSH handshake (no login) and compares the key the host
offers with the known_hosts files the node would be verified against:

- ``known``: a file holds this key; nothing to do;
- ``changed``: a file names the host with another key (or revokes it): always refused;
- ``unknown``: no file names the host; its fingerprint (``SHA256:...``) is shown, and
  ``accept_host_key(check, confirmed=...)`` appends it to the first known_hosts file (hashed
  under ``HashKnownHosts yes``) only when ``confirmed`` is that very fingerprint, audited.

``confirm_host_key`` puts the two together the way the wizards need: in the screen the operator
is asked (``ask``), in scripts the answers file's ``accept_host_key = "SHA256:..."`` must match
the offered fingerprint; ``--yes`` alone never trusts a new key.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import asyncssh

from console.audit import AuditLog
from probes.ssh.handshake import hashed_host, known_hosts, known_hosts_files, known_hosts_path
from probes.ssh.target import SshTarget

__all__ = [
    "HostKeyCheck",
    "HostKeyRefused",
    "accept_host_key",
    "check_host_key",
    "confirm_host_key",
]

KeyStatus = Literal["known", "unknown", "changed"]


class HostKeyRefused(Exception):
    """The host's key is not (and was not made) trusted; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class HostKeyCheck:
    """What the host offered and what known_hosts says about it."""

    status: KeyStatus
    label: str
    """The host as known_hosts writes it: ``host`` or ``[host]:port``."""
    fingerprint: str
    """``SHA256:...`` of the offered key."""
    line: str
    """The known_hosts line that trusts the offered key (hashed when the config says so)."""
    known_hosts: str
    """The file the line goes to."""

    def describe(self) -> str:
        if self.status == "known":
            return f"{self.label}: host key {self.fingerprint} is known ({self.known_hosts})"
        if self.status == "changed":
            return (
                f"{self.label}: the host offered {self.fingerprint}, but {self.known_hosts} "
                "knows it with another key: refusing (a changed key is never accepted here; "
                "find out why it changed, then fix known_hosts by hand)"
            )
        return (
            f"{self.label}: unknown host key {self.fingerprint} (not in {self.known_hosts}); "
            f"confirm it only if it is the host's fingerprint (answers: accept_host_key = \""
            f'{self.fingerprint}")'
        )


async def check_host_key(target: SshTarget, timeout: float | None = None) -> HostKeyCheck:
    """One handshake with ``target`` (no authentication) and the verdict of known_hosts on the
    key it offered. HostKeyRefused when the host cannot be reached or offers no key."""
    config = target.config()
    host = config.host_key_alias or config.hostname
    port = config.port
    label = host if port == 22 else f"[{host}]:{port}"
    try:
        key = await asyncssh.get_server_host_key(
            config.hostname,
            port,
            options=asyncssh.SSHClientConnectionOptions(
                connect_timeout=timeout or target.connect_timeout
            ),
        )
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        reason = getattr(exc, "reason", "") or getattr(exc, "strerror", "") or str(exc)
        why = reason or type(exc).__name__
        raise HostKeyRefused(f"{label}: cannot read its host key: {why}") from None
    if key is None:
        raise HostKeyRefused(f"{label}: the host offered no host key")
    files = known_hosts_files(target, config)
    record = known_hosts_path(target, config)
    readable = tuple(path for path in files if os.path.isfile(path))
    status: KeyStatus = "unknown"
    if readable:
        found = known_hosts(readable).match(host, config.hostname, None if port == 22 else port)
        trusted = [known.public_data for known in found[0]]
        if key.public_data in trusted:
            status = "known"
        elif found[0] or found[2]:
            status = "changed"
    kind, data = key.export_public_key("openssh").decode("ascii").split()[:2]
    name = hashed_host(label) if config.hash_known_hosts else label
    return HostKeyCheck(status, label, key.get_fingerprint(), f"{name} {kind} {data}", record)


def accept_host_key(
    check: HostKeyCheck, *, confirmed: str, audit: AuditLog, node: str, wizard: str
) -> None:
    """Append ``check.line`` to ``check.known_hosts``: only for an unknown key, and only when
    ``confirmed`` is its fingerprint. Audited before and after; HostKeyRefused otherwise."""
    if check.status != "unknown":
        raise HostKeyRefused(check.describe())
    if confirmed != check.fingerprint:
        raise HostKeyRefused(
            f"{check.label}: the confirmed fingerprint {confirmed!r} is not the one the host "
            f"offered ({check.fingerprint}): not trusted"
        )
    entry = audit.begin(
        node=node,
        step="accept-host-key",
        wizard=wizard,
        request={"host": check.label, "fingerprint": check.fingerprint, "file": check.known_hosts},
    )
    try:
        directory = os.path.dirname(check.known_hosts)
        if directory:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        fd = os.open(check.known_hosts, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="ascii") as out:
            out.write(check.line + "\n")
    except OSError as exc:
        entry.failed(f"cannot write {check.known_hosts}: {exc.strerror or exc}")
        raise HostKeyRefused(f"{check.label}: cannot write {check.known_hosts}: {exc}") from None
    entry.done({"added": check.line.split()[0], "fingerprint": check.fingerprint})


Ask = Callable[[HostKeyCheck], Awaitable[bool]]


async def confirm_host_key(
    target: SshTarget,
    *,
    audit: AuditLog,
    node: str,
    wizard: str,
    answer: str | None = None,
    ask: Ask | None = None,
) -> HostKeyCheck:
    """Make sure ``target``'s key is trusted before a wizard connects to it.

    Known: returned as is. Changed: HostKeyRefused. Unknown: trusted when ``answer`` (the
    answers file's ``accept_host_key``) is its fingerprint, or when ``ask`` (the screen's
    prompt, shown the fingerprint) says yes; else HostKeyRefused saying how to confirm it.
    """
    check = await check_host_key(target)
    if check.status == "known":
        return check
    if check.status == "changed":
        raise HostKeyRefused(check.describe())
    if answer is not None:
        accept_host_key(check, confirmed=answer.strip(), audit=audit, node=node, wizard=wizard)
        return check
    if ask is not None and await ask(check):
        accept_host_key(check, confirmed=check.fingerprint, audit=audit, node=node, wizard=wizard)
        return check
    raise HostKeyRefused(check.describe() + ": not trusted, nothing changed")
