"""The `rejoin` wizard: bring a drained node back.

Start Tomcat, wait for it to log that it started and for every running peer to see it (and it
them): only then does the balancer get it back, so no user lands on a node whose sessions are
not replicated.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import httpx

from console.cluster import maintenance
from console.cluster.state import ClusterState
from console.operations.common import (
    describe_read_back,
    node_state_known,
    own_events_since,
    peer_events_since,
    plan_all,
    plan_change,
    plan_command,
    read_back,
    refs_or_fail,
    running_peers,
    set_all,
    wait_state,
)
from console.operations.context import NodeContext, WorkerRef
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
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import BalancerError
from probes.http import check as http_check

ENABLE = WorkerChange(drain=False, disabled=False)

QUESTIONS: tuple[Answer, ...] = (
    Answer(
        "start_timeout",
        "seconds",
        180,
        "seconds to wait for Tomcat to log that it started",
    ),
    Answer(
        "membership_timeout",
        "seconds",
        120,
        "seconds to wait for every peer to see the node",
    ),
    Answer(
        "http_timeout",
        "seconds",
        60,
        "seconds to wait for the node's own URL to answer",
    ),
)
ANSWERS = {answer.name: answer.describe() for answer in QUESTIONS}
"""The questions by name, in words (what `--help` and the answers-file errors show)."""


async def _check(run: StepRun[NodeContext]) -> None:
    ctx = run.ctx
    refs = await refs_or_fail(run)
    if not refs:
        raise Refused(
            f"no balancer in the inventory has a worker for {ctx.node.name}: it cannot be "
            "enabled anywhere",
            forceable=True,
        )
    process = await node_state_known(run)
    if process.state == "running":
        run.warn(f"Tomcat on {ctx.node.name} already runs (pid {process.pid}); it is not started")


async def _check_start(run: StepRun[NodeContext]) -> None:
    process = await run.ctx.tomcat()
    if process.state == "running":
        raise Skip(f"Tomcat on {run.ctx.node.name} already runs")


async def _plan_start(run: StepRun[NodeContext]) -> list[Change]:
    ctx = run.ctx
    return plan_command(
        ctx, ctx.node.start, f"start Tomcat on {ctx.node.name} with its start command"
    )


def _started_since(ctx: NodeContext, since: float) -> bool:
    node = ctx.node.name
    return any(
        record.node == node
        and not record.backlog
        and record.at >= since
        and record.event.kind == "server-started"
        for record in ctx.events()
    )


async def _start(run: StepRun[NodeContext]) -> None:
    ctx = run.ctx
    name = ctx.node.name
    since = time.time() - 1.0
    ctx.facts["start_began"] = since
    result = await ctx.run_command(ctx.node.start, step=run.step.name, timeout=60, what="start")
    if result.exit_status != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        raise StepFailed(
            f"the start command on {name} ended with status {result.exit_status}"
            + (f": {detail[0][:200]}" if detail else "")
        )
    began = time.monotonic()
    await wait_state(
        run,
        lambda state: _started_since(ctx, since),
        lambda state: (
            f"{name}'s log to say the server started ({time.monotonic() - began:.0f} s so far)"
        ),
    )
    run.changed(
        f"Tomcat on {name} started", plan_command(ctx, ctx.node.start, f"start Tomcat on {name}")
    )


def _converged(state: ClusterState, ctx: NodeContext) -> list[str]:
    """What is still missing for the node and its running peers to see each other.

    A peer's (or the node's) own log saying `member added` since the start counts, as does the
    membership the state derived: the latter can be cleared by DeltaManager's sync warnings.
    """
    name = ctx.node.name
    specs = state.specs
    since = ctx.facts.get("start_began")
    since = since if isinstance(since, float) else float("inf")
    peers_logged = peer_events_since(state, ctx, "member-joined", since)
    own_logged = own_events_since(state, ctx, "member-joined", since)
    missing: list[str] = []
    view = state.node(name)
    for peer in running_peers(state, ctx):
        if peer not in peers_logged and name not in state.node(peer).sees(specs):
            missing.append(f"{peer} to see {name}" + _unknown_why(state, peer))
        if peer not in own_logged and peer not in view.sees(specs):
            missing.append(f"{name} to see {peer}" + _unknown_why(state, name))
    return missing


def _unknown_why(state: ClusterState, observer: str) -> str:
    """Why an observer's membership cannot be read from the state (empty when it can): then
    only a live `member added` line in its log tells that it sees the node."""
    view = state.node(observer)
    if view.membership_known:
        return ""
    reason = view.membership_unknown_reason or "its log has not told it yet"
    return f" (its membership is unknown: {reason}; waiting for its log to show the member)"


async def _membership(run: StepRun[NodeContext]) -> None:
    ctx = run.ctx
    left = run.seconds_left()
    try:  # ends just before the step's own timeout, to say what was still missing
        async with asyncio.timeout(None if left is None else max(left - 0.5, 0.1)):
            await wait_state(
                run,
                lambda state: not _converged(state, ctx),
                lambda state: "membership to converge: " + ", ".join(_converged(state, ctx)),
            )
    except TimeoutError:
        still = ", ".join(_converged(ctx.monitor.state, ctx))
        raise StepFailed(
            f"membership did not converge in time; still waiting for {still}"
        ) from None
    peers = running_peers(ctx.monitor.state, ctx)
    if not peers:
        run.warn(f"no peer of {ctx.node.name} is running: it serves alone, without replication")
    else:
        run.observed(f"{ctx.node.name} and {', '.join(peers)} see each other")


async def _http(run: StepRun[NodeContext]) -> None:
    ctx = run.ctx
    url = ctx.node.http
    if not url:
        raise Skip(f"{ctx.node.name} has no http URL in the inventory: not checked")
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)) as client:
        while True:
            result = await http_check(client, url)
            if result.ok:
                run.observed(f"{url} answered HTTP {result.status} in {result.ms or 0:.0f} ms")
                return
            run.waiting(
                f"{url} to answer",
                {"status": result.status, "error": result.error},
            )
            await asyncio.sleep(1.0)


async def _enable(run: StepRun[NodeContext]) -> None:
    workers = await set_all(run, ENABLE)
    unusable = [worker.url for worker in workers if worker.usable is False]
    if unusable:
        raise StepFailed(f"enabled, but the balancer shows {', '.join(unusable)} unusable")


async def _httpd_refs(run: StepRun[NodeContext]) -> list[WorkerRef]:
    """The node's workers on httpd balancers with a load factor shown (HAProxy has no such
    counters to reset)."""
    ctx = run.ctx
    return [
        ref
        for ref in await refs_or_fail(run)
        if ctx.actions.config(ref.balancer).kind == "apache" and ref.worker.factor is not None
    ]


async def _check_rebalance(run: StepRun[NodeContext]) -> None:
    if not await _httpd_refs(run):
        raise Skip("no httpd balancer sends to the node: no counters to reset")


def _same_factor(ref: WorkerRef) -> WorkerChange:
    return WorkerChange(factor=ref.worker.factor)


async def _plan_rebalance(run: StepRun[NodeContext]) -> list[Change]:
    return await plan_all(run, _same_factor, await _httpd_refs(run))


async def _rebalance(run: StepRun[NodeContext]) -> None:
    """httpd's byrequests scheduler keeps a counter per worker; while the node was out the
    others' counters moved on and new sessions can stay away from it for a long while.
    Re-posting a worker's load factor (unchanged) makes httpd reset every worker's counter."""
    name = run.ctx.node.name

    def not_reset(ref: WorkerRef, exc: BalancerError) -> None:  # the node serves already
        run.warn(
            f"{ref.label}: the scheduling counters were not reset ({exc}); new sessions may "
            f"reach {name} only after a while"
        )

    await set_all(run, _same_factor, await _httpd_refs(run), on_error=not_reset)


async def _conclude(ctx: NodeContext, status: Status) -> str:
    """The state left, read back; a node found running and served by every balancer is out
    of maintenance (the mark is cleared, audited)."""
    refs, process = await read_back(ctx)
    text = describe_read_back(ctx, refs, process)
    serving = refs and all(
        ref.worker.usable and not ref.worker.draining and not ref.worker.disabled for ref in refs
    )
    if process.state == "running" and serving:
        try:
            cleared = maintenance.clear(
                ctx.inventory.cluster.name, ctx.node.name, audit=ctx.audit, wizard=ctx.wizard
            )
        except maintenance.MaintenanceError as exc:
            text += f". Its maintenance mark could not be cleared: {exc}"
        else:
            text += ". It is out of maintenance" if cleared else ""
    return text


def _left_started(ctx: NodeContext) -> str:
    return (
        f"{ctx.node.name}'s Tomcat runs but its worker is still disabled: no user is sent "
        "there. Run --wizard rejoin again to finish"
    )


def _left_enabled(ctx: NodeContext) -> str:
    return f"{ctx.node.name} is back: Tomcat runs, its peers see it, every balancer sends to it"


WIZARD: Wizard[NodeContext] = Wizard(
    name="rejoin",
    title="bring a drained node back",
    conclude=_conclude,
    initial=lambda ctx: f"nothing was changed: {ctx.node.name} is as it was",
    steps=(
        Step(
            "check",
            "check that the node has a worker on the balancers and whether Tomcat runs",
            check=_check,
            timeout=60,
        ),
        Step(
            "start",
            "start Tomcat with the node's start command and wait until it logs that it started",
            check=_check_start,
            plan=_plan_start,
            action=_start,
            timeout=lambda ctx: float(ctx.answer("start_timeout", 180)),
            left=_left_started,
            interrupted=lambda ctx: (
                f"{ctx.node.name}'s Tomcat may be starting; its worker is still disabled"
            ),
        ),
        Step(
            "membership",
            "wait until every running peer logs the node joining and the node sees them",
            action=_membership,
            timeout=lambda ctx: float(ctx.answer("membership_timeout", 120)),
        ),
        Step(
            "http",
            "check that the node answers on its own URL, bypassing the balancer",
            action=_http,
            timeout=lambda ctx: float(ctx.answer("http_timeout", 60)),
        ),
        Step(
            "enable",
            "enable the worker on every balancer (drain off, disabled off) and read it back",
            plan=plan_change(ENABLE),
            action=_enable,
            timeout=60,
            left=_left_enabled,
            interrupted=lambda ctx: (
                f"{ctx.node.name}'s Tomcat runs; its worker may be enabled on some balancers "
                "only: run --wizard rejoin again"
            ),
        ),
        Step(
            "rebalance",
            "reset httpd's request counters (re-post the node's load factor, unchanged) so new "
            "sessions reach it now rather than after the others' counters catch up",
            check=_check_rebalance,
            plan=_plan_rebalance,
            action=_rebalance,
            timeout=60,
            left=_left_enabled,
            interrupted=_left_enabled,
        ),
    ),
)


def build(nodes: Sequence[str]) -> Wizard[NodeContext]:
    """The wizard (the same for every node: the node is the context's)."""
    return WIZARD
