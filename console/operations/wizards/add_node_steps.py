"""The add-node wizard's own steps: preflight (the doctor's checks), the new CATALINA_BASE,
the peers' static member lists, the balancers' new worker. The check that new sessions reach the
node and fail over from it is `add_node_verify`; starting the node, membership, session state,
the direct HTTP check and enabling it are the rejoin and rolling-restart wizards' steps."""

from __future__ import annotations

import shlex
from typing import cast
from urllib.parse import urlsplit

from console.doctor.new_node import preflight_new_node
from console.hostkeys import HostKeyCheck, HostKeyRefused, check_host_key, confirm_host_key
from console.monitor.node_watch import ssh_target
from console.operations.context import NodeContext
from console.operations.engine import Change, Refused, Skip, StepFailed, StepRun
from console.operations.wizards.add_node_context import AddNodeContext
from console.operations.wizards.node_base import BaseError, BuiltBase, build_base, with_member
from probes.balancer.model import BalancerError
from probes.ssh.connection import SshCommandError

COPY_TIMEOUT = 120.0
PREFLIGHT_READ = 60.0
"""Seconds the doctor's reads of the nodes and the new host may take (an unreachable host is
refused after them; on a loaded machine the doctor's own 20 s default was too short)."""


def _ctx(run: StepRun[NodeContext]) -> AddNodeContext:
    return cast(AddNodeContext, run.ctx)


def _where(ctx: NodeContext) -> str:
    target = ctx.open_session().target
    return f"{target.username + '@' if target.username else ''}{target.address}"


# 0. the new host's key --------------------------------------------------------------------


async def _host_key(ctx: AddNodeContext) -> HostKeyCheck:
    found = ctx.facts.get("host_key")
    if isinstance(found, HostKeyCheck):
        return found
    try:
        check = await check_host_key(ssh_target(ctx.inventory, ctx.node))
    except HostKeyRefused as exc:
        raise Refused(f"{ctx.node.name} on {ctx.node.host} cannot be added: {exc}") from None
    ctx.facts["host_key"] = check
    return check


async def check_host_key_step(run: StepRun[NodeContext]) -> None:
    """Known: nothing to do. Changed: refused. Unknown: shown with its fingerprint; trusted only
    when confirmed (answers: accept_host_key = the fingerprint; the screen asks)."""
    ctx = _ctx(run)
    check = await _host_key(ctx)
    if check.status == "known":
        raise Skip(check.describe())
    if check.status == "changed":
        raise Refused(check.describe())
    if run.dry_run:
        run.warn(check.describe())


async def plan_host_key(run: StepRun[NodeContext]) -> list[Change]:
    check = await _host_key(_ctx(run))
    what = f"trust {check.label}'s host key {check.fingerprint} (append it to {check.known_hosts})"
    return [Change(what, {"file": check.known_hosts, "line": check.line})]


async def trust_host_key(run: StepRun[NodeContext]) -> None:
    ctx = _ctx(run)
    check = await _host_key(ctx)

    async def ask(offered: HostKeyCheck) -> bool:
        reply = await run.ask(
            "accept_host_key",
            f"{offered.describe()}; type its fingerprint (or yes) to trust it",
        )
        return reply.strip() in ("yes", offered.fingerprint)

    given = ctx.answer("accept_host_key", None)
    try:
        await confirm_host_key(
            ssh_target(ctx.inventory, ctx.node),
            audit=ctx.audit,
            node=ctx.node.name,
            wizard=ctx.wizard,
            answer=str(given) if given else None,
            ask=None if given else ask,
        )
    except HostKeyRefused as exc:
        raise Refused(str(exc)) from None
    run.changed(f"{check.label}'s host key {check.fingerprint} trusted", await plan_host_key(run))


# 1. preflight ------------------------------------------------------------------------------


async def check_preflight(run: StepRun[NodeContext]) -> None:
    """The doctor's checks on the new node (console.doctor.new_node): every refusal named with
    why and the fix; what the later steps build is listed, not refused."""
    ctx = _ctx(run)
    run.waiting(f"the doctor's checks of {ctx.node.name} on {ctx.node.host}")
    result = await preflight_new_node(
        ctx.old, ctx.node, reference=ctx.ref.name, timeout=PREFLIGHT_READ
    )
    ctx.facts["preflight"] = result
    if result.refusals:
        shown = "; ".join(f"{f.text} ({f.why}; fix: {f.fix})" for f in result.refusals)
        raise Refused(f"{ctx.node.name} on {ctx.node.host} cannot be added: {shown}")
    built = ", ".join(sorted({f.check for f in result.to_build})) or "nothing"
    run.observed(
        f"{ctx.node.name} on {ctx.node.host} passes the doctor's checks (the wizard builds: "
        f"{built}); copying from {ctx.ref.name}"
    )


# 2. the CATALINA_BASE ----------------------------------------------------------------------


def _archive_command(base: str) -> str:
    left_out = " ".join(f"--exclude=./{d}" for d in ("logs", "temp", "work"))
    return f"tar -C {shlex.quote(base)} -cf - {left_out} ."


def _unpack_command(base: str) -> str:
    quoted = shlex.quote(base)
    return f"mkdir -p {quoted} && tar -C {quoted} -xpf -"


async def built(run: StepRun[NodeContext]) -> BuiltBase:
    """The new base, built once from the reference's (read over SSH; reads only)."""
    ctx = _ctx(run)
    found = ctx.facts.get("base")
    if isinstance(found, BuiltBase):
        return found
    ref = ctx.peer(ctx.ref.name)
    try:
        result = await ref.open_session().exec(_archive_command(ctx.ref.catalina_base), timeout=60)
    except SshCommandError as exc:
        raise StepFailed(f"{ctx.ref.name}'s base could not be read: {exc}") from None
    if result.exit_status != 0:
        why = result.stderr.decode("utf-8", "replace").strip()[-200:]
        raise StepFailed(f"{ctx.ref.name}'s base could not be read: {why}")
    joget = ctx.inventory.profile.name == "joget"
    try:
        base = build_base(result.stdout, ctx.ref, ctx.node, joget=joget)
    except BaseError as exc:
        raise StepFailed(f"{ctx.ref.name}'s base cannot be copied: {exc}") from None
    ctx.facts["base"] = base
    return base


async def plan_base(run: StepRun[NodeContext]) -> list[Change]:
    ctx = _ctx(run)
    base = await built(run)
    changes = [
        Change(
            f"copy {len(base.files)} files of {ctx.ref.name}'s base to "
            f"{ctx.node.catalina_base} on {ctx.node.name}",
            {
                "ssh": _where(ctx),
                "command": _unpack_command(ctx.node.catalina_base),
                "input": f"tar archive, {len(base.archive)} bytes",
                "from": f"{ctx.ref.name}: {_archive_command(ctx.ref.catalina_base)}",
                "files": list(base.files),
            },
        )
    ]
    for path, diff in base.diffs.items():
        changes.append(
            Change(
                f"write {ctx.node.catalina_base}/{path} changed from {ctx.ref.name}'s",
                {"ssh": _where(ctx), "file": path, "diff": diff},
            )
        )
    return changes


async def write_base(run: StepRun[NodeContext]) -> None:
    ctx = _ctx(run)
    base = await built(run)
    command = _unpack_command(ctx.node.catalina_base)
    ctx.created.append(f"{ctx.node.catalina_base} on {ctx.node.host}")
    entry = ctx.audit.begin(
        node=ctx.node.name,
        step=run.step.name,
        request={"ssh": _where(ctx), "command": command, "files": list(base.files)},
        wizard=ctx.wizard,
        state_before={"catalina_base": "absent or empty (preflight)"},
    )
    try:
        result = await ctx.open_session().exec(command, timeout=COPY_TIMEOUT, input=base.archive)
    except SshCommandError as exc:
        entry.failed(str(exc))
        raise StepFailed(f"the base could not be written on {ctx.node.name}: {exc}") from None
    if result.exit_status != 0:
        why = result.stderr.decode("utf-8", "replace").strip()[-200:]
        entry.failed(f"exit status {result.exit_status}: {why}")
        raise StepFailed(f"the base could not be written on {ctx.node.name}: {why}")
    entry.done({"files": len(base.files)})
    run.changed(
        f"{ctx.node.catalina_base} written on {ctx.node.name} ({len(base.files)} files)",
        await plan_base(run),
    )


async def verify_base(run: StepRun[NodeContext]) -> None:
    ctx = _ctx(run)
    quoted = shlex.quote(ctx.node.catalina_base)
    result = await ctx.open_session().exec(
        f"cd {quoted} && find . -type f | wc -l && cat conf/server.xml", timeout=30
    )
    lines = result.stdout.decode("utf-8", "replace").split("\n", 1)
    base = await built(run)
    count = int(lines[0].strip() or 0) if lines[0].strip().isdigit() else 0
    route = ctx.node.jvm_route or ctx.node.name
    if count < len(base.files) or f'jvmRoute="{route}"' not in (lines[1] if len(lines) > 1 else ""):
        raise StepFailed(
            f"{ctx.node.catalina_base} on {ctx.node.name} reads back {count} files (expected "
            f"{len(base.files)}) or a server.xml without jvmRoute {route}"
        )
    run.observed(f"read back: {count} files, server.xml with jvmRoute {route}")


# 3. the peers' static member lists ---------------------------------------------------------


async def check_peers(run: StepRun[NodeContext]) -> None:
    base = await built(run)
    if base.member is None:
        raise Skip("multicast membership: the peers find the new node without any change")


def _server_xml(ctx: NodeContext) -> str:
    return f"{ctx.node.catalina_base}/conf/server.xml"


async def plan_peers(run: StepRun[NodeContext]) -> list[Change]:
    ctx = _ctx(run)
    base = await built(run)
    if base.member is None:
        return []
    return [
        Change(
            f"add {ctx.node.name}'s StaticMember to {_server_xml(ctx.peer(peer.name))} on "
            f"{peer.name} (kept for its next restart; it is not restarted: Tomcat 10.1 peers "
            "accept the new member at runtime, docs/facts.md)",
            {
                "ssh": _where(ctx.peer(peer.name)),
                "file": _server_xml(ctx.peer(peer.name)),
                "add": base.member.element().strip(),
                "backup": _server_xml(ctx.peer(peer.name)) + f".before-{ctx.node.name}",
            },
        )
        for peer in ctx.old.nodes
    ]


async def write_peers(run: StepRun[NodeContext]) -> None:
    ctx = _ctx(run)
    base = await built(run)
    assert base.member is not None
    for peer in ctx.old.nodes:
        pctx = ctx.peer(peer.name)
        path = _server_xml(pctx)
        read = await pctx.open_session().exec(f"cat {shlex.quote(path)}", timeout=60)
        if read.exit_status != 0:
            raise StepFailed(f"{path} on {peer.name} could not be read")
        text = read.stdout.decode("utf-8")
        try:
            new = with_member(text, base.member)
        except BaseError as exc:
            raise StepFailed(f"{peer.name}: {exc}") from None
        if new == text:
            run.observed(f"{peer.name}'s server.xml already lists {ctx.node.name}")
            continue
        backup = shlex.quote(f"{path}.before-{ctx.node.name}")
        quoted = shlex.quote(path)
        command = (
            f"cp -p {quoted} {backup} && cat > {quoted}.new && "
            f"chmod --reference={quoted} {quoted}.new && mv {quoted}.new {quoted}"
        )
        session = pctx.open_session()
        entry = ctx.audit.begin(
            node=peer.name,
            step=run.step.name,
            request={"ssh": _where(pctx), "command": command, "add": base.member.element()},
            wizard=ctx.wizard,
        )
        result = await session.exec(command, timeout=60, input=new.encode("utf-8"))
        if result.exit_status != 0:
            entry.failed(result.stderr.decode("utf-8", "replace")[-200:])
            raise StepFailed(f"{path} on {peer.name} could not be written")
        entry.done({"backup": f"{path}.before-{ctx.node.name}"})
        ctx.created.append(f"a StaticMember for {ctx.node.name} in {peer.name}'s server.xml")
        run.changed(
            f"{peer.name}'s server.xml lists {ctx.node.name} (its old copy: {backup})",
            [Change(f"add a StaticMember to {path}", {"ssh": _where(pctx), "command": command})],
        )


# 5. the balancers --------------------------------------------------------------------------


def worker_address(ctx: NodeContext, kind: str) -> str:
    """The new worker's URL: the reference's worker with the new host (httpd), or
    ADDR:PORT (HAProxy)."""
    url = ctx.node.http or f"http://{ctx.node.host}:8080/"
    parts = urlsplit(url)
    if kind == "apache":
        return f"{parts.scheme}://{parts.netloc}"
    return parts.netloc


async def plan_balancers(run: StepRun[NodeContext]) -> list[Change]:
    ctx = _ctx(run)
    changes = []
    for config in ctx.inventory.balancers:
        address = worker_address(ctx, config.kind)
        try:
            planned = await ctx.actions.plan_add(
                config.name,
                ctx.node.name,
                address,
                pool=config.balancer,
                route=ctx.node.jvm_route or ctx.node.name,
            )
        except BalancerError as exc:
            raise StepFailed(str(exc)) from None
        changes.append(
            Change(
                f"add {ctx.node.name} ({address}) to {config.name} (balancer://{planned.pool}),"
                " disabled until its own URL answers",
                planned.request,
            )
        )
    return changes


async def add_to_balancers(run: StepRun[NodeContext]) -> None:
    ctx = _ctx(run)
    for config in ctx.inventory.balancers:
        address = worker_address(ctx, config.kind)
        try:
            planned, worker = await ctx.actions.add_worker(
                config.name,
                ctx.node.name,
                address,
                pool=config.balancer,
                route=ctx.node.jvm_route or ctx.node.name,
                node=ctx.node.name,
                wizard=ctx.wizard,
                step=run.step.name,
            )
        except BalancerError as exc:
            raise StepFailed(str(exc)) from None
        ctx.created.append(f"worker {address} on {config.name} (balancer://{planned.pool})")
        run.changed(
            f"{config.name}: {ctx.node.name} added as {worker.url}; the balancer shows "
            f"{worker.status}",
            [Change(f"add {ctx.node.name} to {config.name}", planned.request)],
        )


# 6. verify ---------------------------------------------------------------------------------


__all__ = [
    "add_to_balancers",
    "check_host_key_step",
    "check_peers",
    "check_preflight",
    "plan_balancers",
    "plan_base",
    "plan_host_key",
    "plan_peers",
    "trust_host_key",
    "verify_base",
    "worker_address",
    "write_base",
    "write_peers",
]
