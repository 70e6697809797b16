"""The `remove-node` wizard: take a node out of the cluster for good, without failing a request.

1. check: the node is not the inventory's only node nor the last serving one, and cluster.toml
   can lose it (nothing else names it: a balancer's socket or config host, deploy's source);
2. the drain wizard's steps (drain, wait, disable, wait idle, stop, peers saw it leave);
3. balancers: HAProxy deletes the server at runtime (`del server`, after the drain's disable);
   httpd cannot delete a worker at runtime: it stays disabled, and the member is removed from
   the balancer's configuration file (`[[balancers]] config`), tested and reloaded gracefully,
   which drops it (console.balancer.persist); without `config` the lines to remove are shown;
4. peers: the node's StaticMember is removed from every peer's server.xml (a copy is kept);
   no peer is restarted: they saw it leave at runtime, and the file only matters at their next
   start (docs/facts.md);
5. inventory: the node's table is removed from cluster.toml (comments kept, validated, atomic).

Every change is audited; a dry run lists every request, command and file.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from console.balancer.conf import Member
from console.balancer.persist import PersistError, manual_lines, persist_member
from console.cluster.membership import serving_nodes
from console.config.edit import InventoryEditError, remove_node
from console.operations.common import read_back
from console.operations.context import NodeContext, WorkerRef
from console.operations.engine import Change, Refused, Status, Step, StepFailed, StepRun, Wizard
from console.operations.wizards import drain
from console.operations.wizards.node_base import BaseError, members, receiver_port, without_member
from console.operations.wizards.remove_node_peers import PeerFiles
from probes.balancer.model import BalancerError

NAME = "remove-node"
QUESTIONS = drain.QUESTIONS


async def _check(run: StepRun[NodeContext]) -> None:
    ctx = run.ctx
    name = ctx.node.name
    if len(ctx.inventory.nodes) < 2:
        raise Refused(f"{name} is the inventory's only node: there would be no cluster left")
    serving = serving_nodes(ctx.monitor.state)
    if serving and set(serving) <= {name}:
        raise Refused(
            f"{name} is the last serving node: removing it would leave users with none",
            forceable=True,
        )
    path = ctx.inventory.path
    # A scratch copy beside the file (its relative paths resolve the same), edited as the
    # inventory step will edit the file: a refusal there would come after the node stopped.
    try:
        fd, scratch = tempfile.mkstemp(prefix=f".{path.name}.preflight-", dir=path.parent)
    except OSError as exc:
        raise Refused(f"{path}: its directory cannot take a scratch copy: {exc}") from None
    os.close(fd)
    try:
        shutil.copyfile(path, scratch)
        remove_node(Path(scratch), name)
    except InventoryEditError as exc:
        message = str(exc).replace(scratch, str(path))
        raise Refused(f"cluster.toml cannot lose {name}: {message}") from None
    except OSError as exc:
        raise Refused(f"{path}: cannot check that it can lose {name}: {exc}") from None
    finally:
        Path(scratch).unlink(missing_ok=True)
    run.observed(f"{path} can lose {name}; {', '.join(sorted(serving)) or 'no node'} serving")


async def _refs(run: StepRun[NodeContext]) -> list[WorkerRef]:
    """The node's workers, read once before any is deleted (a deleted one is not read again)."""
    ctx = run.ctx
    found = ctx.facts.get("remove_refs")
    if found is None:
        try:
            found = await ctx.workers()
        except BalancerError as exc:
            raise StepFailed(str(exc)) from None
        ctx.facts["remove_refs"] = found
    assert isinstance(found, list)
    return found


def _member(ref: WorkerRef, ctx: NodeContext) -> Member:
    return Member(ref.worker.route or ctx.node.jvm_route or ctx.node.name, ref.worker.url)


async def _plan_balancers(run: StepRun[NodeContext]) -> list[Change]:
    ctx = run.ctx
    changes: list[Change] = []
    for ref in await _refs(run):
        config = ctx.actions.config(ref.balancer)
        if config.kind == "haproxy":
            planned = await ctx.actions.plan_remove(
                ref.balancer, ref.worker.route or "", pool=ref.pool
            )
            changes.append(Change(f"delete {ref.label} at runtime", dict(planned.request)))
        line = manual_lines(config, ref.pool, _member(ref, ctx), add=False).lines[0]
        where = str(config.config) if config.config else "(not in the inventory: by hand)"
        changes.append(
            Change(
                f"remove `{line}` from {ref.balancer}'s configuration {where}, test, reload",
                {"file": where, "remove": line},
            )
        )
    return changes


async def _remove_from_balancers(run: StepRun[NodeContext]) -> None:
    ctx = run.ctx
    for ref in await _refs(run):
        config = ctx.actions.config(ref.balancer)
        if config.kind == "haproxy":
            try:
                await ctx.actions.remove_worker(
                    ref.balancer,
                    ref.worker.route or "",
                    pool=ref.pool,
                    node=ctx.node.name,
                    wizard=ctx.wizard,
                    step=run.step.name,
                )
            except BalancerError as exc:
                raise StepFailed(f"{ref.label}: {exc}") from None
            run.changed(f"{ref.label} deleted at runtime", [])
        try:
            outcome = await persist_member(
                ctx.inventory,
                config,
                ref.pool,
                _member(ref, ctx),
                add=False,
                audit=ctx.audit,
                wizard=ctx.wizard,
                node=ctx.node.name,
            )
        except PersistError as exc:
            raise StepFailed(str(exc)) from None
        if not outcome.persisted:
            run.warn(outcome.message)
        elif outcome.lines:
            run.changed(outcome.message, [Change(outcome.message, {"removed": outcome.lines})])
        else:
            run.observed(outcome.message)


async def _own_port(ctx: NodeContext) -> str | None:
    """The node's Tribes receiver port, from its own server.xml (None: unreadable)."""
    path = shlex.quote(f"{ctx.node.catalina_base}/conf/server.xml")
    try:
        result = await ctx.open_session().exec(f"cat {path}", timeout=30)
    except Exception:
        return None
    if result.exit_status != 0:
        return None
    return receiver_port(result.stdout.decode("utf-8", "replace"))


def _edit(text: str, host: str, port: str | None) -> str:
    """``text`` without the node's StaticMember (its host and port; any port when unknown)."""
    try:
        listed = members(text)[1]
    except BaseError:
        return text
    for member in listed:
        if member.host == host and (port is None or member.port == port):
            text = without_member(text, member.host, member.port)
    return text


async def _plan_peers(run: StepRun[NodeContext]) -> list[Change]:
    ctx = run.ctx
    files = PeerFiles(ctx)
    return [
        Change(
            f"remove {ctx.node.name}'s StaticMember from {path} on {peer} (a copy stays beside it)",
            {"ssh": peer, "file": path},
        )
        for peer, path in files.paths()
    ]


async def _remove_from_peers(run: StepRun[NodeContext]) -> None:
    ctx = run.ctx
    port = await _own_port(ctx)
    files = PeerFiles(ctx)
    try:
        for peer, _ in files.paths():
            changed = await files.edit(peer, lambda text: _edit(text, ctx.node.host, port), run)
            if changed:
                run.changed(f"{peer}'s server.xml no longer lists {ctx.node.name}", [])
            else:
                run.observed(f"{peer}'s server.xml does not list {ctx.node.name}")
    finally:
        await files.aclose()


async def _plan_inventory(run: StepRun[NodeContext]) -> list[Change]:
    path = run.ctx.inventory.path
    return [
        Change(f"remove {run.ctx.node.name}'s [[nodes]] table from {path}", {"file": str(path)})
    ]


async def _write_inventory(run: StepRun[NodeContext]) -> None:
    ctx = run.ctx
    path = ctx.inventory.path
    entry = ctx.audit.begin(
        node=ctx.node.name,
        step=run.step.name,
        request={"file": str(path), "remove": ctx.node.name},
        wizard=ctx.wizard,
    )
    try:
        remove_node(path, ctx.node.name)
    except InventoryEditError as exc:
        entry.failed(str(exc))
        message = f"{ctx.node.name} is out of the cluster but still in {path}: {exc}"
        raise StepFailed(message) from None
    entry.done({"file": str(path)})
    run.changed(f"{path} no longer holds {ctx.node.name}", await _plan_inventory(run))


async def _conclude(ctx: NodeContext, status: Status) -> str:
    refs, process = await read_back(ctx)
    workers = ", ".join(ref.label for ref in refs) or "no balancer worker"
    return f"{ctx.node.name}: Tomcat {process.state}; still on the balancers: {workers}"


def _left_out(ctx: NodeContext) -> str:
    return (
        f"{ctx.node.name} is stopped and out of the balancers' runtime; the configuration files "
        "and cluster.toml may still name it (see the run's changes)"
    )


WIZARD: Wizard[NodeContext] = Wizard(
    name=NAME,
    title="remove a node from the cluster",
    conclude=_conclude,
    steps=(
        Step(
            "preflight",
            "check that the node is not the only or the last serving node, and that cluster.toml "
            "can lose it",
            check=_check,
            timeout=60,
        ),
        *drain.WIZARD.steps,
        Step(
            "balancers",
            "delete it from HAProxy at runtime (httpd keeps it disabled) and remove it from every "
            "balancer's configuration file, tested and reloaded gracefully",
            plan=_plan_balancers,
            action=_remove_from_balancers,
            timeout=180,
            left=_left_out,
            interrupted=_left_out,
        ),
        Step(
            "peers",
            "remove its StaticMember from every peer's server.xml (no peer restart)",
            plan=_plan_peers,
            action=_remove_from_peers,
            timeout=120,
        ),
        Step(
            "inventory",
            "remove it from cluster.toml (comments kept; validated; replaced atomically)",
            plan=_plan_inventory,
            action=_write_inventory,
            timeout=30,
        ),
    ),
)


def build(nodes: Sequence[str]) -> Wizard[NodeContext]:
    """The wizard (the node is the context's)."""
    return WIZARD


__all__ = ["NAME", "QUESTIONS", "WIZARD", "build"]
