"""The `deploy-rolling` wizard: the deploy sync for applications that need a restart to pick the
changes up. Node by node: drain, stop, sync, start, rejoin, through the rolling restart's steps.

It is the deploy wizard's check, lock and preview (confirmed once, on every target's preview),
then, for each target in turn, the rolling restart's steps for that node with the node's sync
between its stop and its start, then the deploy's verification. A node whose preview shows
nothing to change (and the source node) is neither stopped nor synced. Unlike the parallel
sync it stops at the first failure, like the rolling restart: the next node is only drained
once the previous one serves again.

It is a wizard of its own rather than an answer of `deploy`, because a wizard's steps are
built from its nodes before the answers are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from console.operations.compose import ClusterContext, per_node
from console.operations.engine import Refused, Skip, Step, StepFn, StepRun, Wizard
from console.operations.spec import Answer, merged
from console.operations.wizards import deploy, rolling

NAME = "deploy-rolling"
TITLE = "sync the deployed files node by node, each drained and restarted"
QUESTIONS: tuple[Answer, ...] = merged(deploy.QUESTIONS, rolling.QUESTIONS)


def _must_restart(ctx: ClusterContext, node: str) -> bool:
    return node in deploy.todo(ctx)


def _guarded(step: Step[ClusterContext], node: str) -> Step[ClusterContext]:
    """`step`, skipped for a node that the preview leaves alone (the source, a node in step, a
    node that could not be previewed)."""
    inner: StepFn[ClusterContext] | None = step.check

    async def check(run: StepRun[ClusterContext]) -> None:
        if not _must_restart(run.ctx, node):
            raise Skip(f"{node}: nothing to sync there, not restarted")
        if inner is not None:
            await inner(run)

    return replace(step, check=check)


async def _cluster_check(run: StepRun[ClusterContext]) -> None:
    problems, unknown = rolling.cluster_problems(run.ctx.monitor.state)
    for text in unknown:
        run.warn(f"cannot verify replication: {text}")
    if problems:
        raise Refused(
            "the cluster is not healthy enough to restart a node at a time: " + "; ".join(problems),
            forceable=True,
        )
    run.observed("every node runs, sees its peers and is served")


async def _confirmed(run: StepRun[ClusterContext]) -> None:
    names = deploy.todo(run.ctx)
    if not names:
        run.observed("nothing to do: every target is in step with the source")
    else:
        run.observed(f"{', '.join(names)} will be drained, synced and restarted in turn")


def _sync_one(node: str) -> Step[ClusterContext]:
    async def action(run: StepRun[ClusterContext]) -> None:
        await deploy.sync_nodes(run, [node])  # StepFailed when it fails: the run stops here

    return Step(
        f"{node}/sync",
        f"{node}: sync the files from the source while Tomcat is stopped",
        action=action,
        timeout=3600,
        interrupted=deploy.cut_short,
        node=node,
    )


def build(nodes: Sequence[str]) -> Wizard[ClusterContext]:
    """The wizard over these nodes, in this order (the source and nodes in step skipped)."""
    node_steps = rolling.node_steps()
    stopped = len(rolling.DRAIN_STEPS)
    per: list[Step[ClusterContext]] = []
    for node in nodes:
        steps = [per_node(step, node) for step in node_steps[:stopped]]
        steps.append(_sync_one(node))
        steps += [per_node(step, node) for step in node_steps[stopped:]]
        per += [_guarded(step, node) for step in steps]
    preview: Step[ClusterContext] = Step(
        "preview",
        "stage the source and preview every target (added, changed, deleted)",
        check=deploy.sync_check,
        plan=deploy.sync_plan,
        action=_confirmed,
        timeout=600,
    )
    health: Step[ClusterContext] = Step(
        "cluster",
        "check that every node runs and is seen by its peers and that at least two serve",
        check=_cluster_check,
        timeout=60,
    )
    return Wizard(
        name=NAME,
        title=TITLE,
        steps=(deploy.CHECK, health, deploy.LOCK, preview, *per, deploy.VERIFY),
        initial="nothing was changed",
        conclude=deploy.conclude,
    )


__all__ = ["NAME", "QUESTIONS", "TITLE", "build"]
