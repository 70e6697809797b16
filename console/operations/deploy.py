"""The `deploy` wizard: sync `[deploy]`'s source to every other node (or those given), with a
preview, in parallel, under one lock per cluster, verified.

Steps: check (the inventory says what to sync), lock (one sync per cluster: a second run is
refused with who holds the lock and since when), sync (the source is staged and checked, every
target previewed with what it would gain, change and lose, deletions marked; the confirmation
is asked on that preview; then every target is synced in parallel, audited per node), verify
(a checksum dry run finds nothing left to change, each redeployed application logged its
redeploy without errors and every changed context answers over the node's own HTTP). A failure
on one node never stops the others: the outcome names the nodes in step and those that are not.
"""

from __future__ import annotations

import asyncio
import getpass
import time
from collections.abc import Sequence
from typing import Any

from console.audit import AuditError
from console.deploy.lock import LOCK_NAME, DeployLock, LockError, LockHeld, owner_record
from console.deploy.sync import (
    DeployError,
    DeployPlan,
    NodeResult,
    Source,
    checksum_left,
    endpoint,
    log_size,
    needs_redeploy,
    plan_for,
    prepare_source,
    preview_all,
    sync_all,
    verify_redeploy,
    would_empty,
)
from console.operations.compose import ClusterContext
from console.operations.engine import (
    Change,
    Refused,
    Skip,
    Status,
    Step,
    StepFailed,
    StepRun,
    Wizard,
)
from console.operations.spec import Answer
from probes.rsync import RsyncError, Summary

NAME = "deploy"
TITLE = "sync the deployed files from the source to every other node"
QUESTIONS: tuple[Answer, ...] = (
    Answer(
        "redeploy_wait",
        "wait",
        40,
        "seconds to wait for Tomcat to log the redeploy of a changed application",
    ),
)
SHOWN_PATHS = 100
"""Paths listed per kind in a preview's request (the counts are always whole)."""
PROGRESS_EVERY = 0.5


def _plan(ctx: ClusterContext) -> DeployPlan:
    plan = ctx.facts.get("plan")
    if not isinstance(plan, DeployPlan):
        raise StepFailed("the deploy plan was not made (the check step did not run)")
    return plan


def _outcomes(ctx: ClusterContext) -> dict[str, str]:
    """Per target: "" when in step, else why not (filled as the run goes)."""
    found = ctx.facts.setdefault("outcomes", {})
    assert isinstance(found, dict)
    return found


def _lock_for(ctx: ClusterContext, plan: DeployPlan) -> DeployLock:
    node = ctx.inventory.node(plan.lock_node)
    path = node.catalina_base.rstrip("/") + "/" + LOCK_NAME
    return DeployLock(plan.lock_node, endpoint(ctx.inventory, node), path)


async def _check(run: StepRun[ClusterContext]) -> None:
    ctx = run.ctx
    try:
        plan = plan_for(ctx.inventory, ctx.nodes)
    except DeployError as error:
        raise Refused(str(error)) from None
    if plan.source_node is not None and plan.source_node in ctx.nodes and len(ctx.nodes) > 1:
        run.warn(f"{plan.source_node} is the source: it is not a target")
    if not plan.targets:
        raise Refused("no target: the only node chosen is the source")
    ctx.facts["plan"] = plan
    run.observed(
        f"source {plan.source_label}; targets "
        + ", ".join(f"{name}:{path}" for name, path in plan.targets)
        + (f"; excluded {', '.join(plan.exclude)}" if plan.exclude else "")
    )


async def _lock_check(run: StepRun[ClusterContext]) -> None:
    """A dry run only asks whether another sync holds the lock (taken and given back)."""
    if not run.dry_run:
        return
    lock = _lock_for(run.ctx, _plan(run.ctx))
    try:
        await lock.acquire(owner_record(getpass.getuser()))
    except LockHeld as held:
        run.ctx.facts["lock_held"] = True
        raise Refused(str(held)) from None
    except LockError as error:
        raise Refused(str(error)) from None
    finally:
        await lock.release()


async def _lock(run: StepRun[ClusterContext]) -> None:
    ctx = run.ctx
    lock = _lock_for(ctx, _plan(ctx))
    try:
        await lock.acquire(owner_record(ctx.audit.operator))
    except LockHeld as held:
        raise Refused(str(held)) from None
    except LockError as error:
        raise Refused(str(error)) from None
    ctx.facts["lock"] = lock
    if lock.taken_over:
        owner = lock.taken_over
        run.warn(
            f"took over the deploy lock left by {owner.get('operator')}@{owner.get('host')} "
            f"(pid {owner.get('pid')}, since {owner.get('since')}): that run ended without "
            "releasing it"
        )
    run.observed(f"holding the cluster's deploy lock on {lock.node}:{lock.path}")


def _table(name: str, summary: Summary) -> str:
    deleted = f"{len(summary.deleted)} deleted" + (
        " (" + ", ".join(f"-{path}" for path in summary.deleted[:5]) + ")"
        if summary.deleted
        else ""
    )
    return (
        f"{name}: {len(summary.added)} added, {len(summary.changed)} changed, {deleted}, "
        f"{summary.bytes} bytes"
    )


async def sync_check(run: StepRun[ClusterContext]) -> None:
    """The source staged and checked, every target previewed (the preview table)."""
    ctx = run.ctx
    plan = _plan(ctx)
    if run.dry_run and ctx.facts.get("lock_held"):
        raise Skip("no preview while another sync runs (its staging copy is in use)")
    try:
        source = await prepare_source(ctx.inventory, plan)
    except DeployError as error:
        raise Refused(str(error)) from None
    if source.files == 0:
        raise Refused(
            f"the source {plan.source_label} holds no file (after the excludes): a sync with "
            "--delete would empty every target"
        )
    ctx.facts["source"] = source
    previews = await preview_all(ctx.inventory, plan, source)
    outcomes = _outcomes(ctx)
    emptied: list[str] = []
    for name, found in previews.items():
        if isinstance(found, str):
            outcomes[name] = f"not synced: {found}"
            run.warn(f"{name} will not be synced: {found}")
            continue
        run.observed(_table(name, found))
        if would_empty(found):
            emptied.append(name)
    ctx.facts["previews"] = {k: v for k, v in previews.items() if isinstance(v, Summary)}
    if emptied:
        raise Refused(
            f"the sync would delete everything {', '.join(emptied)} holds and keep nothing "
            "(a wrong source, target or exclude?); --force to sync anyway",
            forceable=True,
        )
    if not ctx.facts["previews"]:
        raise StepFailed("no target can be synced: " + "; ".join(outcomes.values()))


def _listed(paths: Sequence[str]) -> list[str]:
    return list(paths[:SHOWN_PATHS]) + (
        [f"... {len(paths) - SHOWN_PATHS} more"] if len(paths) > SHOWN_PATHS else []
    )


def _request(plan: DeployPlan, name: str, summary: Summary) -> dict[str, Any]:
    return {
        "node": name,
        "source": plan.source_label,
        "target": dict(plan.targets)[name],
        "exclude": list(plan.exclude),
        "added": _listed(summary.added),
        "changed": _listed(summary.changed),
        "deleted": _listed(summary.deleted),
        "counts": {
            "added": len(summary.added),
            "changed": len(summary.changed),
            "deleted": len(summary.deleted),
        },
        "bytes": summary.bytes,
    }


async def sync_plan(run: StepRun[ClusterContext]) -> list[Change]:
    ctx = run.ctx
    plan = _plan(ctx)
    previews: dict[str, Summary] = ctx.facts.get("previews", {})
    changes: list[Change] = []
    for name, summary in previews.items():
        if summary.nothing:
            continue
        changes.append(
            Change(
                f"sync {name}: {_table(name, summary).partition(': ')[2]}",
                _request(plan, name, summary),
            )
        )
    return changes


def todo(ctx: ClusterContext) -> list[str]:
    """The targets whose preview shows changes (the others are marked in step)."""
    previews: dict[str, Summary] = ctx.facts.get("previews", {})
    outcomes = _outcomes(ctx)
    for name, summary in previews.items():
        if summary.nothing:
            outcomes[name] = ""
    return [name for name, summary in previews.items() if not summary.nothing]


async def _sync(run: StepRun[ClusterContext]) -> None:
    names = todo(run.ctx)
    if not names:
        run.observed("nothing to do: every target is in step with the source")
        return
    await sync_nodes(run, names)


async def sync_nodes(run: StepRun[ClusterContext], todo: list[str]) -> None:
    """`todo` synced in parallel, each audited; raises StepFailed when every one failed."""
    ctx = run.ctx
    plan = _plan(ctx)
    source = ctx.facts.get("source")
    assert isinstance(source, Source)
    previews: dict[str, Summary] = ctx.facts.get("previews", {})
    outcomes = _outcomes(ctx)
    # the log offsets before the sync: the redeploy lines are looked for after them
    sizes = await asyncio.gather(*(log_size(ctx.inventory, ctx.inventory.node(n)) for n in todo))
    ctx.facts.setdefault("log_offsets", {}).update(zip(todo, sizes, strict=True))
    entries = {}
    for name in todo:
        entries[name] = ctx.audit.begin(
            node=name,
            step="sync",
            request=_request(plan, name, previews[name]),
            wizard=NAME,
        )
    totals = {name: previews[name].files for name in todo}
    last = [0.0]

    def progress(result: NodeResult) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        done = sum(min(r, totals[n]) for n, r in counts.items())
        counts_shown = {n: f"{min(r, totals[n])}/{totals[n]}" for n, r in counts.items()}
        run.waiting(
            f"the sync of {len(todo)} node(s)",
            {"paths": f"{done}/{sum(totals.values())}", **counts_shown},
        )

    counts = dict.fromkeys(todo, 0)

    def seen(result: NodeResult) -> None:
        counts[result.node] = result.done
        progress(result)

    results = await sync_all(ctx.inventory, plan, source, todo, seen)
    synced: dict[str, Summary] = {}
    for result in results:
        summary = result.summary or Summary()
        itemized = summary.to_json()
        try:
            if result.error is None:
                entries[result.node].done({"itemized": itemized})
            else:
                entries[result.node].failed(result.error, {"itemized": itemized})
        except AuditError as error:
            run.warn(f"{result.node}: the audit log could not record the result: {error}")
        if result.error is not None:
            outcomes[result.node] = f"sync failed: {result.error}"
            run.warn(f"{result.node}: sync failed: {result.error}")
            continue
        synced[result.node] = summary
        outcomes[result.node] = ""
        run.changed(
            _table(result.node, summary),
            [Change(f"synced {result.node}", _request(plan, result.node, summary))],
        )
    ctx.facts.setdefault("synced", {}).update(synced)
    failed = [r.node for r in results if r.error is not None]
    if failed and not synced:
        raise StepFailed(f"the sync failed on every target ({', '.join(failed)})")


async def _verify(run: StepRun[ClusterContext]) -> None:
    ctx = run.ctx
    plan = _plan(ctx)
    source = ctx.facts.get("source")
    if not isinstance(source, Source):
        raise Skip("nothing was synced")
    previews: dict[str, Summary] = ctx.facts.get("previews", {})
    synced: dict[str, Summary] = ctx.facts.get("synced", {})
    offsets: dict[str, int | None] = ctx.facts.get("log_offsets", {})
    outcomes = _outcomes(ctx)
    wait = float(ctx.answer("redeploy_wait", 40))

    async def one(name: str) -> list[str]:
        try:
            left = await checksum_left(ctx.inventory, plan, source, name)
        except RsyncError as error:
            return [f"{name}: cannot verify: {error}"]
        problems = []
        if not left.nothing:
            problems.append(
                f"{name}: a checksum comparison still finds {left.files} path(s) to change "
                f"({', '.join([*left.added, *left.changed, *left.deleted][:5])})"
            )
        summary = synced.get(name)
        if (
            summary is not None
            and plan.targets
            and dict(plan.targets)[name].rstrip("/").endswith("webapps")
        ):
            apps = needs_redeploy(summary)
            answering = [app for app in summary.apps() if not _gone(app, summary)]
            node = ctx.inventory.node(name)
            problems += await verify_redeploy(
                ctx.inventory, node, apps, offsets.get(name), answering, wait
            )
        return problems

    names = [name for name in previews if not outcomes.get(name)]
    run.waiting(f"the checksum comparison of {len(names)} node(s)")
    found = await asyncio.gather(*(one(name) for name in names))
    for name, problems in zip(names, found, strict=True):
        if problems:
            outcomes[name] = "; ".join(problems)
            for problem in problems:
                run.warn(problem)
        else:
            run.observed(f"{name}: in step (checksums equal; changed contexts answer)")
    bad = {name: why for name, why in outcomes.items() if why}
    if bad:
        raise StepFailed(
            f"not in step: {', '.join(sorted(bad))}; in step: "
            f"{', '.join(sorted(n for n, w in outcomes.items() if not w)) or 'none'}"
        )


def _gone(app: str, summary: Summary) -> bool:
    return any(path.strip("/") in (app, f"{app}.war") for path in summary.deleted)


async def conclude(ctx: ClusterContext, status: Status) -> str:
    """The lock given back; which nodes are in step and which are not."""
    lock = ctx.facts.pop("lock", None)
    if isinstance(lock, DeployLock):
        await lock.release()
    return describe(ctx)


def describe(ctx: ClusterContext) -> str:
    outcomes = _outcomes(ctx)
    plan = ctx.facts.get("plan")
    if not outcomes:
        return "no node was changed"
    in_step = sorted(name for name, why in outcomes.items() if not why)
    not_in_step = {name: why for name, why in outcomes.items() if why}
    untouched = []
    if isinstance(plan, DeployPlan):
        untouched = [n for n, _ in plan.targets if n not in outcomes]
    text = f"in step: {', '.join(in_step) or 'none'}"
    if not_in_step:
        text += "; not in step: " + "; ".join(f"{n} ({w})" for n, w in not_in_step.items())
    if untouched:
        text += f"; not reached: {', '.join(untouched)}"
    return text


def _left(ctx: ClusterContext) -> str:
    return describe(ctx)


CHECK: Step[ClusterContext] = Step(
    "check",
    "read what [deploy] syncs: the source and the target on every chosen node",
    check=_check,
    timeout=10,
)
LOCK: Step[ClusterContext] = Step(
    "lock",
    "take the cluster's deploy lock (one sync at a time)",
    check=_lock_check,
    action=_lock,
    timeout=60,
)
VERIFY: Step[ClusterContext] = Step(
    "verify",
    "compare checksums on every target, and check that each changed application was "
    "redeployed and answers over the node's own HTTP",
    action=_verify,
    timeout=lambda ctx: float(ctx.answer("redeploy_wait", 40)) + 120,
    left=_left,
)


def cut_short(ctx: ClusterContext) -> str:
    return (
        "the sync was cut short: "
        + describe(ctx)
        + " (a node being synced may hold part of the new files)"
    )


def build(nodes: Sequence[str]) -> Wizard[ClusterContext]:
    """The wizard for these targets (every node but the source when none are given)."""
    del nodes  # the targets come from the run's context (and [deploy]'s source)
    sync: Step[ClusterContext] = Step(
        "sync",
        "stage the source, preview every target (added, changed, deleted), then sync them in "
        "parallel",
        check=sync_check,
        plan=sync_plan,
        action=_sync,
        timeout=3600,
        interrupted=cut_short,
        left=_left,
    )
    return Wizard(
        name=NAME,
        title=TITLE,
        steps=(CHECK, LOCK, sync, VERIFY),
        initial="nothing was changed",
        conclude=conclude,
    )


__all__ = [
    "CHECK",
    "LOCK",
    "NAME",
    "QUESTIONS",
    "TITLE",
    "VERIFY",
    "build",
    "conclude",
    "cut_short",
    "describe",
    "sync_check",
    "sync_nodes",
    "sync_plan",
    "todo",
]
