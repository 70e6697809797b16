"""The `rolling-restart` wizard: restart every node (or the ones given), one after the other,
without failing a request.

For each node in turn, in inventory order or the order given: the drain wizard's steps (drain,
wait until Busy is 0, disable, wait until nothing is routed there, read unloadDelay, stop,
verify the peers logged it leaving), then the rejoin wizard's steps (start, wait for membership
to converge), a wait for the node to log that it received the session state from its peers,
then the rest of rejoin (its own URL answers, enable, reset httpd's counters). Only then the
next node: its sticky users fail over to peers that all hold copies of their sessions.

It refuses to start when the cluster is not healthy (a node down or unseen, membership split or
a peer that does not see another, fewer than two serving nodes, a balancer that cannot be read)
unless forced, and stops at the first failure; the state it leaves is read back for every node.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import replace

from console.cluster.membership import partitions, replication_gaps, serving_nodes
from console.cluster.state import ClusterState
from console.operations.common import describe_read_back, read_back, wait_state
from console.operations.compose import ClusterContext, steps_per_node
from console.operations.context import NodeContext
from console.operations.engine import Refused, Status, Step, StepFailed, StepRun, Wizard
from console.operations.spec import Answer, merged
from console.operations.wizards import drain, rejoin

NAME = "rolling-restart"
OWN_QUESTIONS: tuple[Answer, ...] = (
    Answer(
        "state_timeout",
        "seconds",
        60,
        "seconds to wait for a restarted node to log that it received the session state",
    ),
)
QUESTIONS = merged(drain.QUESTIONS, rejoin.QUESTIONS, OWN_QUESTIONS)
DRAIN_STEPS = tuple(step for step in drain.WIZARD.steps)
"""Every step of the drain wizard, its own check included (last usable worker, replication)."""
REJOIN_BEFORE_STATE = ("start", "membership")
REJOIN_AFTER_STATE = ("http", "enable", "rebalance")


def _rejoin_steps(names: Sequence[str]) -> tuple[Step[NodeContext], ...]:
    by_name = {step.name: _planned_after_stop(step) for step in rejoin.WIZARD.steps}
    return tuple(by_name[name] for name in names)


def _planned_after_stop(step: Step[NodeContext]) -> Step[NodeContext]:
    """In a dry run the node still runs when the rejoin's checks are asked, though the drain's
    stop would have stopped it by then: a dry run shows the start it would make instead of
    skipping it as "already runs"."""
    check = step.check
    if step.name != "start" or check is None:
        return step
    real_check = check

    async def unless_planning(run: StepRun[NodeContext]) -> None:
        if not run.dry_run:
            await real_check(run)

    return replace(step, check=unless_planning)


def cluster_problems(state: ClusterState) -> tuple[list[str], list[str]]:
    """(why the cluster is not healthy enough to restart a node at a time, what cannot be
    verified). Every inventory node counts, not only the chosen ones: a node down elsewhere
    leaves fewer peers to take the users over."""
    problems: list[str] = []
    running: list[str] = []
    for view in state.nodes:
        if view.ssh != "up":
            problems.append(f"{view.name} cannot be reached over SSH ({view.ssh})")
        elif view.tomcat != "running":
            problems.append(f"{view.name}'s Tomcat is {view.tomcat}")
        else:
            running.append(view.name)
    groups = partitions(state)
    if len(groups) > 1:
        shown = " | ".join(", ".join(sorted(group)) for group in groups)
        problems.append(f"the membership is split into {len(groups)} groups ({shown})")
    missing, unknown = replication_gaps(state, running, running)
    problems += missing
    serving = sorted(serving_nodes(state))
    if len(serving) < 2:
        problems.append(
            f"fewer than two nodes are serving ({', '.join(serving) or 'none'}): a restart "
            "would leave no node to take the users over"
        )
    for balancer in state.balancers:
        if balancer.reachable is False:
            why = balancer.error or "no answer"
            problems.append(f"balancer {balancer.name} cannot be read ({why})")
    return problems, unknown


async def _check_cluster(run: StepRun[ClusterContext]) -> None:
    ctx = run.ctx
    problems, unknown = cluster_problems(ctx.monitor.state)
    for text in unknown:
        run.warn(f"cannot verify replication: {text}")
    if problems:
        raise Refused(
            "the cluster is not healthy enough for a rolling restart: " + "; ".join(problems),
            forceable=True,
        )
    run.observed(
        f"every node runs, sees its peers and is served; restarting {', '.join(ctx.nodes)} "
        "one at a time"
    )


def _state_received(state: ClusterState, ctx: NodeContext, since: float) -> str | None:
    """The last session-state outcome the node logged since `since` (received, timed-out,
    skipped), or None."""
    found: str | None = None
    for record in ctx.events():
        if record.backlog or record.at < since or record.node != ctx.node.name:
            continue
        if record.event.kind == "session-sync" and record.event.detail != "requested":
            found = record.event.detail or "received"
    return found


async def _session_state(run: StepRun[NodeContext]) -> None:
    """The restarted node received the sessions of its peers (DeltaManager's state transfer):
    else the next node's users would fail over to a node without their sessions."""
    ctx = run.ctx
    name = ctx.node.name
    since = ctx.facts.get("start_began")
    since = since if isinstance(since, float) else time.time()
    timeout = float(ctx.answer("state_timeout", 60))
    try:
        async with asyncio.timeout(timeout):
            state = await wait_state(
                run,
                lambda state: _state_received(state, ctx, since) is not None,
                lambda state: f"{name}'s log to say it received the session state of its peers",
            )
    except TimeoutError:
        raise StepFailed(
            f"{name} logged no session state transfer within {timeout:g} s: its peers' "
            "sessions may be missing there, so the restart stops before the next node"
        ) from None
    outcome = _state_received(state, ctx, since)
    if outcome != "received":
        raise StepFailed(
            f"{name}'s session state transfer ended {outcome}: its peers' sessions are "
            "missing there, so the restart stops before the next node"
        )
    run.observed(f"{name} received the session state of its peers")


SESSION_STATE: Step[NodeContext] = Step(
    "session-state",
    "wait until the node logs that it received the session state from its peers",
    action=_session_state,
    timeout=lambda ctx: float(ctx.answer("state_timeout", 60)) + 5,
)


def node_steps() -> tuple[Step[NodeContext], ...]:
    """One node's restart, in order."""
    return (
        *DRAIN_STEPS,
        *_rejoin_steps(REJOIN_BEFORE_STATE),
        SESSION_STATE,
        *_rejoin_steps(REJOIN_AFTER_STATE),
    )


async def _conclude(ctx: ClusterContext, status: Status) -> str:
    """Every chosen node read back: its workers and its Tomcat."""
    contexts = [ctx.node_context(name) for name in ctx.nodes]
    reads = await asyncio.gather(*(read_back(node) for node in contexts))
    return "; ".join(
        f"{node.node.name}: {describe_read_back(node, refs, process)}"
        for node, (refs, process) in zip(contexts, reads, strict=True)
    )


def build(nodes: Sequence[str]) -> Wizard[ClusterContext]:
    """The wizard for these nodes, in this order."""
    check: Step[ClusterContext] = Step(
        "check",
        "check that every node runs and is seen by its peers, that membership is one group "
        "and that at least two nodes serve",
        check=_check_cluster,
        timeout=60,
    )
    return Wizard(
        name=NAME,
        title="restart every node, one at a time",
        steps=(check, *steps_per_node(nodes, node_steps())),
        initial=lambda ctx: "nothing was changed",
        conclude=_conclude,
    )


__all__ = ["NAME", "QUESTIONS", "build", "cluster_problems", "node_steps"]
