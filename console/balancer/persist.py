"""Persist a balancer member in the balancer's own configuration file, over SSH.

A worker added at runtime (balancer-manager's "Add New Worker", HAProxy's ``add server``) is
lost when the balancer restarts; httpd cannot delete a worker at runtime at all. So the add-node
and remove-node wizards also edit the configuration file that ``[[balancers]] config =
"HOST:/path"`` names:

1. read the file (``cat``) and compute the edit (``console.balancer.conf``);
2. write it in place of the old one (a temporary file beside it, then ``mv``; refused when the
   file changed since it was read);
3. run the config test (``config_test``; default ``apachectl -t -f FILE`` / ``haproxy -c -f
   FILE``): when it fails the previous text is written back and nothing is reloaded;
4. only when asked (``reload=True``): reload gracefully (``reload``; default ``apachectl -k
   graceful -f FILE`` / ``systemctl reload haproxy``); when it fails, the previous text is
   written back and reloaded;
5. read the file back: the lines are there (or gone).

The wizards do not reload: the runtime already has the change (the worker added, or disabled /
deleted), and the file is what the next restart reads. A graceful restart of httpd closes the
idle keep-alive connections, and a client that reuses one at that moment and does not retry
(an HTTP library, unlike a browser) sees "server disconnected": 12 requests of 20 sticky
clients failed in three graceful restarts on the sandbox (docs/facts.md).

Audited before and after. Without ``config`` in the inventory nothing is written: the outcome
carries the exact lines to add or remove by hand and the warning that a restart of the balancer
would drop (or bring back) the worker.
"""

from __future__ import annotations

import asyncio
import hashlib
import shlex
from dataclasses import dataclass

from console.audit import AuditLog
from console.balancer.conf import ConfEditError, Member, add_member, member_line, remove_member
from console.config.model import BalancerConfig, Inventory, RemoteFile
from console.monitor.node_watch import ssh_target
from probes.ssh.connection import NodeSession, SshCommandError
from probes.ssh.target import SshTarget

__all__ = ["PersistError", "PersistOutcome", "manual_lines", "persist_member"]

DEFAULT_TEST = {"apache": "apachectl -t -f {config}", "haproxy": "haproxy -c -f {config}"}
DEFAULT_RELOAD = {
    "apache": "apachectl -k graceful -f {config}",
    "haproxy": "systemctl reload haproxy",
}
TIMEOUT = 120.0


class PersistError(Exception):
    """The file could not be changed; the message says what was left (the previous text)."""


@dataclass(frozen=True, slots=True)
class PersistOutcome:
    """What happened to the balancer's configuration for one member."""

    balancer: str
    file: str | None
    """``HOST:/path`` when the inventory names the file, else None."""
    lines: tuple[str, ...]
    """The lines added or removed, or to add or remove by hand."""
    persisted: bool
    message: str


def _command(template: str, path: str) -> str:
    return template.replace("{config}", shlex.quote(path))


def commands(config: BalancerConfig) -> tuple[str, str]:
    """The config test and reload commands for ``config`` (its file's path filled in)."""
    path = config.config.path if config.config else "FILE"
    test = config.config_test or DEFAULT_TEST.get(config.kind, "true")
    reload = config.reload or DEFAULT_RELOAD.get(config.kind, "true")
    return _command(test, path), _command(reload, path)


def manual_lines(config: BalancerConfig, pool: str, member: Member, *, add: bool) -> PersistOutcome:
    """The outcome when the inventory does not name the balancer's file: what to do by hand."""
    line = member_line(
        f"<Proxy balancer://{pool}>\n</Proxy>\nbackend {pool}\n", config.kind, pool, member
    )
    where = f'<Proxy "balancer://{pool}">' if config.kind == "apache" else f"backend {pool}"
    verb = "add to" if add else "remove from"
    after = "drop the new worker" if add else "bring the removed worker back"
    return PersistOutcome(
        config.name,
        None,
        (line.strip(),),
        False,
        f"{config.name}: the inventory does not name its configuration file ([[balancers]] "
        f"config); {verb} its {where} section by hand: `{line.strip()}` — until then a restart "
        f"of the balancer would {after}",
    )


def _target(inventory: Inventory, ref: RemoteFile) -> SshTarget:
    if ref.node is not None:
        return ssh_target(inventory, inventory.node(ref.node))
    ssh = inventory.ssh
    return SshTarget(
        node=ref.host,
        host=ref.host,
        port=ssh.port,
        username=ssh.user,
        client_keys=(str(ssh.identity_file),) if ssh.identity_file else (),
        known_hosts=str(ssh.known_hosts) if ssh.known_hosts else None,
        connect_timeout=ssh.connect_timeout,
        accept_new=ssh.accept_new,
    )


def _write_script(path: str, expected: str) -> str:
    """Replace ``path`` with stdin unless its sha256 is no longer ``expected``."""
    quoted = shlex.quote(path)
    return (
        f"f={quoted}; "
        f'[ "$(sha256sum < "$f" | cut -c1-64)" = {expected} ] '
        f'|| {{ echo "$f changed since it was read; not written" >&2; exit 3; }}; '
        'n="$f.clusterconsole-new"; '
        'cp -p -- "$f" "$n" && cat > "$n" && mv -f -- "$n" "$f" || { rm -f -- "$n"; exit 4; }'
    )


@dataclass(frozen=True, slots=True)
class _Edit:
    pool: str
    member: Member
    add: bool
    reload: bool


def _sha(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


async def _run(session: NodeSession, command: str, data: bytes | None = None) -> tuple[int, str]:
    result = await session.exec(command, timeout=TIMEOUT, input=data)
    output = (result.stderr or result.stdout).decode("utf-8", "replace").strip()
    return (result.exit_status if result.exit_status is not None else -1), output[-800:]


async def persist_member(
    inventory: Inventory,
    config: BalancerConfig,
    pool: str,
    member: Member,
    *,
    add: bool,
    audit: AuditLog,
    wizard: str,
    node: str,
    reload: bool = False,
) -> PersistOutcome:
    """Add (``add=True``) or remove ``member`` in pool ``pool`` of the balancer's configuration
    file, test it, reload the balancer when ``reload``, read back. PersistError when it could
    not, with the previous text written back."""
    if config.config is None:
        return manual_lines(config, pool, member, add=add)
    ref = config.config
    session = NodeSession(_target(inventory, ref))
    task = asyncio.create_task(session.run())
    try:
        edit = _Edit(pool, member, add, reload)
        return await _persist(session, config, ref, edit, audit, wizard, node)
    except SshCommandError as exc:
        raise PersistError(f"{config.name}: {ref}: {exc}") from None
    finally:
        await session.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _persist(
    session: NodeSession,
    config: BalancerConfig,
    ref: RemoteFile,
    edit: _Edit,
    audit: AuditLog,
    wizard: str,
    node: str,
) -> PersistOutcome:
    where = f"{config.name}: {ref}"
    pool, member, add = edit.pool, edit.member, edit.add
    read = await session.exec(f"cat -- {shlex.quote(ref.path)}", timeout=TIMEOUT)
    if read.exit_status != 0:
        reason = read.stderr.decode("utf-8", "replace").strip()
        raise PersistError(f"{where}: cannot read it: {reason}")
    before = read.stdout
    try:
        change = add_member if add else remove_member
        text, lines = change(before.decode("utf-8"), config.kind, pool, member)
    except (ConfEditError, UnicodeDecodeError) as exc:
        raise PersistError(f"{where}: {exc}; nothing written") from None
    if not lines:
        state = "already holds" if add else "holds no line for"
        return PersistOutcome(config.name, str(ref), (), True, f"{where} {state} {member.route}")
    test, reload = commands(config)
    reload = reload if edit.reload else ""
    entry = audit.begin(
        node=node,
        step="persist-member" if add else "unpersist-member",
        wizard=wizard,
        request={
            "file": str(ref),
            "add" if add else "remove": lines,
            "test": test,
            "reload": reload,
        },
        state_before={"sha256": _sha(before)},
    )
    after = text.encode("utf-8")
    code, output = await _run(session, _write_script(ref.path, _sha(before)), after)
    if code != 0:
        entry.failed(f"not written: {output}")
        raise PersistError(f"{where}: not written: {output}")
    code, output = await _run(session, test)
    if code != 0:
        await _run(session, _write_script(ref.path, _sha(after)), before)
        entry.failed(f"config test failed ({output}); the previous file is back")
        raise PersistError(f"{where}: `{test}` failed: {output}; the previous file is back")
    code, output = await _run(session, reload) if reload else (0, "")
    if code != 0:
        await _run(session, _write_script(ref.path, _sha(after)), before)
        await _run(session, reload)
        entry.failed(f"reload failed ({output}); the previous file is back")
        raise PersistError(f"{where}: `{reload}` failed: {output}; the previous file is back")
    check = await session.exec(f"cat -- {shlex.quote(ref.path)}", timeout=TIMEOUT)
    present = [line for line in lines if line in check.stdout.decode("utf-8", "replace")]
    if (present != lines) if add else present:
        entry.failed("read back: the file does not hold the change")
        raise PersistError(f"{where}: read back: the file does not hold the change")
    entry.done({"sha256": _sha(check.stdout), "lines": lines, "reloaded": bool(reload)})
    verb = "added to" if add else "removed from"
    then = "reloaded" if reload else "tested; the balancer's next restart or reload reads it"
    message = f"{where}: {member.route} {verb} the file, {then}"
    return PersistOutcome(config.name, str(ref), tuple(lines), True, message)
