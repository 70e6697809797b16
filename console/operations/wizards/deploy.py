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

import getpass
from collections.abc import Sequence

from console.deploy.lock import LOCK_NAME, DeployLock, LockError, LockHeld, owner_record
from console.deploy.sync import DeployError, DeployPlan, endpoint, plan_for
from console.operations.compose import ClusterContext
from console.operations.engine import Refused, Status, Step, StepRun, Wizard
from console.operations.spec import Answer
from console.operations.wizards.deploy_preview import (
    outcomes_of,
    plan_of,
    sync_check,
    sync_plan,
    todo,
)
from console.operations.wizards.deploy_push import WIZARD, sync_nodes, verify

NAME = WIZARD
TITLE = "sync the deployed files from the source to every other node"
QUESTIONS: tuple[Answer, ...] = (
    Answer(
        "redeploy_wait",
        "wait",
        40,
        "seconds to wait for Tomcat to log the redeploy of a changed application",
    ),
)


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
    lock = _lock_for(run.ctx, plan_of(run.ctx))
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
    lock = _lock_for(ctx, plan_of(ctx))
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


async def _sync(run: StepRun[ClusterContext]) -> None:
    names = todo(run.ctx)
    if not names:
        run.observed("nothing to do: every target is in step with the source")
        return
    await sync_nodes(run, names)


async def conclude(ctx: ClusterContext, status: Status) -> str:
    """The lock given back; which nodes are in step and which are not."""
    lock = ctx.facts.pop("lock", None)
    if isinstance(lock, DeployLock):
        await lock.release()
    return describe(ctx)


def describe(ctx: ClusterContext) -> str:
    outcomes = outcomes_of(ctx)
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
    action=verify,
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
