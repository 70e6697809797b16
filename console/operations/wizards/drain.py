"""The `drain` wizard: take a node out of the balancers without failing a request, then stop it.

Order, measured in the sandbox under sticky load (see the report in CHANGELOG/README): Drain (N)
first, so no new session goes to the node; wait until its Busy is 0; then Disabled (D), so its
sticky users fail over to peers that hold replicated copies of their sessions; wait until no
request is routed there any more; only then stop Tomcat. Stopping a Tomcat that still receives
sticky requests resets connections mid-request, which users see as failed requests.

This module holds the order and the steps that take the node out of the balancers; reading
unloadDelay and stopping Tomcat are in `console.operations.wizards.drain_stop`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from console.cluster import maintenance
from console.cluster.membership import replication_gaps
from console.operations.common import (
    apply_change,
    describe_read_back,
    ensure_workers,
    node_state_known,
    peer_events_since,
    plan_change,
    read_back,
    refs_or_fail,
    running_peers,
    wait_quiet,
    wait_state,
)
from console.operations.context import NodeContext
from console.operations.engine import (
    Refused,
    Status,
    Step,
    StepFailed,
    StepRun,
    Wizard,
)
from console.operations.spec import Answer
from console.operations.wizards.drain_sessions import wait_own_sessions
from console.operations.wizards.drain_stop import (
    check_stop,
    plan_stop,
    read_unload,
    stop_timeout,
    stop_tomcat,
)
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import Worker

DRAIN = WorkerChange(drain=True)
DISABLE = WorkerChange(disabled=True)

QUESTIONS: tuple[Answer, ...] = (
    Answer(
        "drain_timeout",
        "seconds",
        300,
        "seconds to wait for the node's Busy to reach 0 after the drain",
    ),
    Answer(
        "drain_seconds",
        "wait",
        0,
        "seconds to keep the node draining at least, so sessions can end",
    ),
    Answer(
        "idle_timeout",
        "seconds",
        120,
        "seconds to wait for the disabled worker to stop being elected",
    ),
    Answer(
        "stop_margin",
        "wait",
        30,
        "seconds added to unloadDelay when waiting for Tomcat to exit",
    ),
    Answer(
        "member_timeout",
        "seconds",
        60,
        "seconds to wait for every peer to log the member leaving",
    ),
    Answer(
        "context",
        "path",
        None,
        "the application's context path for unloadDelay (from the node's http URL)",
    ),
)
ANSWERS = {answer.name: answer.describe() for answer in QUESTIONS}
"""The questions by name, in words (what `--help` and the answers-file errors show)."""


def _usable_elsewhere(workers: tuple[Worker, ...], ctx: NodeContext) -> list[str]:
    """Other nodes (or worker URLs) a balancer can still send new sessions to."""
    stopped = {view.name for view in ctx.monitor.state.nodes if view.tomcat == "stopped"}
    names: list[str] = []
    for worker in workers:
        node = ctx.node_of(worker)
        if node == ctx.node.name or node in stopped:
            continue
        if worker.usable and not worker.disabled and not worker.draining:
            names.append(node or worker.url)
    return names


async def _check(run: StepRun[NodeContext]) -> None:
    ctx = run.ctx
    name = ctx.node.name
    try:
        pools = await ctx.pools()
    except Exception as exc:
        raise StepFailed(str(exc)) from None
    if not pools:
        raise Refused(
            f"no balancer in the inventory has a worker for {name}: there is nothing to drain",
            forceable=True,
        )
    for (balancer, pool), workers in pools.items():
        others = _usable_elsewhere(workers, ctx)
        if not others:
            raise Refused(
                f"{name} is the last usable worker of balancer://{pool} on {balancer}: "
                "draining it would leave no node to serve users",
                forceable=True,
            )
    process = await node_state_known(run)
    state = ctx.monitor.state
    peers = running_peers(state, ctx)
    if process.state != "running":
        run.warn(f"{name}'s Tomcat is stopped; the drain only changes the balancers")
        return
    if not peers:
        run.warn(f"no peer of {name} is running: sessions on {name} will be lost")
        return
    missing, unknown = replication_gaps(state, peers, [name, *peers])
    if missing:
        run.warn(
            f"replication is not healthy ({'; '.join(missing)}): sessions on {name} "
            "may be lost when its users move to the peers"
        )
    if unknown:
        run.warn(
            f"cannot verify replication: {'; '.join(unknown)}; sessions on {name} are lost "
            "when its users move to a peer that does not hold their copies"
        )


async def _wait_drained(run: StepRun[NodeContext]) -> None:
    await wait_quiet(
        run,
        what=f"{run.ctx.node.name}'s Busy to stay at 0 (sticky users are still served)",
        still_elected_ok=True,
        min_seconds=float(run.ctx.answer("drain_seconds", 0)),
        keep=(DRAIN, "drain"),
    )


async def _wait_idle(run: StepRun[NodeContext]) -> None:
    await wait_quiet(
        run,
        what=f"the balancers to stop sending requests to {run.ctx.node.name}",
        still_elected_ok=False,
        keep=(DISABLE, "disable"),
    )
    # sessions no peer holds a copy of (not replicated): wait for them to end or stop falling
    await wait_own_sessions(run)


async def _verify(run: StepRun[NodeContext]) -> None:
    ctx = run.ctx
    name = ctx.node.name
    since = ctx.facts.get("stop_began")
    if isinstance(since, float):
        peers = running_peers(ctx.monitor.state, ctx)
        since -= 1.0

        def all_logged(state: object) -> bool:
            seen = peer_events_since(ctx.monitor.state, ctx, "member-left", since)
            return all(peer in seen for peer in peers)

        def what(state: object) -> str:
            seen = peer_events_since(ctx.monitor.state, ctx, "member-left", since)
            waiting = [peer for peer in peers if peer not in seen]
            return f"{', '.join(waiting)} to log {name} leaving the cluster"

        timeout = float(ctx.answer("member_timeout", 60))
        try:
            async with asyncio.timeout(timeout):
                await wait_state(run, all_logged, what)
        except TimeoutError:
            raise StepFailed(f"not every peer logged {name} leaving within {timeout:g} s") from None
        if peers:
            run.observed(f"{', '.join(peers)} logged {name} leaving the cluster")
    first = {ref.label: ref.worker.elected for ref in await refs_or_fail(run)}
    await asyncio.sleep(1.0)
    refs = await refs_or_fail(run)
    grew = [ref.label for ref in refs if ref.worker.elected != first.get(ref.label)]
    if grew:
        raise StepFailed(f"{name} is still elected on {', '.join(grew)}")
    await ensure_workers(run, DISABLE, "disable")


async def _conclude(ctx: NodeContext, status: Status) -> str:
    """The state left, read back; a node found stopped and disabled everywhere is marked in
    maintenance (audited), so the console shows it as such rather than as an alarm."""
    refs, process = await read_back(ctx)
    text = describe_read_back(ctx, refs, process)
    if process.state == "stopped" and refs and all(ref.worker.disabled for ref in refs):
        try:
            maintenance.mark(
                ctx.inventory.cluster.name,
                ctx.node.name,
                f"drained and stopped by the drain wizard ({status})",
                ctx.audit.operator,
                audit=ctx.audit,
                wizard=ctx.wizard,
            )
        except maintenance.MaintenanceError as exc:
            text += f". It could not be marked in maintenance: {exc}"
        else:
            text += ". It is marked in maintenance (no alarm) until then"
    return text


def _left_drained(ctx: NodeContext) -> str:
    return f"{ctx.node.name} is drained (no new sessions) and still serves its sticky users"


def _left_disabled(ctx: NodeContext) -> str:
    return (
        f"{ctx.node.name} is disabled on its balancers (no request goes there); its Tomcat "
        "still runs. Bring it back with --wizard rejoin"
    )


def _left_stopping(ctx: NodeContext) -> str:
    return (
        f"{ctx.node.name} is disabled on its balancers; its Tomcat may still be stopping "
        "(see `clusterconsole status`). Bring it back with --wizard rejoin"
    )


def _left_stopped(ctx: NodeContext) -> str:
    return (
        f"{ctx.node.name}'s Tomcat is stopped and its worker disabled on every balancer. "
        "Bring it back with --wizard rejoin"
    )


WIZARD: Wizard[NodeContext] = Wizard(
    name="drain",
    title="drain and shut down a node",
    conclude=_conclude,
    steps=(
        Step(
            "check",
            "check that every balancer keeps another usable worker and that the peers "
            "replicate sessions",
            check=_check,
            timeout=60,
        ),
        Step(
            "drain",
            "set the worker to Drain (N) on every balancer: no new sessions go to the node",
            plan=plan_change(DRAIN),
            action=apply_change(DRAIN),
            timeout=60,
            left=_left_drained,
            interrupted=_left_drained,
        ),
        Step(
            "wait-drained",
            "wait until the node's Busy stays at 0 (its sticky users are still served)",
            action=_wait_drained,
            timeout=lambda ctx: float(ctx.answer("drain_timeout", 300)),
        ),
        Step(
            "disable",
            "set the worker to Disabled (D): its sticky users move to peers holding "
            "replicated copies of their sessions",
            plan=plan_change(DISABLE),
            action=apply_change(DISABLE),
            timeout=60,
            left=_left_disabled,
            interrupted=_left_disabled,
        ),
        Step(
            "wait-idle",
            "wait until the balancers send no request to the node (Busy 0, Elected still)",
            action=_wait_idle,
            timeout=lambda ctx: float(ctx.answer("idle_timeout", 120)),
        ),
        Step(
            "unload-delay",
            "read the application's unloadDelay from the node's context configuration",
            action=read_unload,
            timeout=60,
        ),
        Step(
            "stop",
            "stop Tomcat with the node's stop command and wait for the process to exit",
            check=check_stop,
            plan=plan_stop,
            action=stop_tomcat,
            timeout=stop_timeout,
            left=_left_stopped,
            interrupted=_left_stopping,
        ),
        Step(
            "verify",
            "verify that the peers logged the member leaving and the worker is no longer "
            "elected, and keep it disabled",
            action=_verify,
            timeout=lambda ctx: float(ctx.answer("member_timeout", 60)) + 60,
        ),
    ),
)


def build(nodes: Sequence[str]) -> Wizard[NodeContext]:
    """The wizard (the same for every node: the node is the context's)."""
    return WIZARD
