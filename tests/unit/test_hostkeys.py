"""hostkeys against a real SSH server (asyncssh, on a loopback port): an unknown key is trusted
only with its own fingerprint confirmed (audited), a changed key is always refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from console.audit import AuditLog
from console.hostkeys import HostKeyCheck, HostKeyRefused, check_host_key, confirm_host_key
from probes.ssh.target import SshTarget


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, asyncssh.SSHKey]]:
    key = asyncssh.generate_private_key("ssh-ed25519")
    listener = await asyncssh.listen("127.0.0.1", 0, server_host_keys=[key])
    port = listener.sockets[0].getsockname()[1]
    try:
        yield port, key
    finally:
        listener.close()
        await listener.wait_closed()


def target(port: int, known: Path) -> SshTarget:
    return SshTarget(
        node="node4", host="127.0.0.1", port=port, known_hosts=str(known), ssh_config=()
    )


async def test_unknown_key_needs_its_fingerprint_then_is_known(
    server: tuple[int, asyncssh.SSHKey], tmp_path: Path
) -> None:
    port, key = server
    known = tmp_path / "known_hosts"
    audit_path = tmp_path / "audit.jsonl"
    audit = AuditLog(audit_path, "scripted", "test")
    ssh = target(port, known)
    check = await check_host_key(ssh)
    assert check.status == "unknown"
    assert check.fingerprint == key.get_fingerprint()
    assert f"[127.0.0.1]:{port}" in check.describe() and check.fingerprint in check.describe()
    # scripted without the fingerprint, or with another one: refused, nothing written
    with pytest.raises(HostKeyRefused, match="not trusted, nothing changed"):
        await confirm_host_key(ssh, audit=audit, node="node4", wizard="add-node")
    with pytest.raises(HostKeyRefused, match="is not the one the host offered"):
        await confirm_host_key(
            ssh, audit=audit, node="node4", wizard="add-node", answer="SHA256:wrong"
        )
    assert not known.exists()
    assert not audit_path.exists()
    # the screen's prompt sees the fingerprint; saying no changes nothing
    seen: list[HostKeyCheck] = []

    async def no(check: HostKeyCheck) -> bool:
        seen.append(check)
        return False

    with pytest.raises(HostKeyRefused):
        await confirm_host_key(ssh, audit=audit, node="node4", wizard="add-node", ask=no)
    assert seen[0].fingerprint == key.get_fingerprint() and not known.exists()
    # the right fingerprint: recorded, audited before and after, then known
    await confirm_host_key(
        ssh, audit=audit, node="node4", wizard="add-node", answer=key.get_fingerprint()
    )
    assert known.read_text().startswith(f"[127.0.0.1]:{port} ssh-ed25519 ")
    records = [json.loads(line) for line in audit_path.read_text().splitlines()]
    assert [r["phase"] for r in records] == ["before", "after"]
    assert records[0]["request"]["fingerprint"] == key.get_fingerprint()
    assert (await check_host_key(ssh)).status == "known"


async def test_a_changed_key_is_always_refused(
    server: tuple[int, asyncssh.SSHKey], tmp_path: Path
) -> None:
    port, _ = server
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode()
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {other}")
    audit_path = tmp_path / "audit.jsonl"
    audit = AuditLog(audit_path, "scripted", "test")
    ssh = target(port, known)
    check = await check_host_key(ssh)
    assert check.status == "changed"

    async def yes(check: HostKeyCheck) -> bool:
        return True

    with pytest.raises(HostKeyRefused, match="never accepted"):
        await confirm_host_key(
            ssh, audit=audit, node="node4", wizard="add-node", answer=check.fingerprint, ask=yes
        )
    assert known.read_text() == f"[127.0.0.1]:{port} {other}"
    assert not audit_path.exists()


async def test_an_unreachable_host_is_named(tmp_path: Path) -> None:
    with pytest.raises(HostKeyRefused, match=r"\[127.0.0.1\]:1: cannot read its host key"):
        await check_host_key(target(1, tmp_path / "known_hosts"))
