"""Pieces the node wizards share: changing the node's worker on every balancer, waiting for it to
go quiet, and waiting on the monitor's view of the cluster."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from console.cluster.state import ClusterState, NodeEvent
from console.cluster.topology import member_node
from console.operations.context import NodeContext, WorkerRef, describe_refs
from console.operations.engine import Change, PlanFn, Refused, StepFailed, StepFn, StepRun
from console.operations.stale_busy import StaleBusy
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import BalancerError, Worker
from probes.process import TomcatProcess

POLL = 0.5
"""Seconds between balancer reads while waiting."""
QUIET_READS = 3
"""Consecutive quiet reads needed (with QUIET_SECONDS) before a worker counts as idle."""
QUIET_SECONDS = 1.0
STICKY_PATIENCE = 20.0
"""Seconds (past the operator's drain time) a drained node that still serves its sticky users
may go without one read of Busy 0 before the wait ends anyway: a node with many users under
steady load may never show 0 between requests, and disabling it next is safe either way (the
requests in flight finish, the next ones go to the peers that hold the sessions)."""
_now = time.monotonic
"""The clock of the waits (a test replaces it)."""


async def refs_or_fail(run: StepRun[NodeContext]) -> list[WorkerRef]:
    """The node's workers, read fresh; StepFailed with the balancer's sentence if unreadable."""
    try:
        return await run.ctx.workers()
    except BalancerError as exc:
        raise StepFailed(str(exc)) from None


def plan_command(ctx: NodeContext, command: str, what: str) -> list[Change]:
    """The change of running ``command`` on the node over SSH (for dry runs and confirms)."""
    target = ctx.open_session().target
    request = {"ssh": target.address, "command": command}
    return [Change(what, request)]


async def plan_all(
    run: StepRun[NodeContext],
    change: WorkerChange | Callable[[WorkerRef], WorkerChange],
    refs: list[WorkerRef] | None = None,
) -> list[Change]:
    """The exact request for `change` (or the change for each worker) on every worker of the
    node, or on `refs`."""
    ctx = run.ctx
    changes: list[Change] = []
    for ref in refs if refs is not None else await refs_or_fail(run):
        wanted = change(ref) if callable(change) else change
        try:
            planned = await ctx.actions.plan(ref.balancer, ref.worker.url, wanted, pool=ref.pool)
        except BalancerError as exc:
            raise StepFailed(str(exc)) from None
        what = f"set {planned.change} for {ctx.node.name} on {ref.label}"
        changes.append(Change(what, planned.request))
    return changes


async def set_all(
    run: StepRun[NodeContext],
    change: WorkerChange | Callable[[WorkerRef], WorkerChange],
    refs: list[WorkerRef] | None = None,
    *,
    on_error: Callable[[WorkerRef, BalancerError], None] | None = None,
) -> list[Worker]:
    """Apply `change` (or the change for each worker) on every worker of the node, or on
    `refs`, audited and read back. A balancer error fails the step, unless `on_error` takes it
    (then the other workers are still changed)."""
    ctx = run.ctx
    seen: list[Worker] = []
    for ref in refs if refs is not None else await refs_or_fail(run):
        wanted = change(ref) if callable(change) else change
        try:
            planned, worker = await ctx.actions.change_worker(
                ref.balancer,
                ref.worker.url,
                wanted,
                pool=ref.pool,
                node=ctx.node.name,
                wizard=ctx.wizard,
                step=run.step.name,
            )
        except BalancerError as exc:
            if on_error is None:
                raise StepFailed(str(exc)) from None
            on_error(ref, exc)
            continue
        run.changed(
            f"{ref.label}: {wanted.describe()}; the balancer now shows {worker.status}",
            [Change(f"set {planned.change} for {ctx.node.name} on {ref.label}", planned.request)],
        )
        seen.append(worker)
    return seen


def plan_change(change: WorkerChange) -> PlanFn[NodeContext]:
    """A step's plan: the exact request for `change` on every worker of the node."""

    async def plan(run: StepRun[NodeContext]) -> list[Change]:
        return await plan_all(run, change)

    return plan


def apply_change(change: WorkerChange) -> StepFn[NodeContext]:
    """A step's action: `change` on every worker of the node, audited and read back."""

    async def action(run: StepRun[NodeContext]) -> None:
        await set_all(run, change)

    return action


async def wait_quiet(
    run: StepRun[NodeContext],
    *,
    what: str,
    still_elected_ok: bool,
    min_seconds: float = 0.0,
    keep: tuple[WorkerChange, str] | None = None,
) -> None:
    """Wait until every worker of the node shows Busy 0 on QUIET_READS consecutive reads spanning
    QUIET_SECONDS and its Elected count stops growing.

    While the node still serves its sticky users (`still_elected_ok`), one read with Busy 0 is
    enough: under steady sticky load Busy is 0 only between requests, and whether three reads in
    a row catch that depends on the load and the machine, not on the drain (a slow run never got
    there in 300 s). A node whose users keep it busy on every read (a busy node, a slow machine)
    ends the wait STICKY_PATIENCE seconds after `min_seconds`, saying so. The strict test comes
    once nothing is routed to the node any more.

    Once nothing is routed to the node, a Busy count that stays the same, above 0, for
    STALE_AFTER seconds with Elected not moving may be httpd's stale count: the node's Tomcat is
    asked, and when it serves no request the wait ends, saying so.

    `keep` (a change and its name): on every read, a worker that no longer shows the change
    (undone under the wizard) gets it again, audited, and the count of quiet reads restarts."""
    needed_reads, needed_span = (1, 0.0) if still_elected_ok else (QUIET_READS, QUIET_SECONDS)
    began = _now()
    quiet_since: float | None = None
    quiet_reads = 0
    last: dict[str, int | None] = {}
    last_at = began
    stale = StaleBusy(run)
    while True:
        refs = await refs_or_fail(run)
        if keep is not None and not all(keeps(ref.worker, keep[0]) for ref in refs):
            await ensure_workers(run, *keep)
            quiet_reads, quiet_since, last = 0, None, {}
            stale = StaleBusy(run)
            continue
        now = _now()
        busy = {ref.label: ref.worker.busy for ref in refs}
        elected = {ref.label: ref.worker.elected for ref in refs}
        rates = {
            label: round(((count or 0) - (last.get(label) or 0)) / max(now - last_at, 1e-3), 1)
            for label, count in elected.items()
            if label in last
        }
        grew = any(rate > 0 for rate in rates.values()) or not rates
        quiet = all(value == 0 for value in busy.values()) and (still_elected_ok or not grew)
        if quiet:
            quiet_reads += 1
            quiet_since = quiet_since if quiet_since is not None else now
        else:
            quiet_reads, quiet_since = 0, None
        figures: dict[str, object] = {
            "busy": sum(value or 0 for value in busy.values()),
            "elected_per_s": sum(rates.values()) if rates else None,
            "quiet_reads": quiet_reads,
            "seconds": round(now - began, 1),
        }
        stuck = not still_elected_ok and not quiet and not grew and any(busy.values())
        if await stale.settled(busy if stuck else None, now, figures):
            return
        run.waiting(what, figures)
        if (
            quiet_since is not None
            and quiet_reads >= needed_reads
            and now - quiet_since >= needed_span
            and now - began >= min_seconds
        ):
            return
        if still_elected_ok and now - began >= min_seconds + STICKY_PATIENCE:
            run.observed(
                f"{run.ctx.node.name} still serves its sticky users (Busy "
                f"{figures['busy']} on every read for {now - began:.0f} s): going on, the "
                "requests in flight finish and the next ones go to the peers"
            )
            return
        last, last_at = elected, now
        await asyncio.sleep(POLL)


def worker_words(worker: Worker) -> str:
    """What a worker's flags mean for users, in words."""
    if worker.disabled:
        return "disabled (no request goes there)"
    if worker.draining:
        return "drained (no new sessions) and still serving its sticky users"
    if worker.usable:
        return "serving"
    return "not usable"


def keeps(worker: Worker, change: WorkerChange) -> bool:
    """Whether the worker still shows what `change` set (drain on: draining or disabled, which
    HAProxy's maint replaces drain with; disabled on: disabled)."""
    if change.disabled and not worker.disabled:
        return False
    return not (change.drain and not (worker.draining or worker.disabled))


async def ensure_workers(run: StepRun[NodeContext], change: WorkerChange, what: str) -> bool:
    """Re-read the node's workers right before a step that depends on `change`; re-apply it
    (audited, read back) where it was undone under the wizard, or fail the step. True when
    something had to be re-applied."""
    ctx = run.ctx
    undone = [ref for ref in await refs_or_fail(run) if not keeps(ref.worker, change)]
    if not undone:
        return False
    shown = "; ".join(f"{ref.label} shows {ref.worker.status}" for ref in undone)
    run.warn(
        f"the {what} of {ctx.node.name} was undone under the wizard ({shown}; e.g. a "
        "graceful restart of httpd without BalancerPersist): applying it again"
    )
    await set_all(run, change, undone)
    still = [ref for ref in await refs_or_fail(run) if not keeps(ref.worker, change)]
    if still:
        shown = "; ".join(f"{ref.label} shows {ref.worker.status}" for ref in still)
        raise StepFailed(f"the {what} of {ctx.node.name} does not hold: {shown}")
    return True


async def read_back(ctx: NodeContext) -> tuple[list[WorkerRef], TomcatProcess]:
    """A fresh read of the node's workers and of its Tomcat, side by side."""
    refs, process = await asyncio.gather(ctx.workers(), ctx.tomcat(timeout=10.0))
    return refs, process


def describe_read_back(ctx: NodeContext, refs: list[WorkerRef], process: TomcatProcess) -> str:
    """The node's state as read: each balancer's worker, and its Tomcat."""
    name = ctx.node.name
    shown = [
        f"{ref.label} shows {name} {worker_words(ref.worker)} ({ref.worker.status})" for ref in refs
    ]
    balancers = "; ".join(shown) if shown else f"no balancer has a worker for {name}"
    if process.state == "running":
        tomcat = "its Tomcat runs" + (f" (pid {process.pid})" if process.pid else "")
    elif process.state == "stopped":
        tomcat = "its Tomcat is stopped"
    else:
        tomcat = f"whether its Tomcat runs is unknown ({process.reason or 'not readable'})"
    text = f"{balancers}; {tomcat}"
    out = any(not ref.worker.usable or ref.worker.draining or ref.worker.disabled for ref in refs)
    if out or process.state == "stopped":
        text += ". Bring it back with --wizard rejoin"
    return text


async def node_state_known(run: StepRun[NodeContext]) -> TomcatProcess:
    """Whether the node's Tomcat runs, read now over SSH. Not knowing is a refusal (forceable):
    a wizard that cannot see the node would take a possibly healthy, serving node out of the
    balancers, then fail to stop it."""
    ctx = run.ctx
    name = ctx.node.name
    view = ctx.monitor.state.node(name)
    if view.ssh in ("host-key-mismatch", "host-key-unknown", "auth-failed"):
        process = TomcatProcess("unknown", reason=f"SSH {view.ssh}: {view.ssh_reason or ''}")
    else:
        process = await ctx.tomcat()
    if process.state == "unknown":
        raise Refused(
            f"{name}'s state is unknown: {(process.reason or 'SSH does not answer').strip(': ')}. "
            f"Without it the {ctx.wizard} wizard could change the balancers of a node that may "
            "be serving users and then fail to stop or start its Tomcat; fix SSH to the node "
            "first (--force changes the balancers regardless)",
            forceable=True,
        )
    return process


def peer_events_since(
    state: ClusterState, ctx: NodeContext, kind: str, since: float
) -> dict[str, NodeEvent]:
    """The first live `kind` event naming this node logged by each peer after `since` (from the
    run's journal: every event since the run began, not only the state's recent ones)."""
    found: dict[str, NodeEvent] = {}
    for record in ctx.events():
        if record.backlog or record.at < since or record.node == ctx.node.name:
            continue
        event = record.event
        if event.kind != kind or event.member is None:
            continue
        if member_node(event.member, state.specs) == ctx.node.name:
            found.setdefault(record.node, record)
    return found


def own_events_since(state: ClusterState, ctx: NodeContext, kind: str, since: float) -> set[str]:
    """The peers this node's own log named in live `kind` events after `since`."""
    found: set[str] = set()
    for record in ctx.events():
        if record.backlog or record.at < since or record.node != ctx.node.name:
            continue
        if record.event.kind == kind and record.event.member is not None:
            peer = member_node(record.event.member, state.specs)
            if peer is not None:
                found.add(peer)
    return found


def running_peers(state: ClusterState, ctx: NodeContext) -> list[str]:
    return [
        view.name for view in state.nodes if view.name != ctx.node.name and view.tomcat == "running"
    ]


async def wait_state(
    run: StepRun[NodeContext],
    predicate: Callable[[ClusterState], bool],
    what: Callable[[ClusterState], str],
) -> ClusterState:
    """Wait until the monitor's state satisfies `predicate`, reporting `what` it waits for."""
    monitor = run.ctx.monitor
    while True:
        state = monitor.state
        if predicate(state):
            return state
        run.waiting(what(state))
        try:
            return await monitor.wait_for(predicate, 2.0)
        except TimeoutError:
            continue


__all__ = [
    "describe_read_back",
    "describe_refs",
    "ensure_workers",
    "keeps",
    "node_state_known",
    "own_events_since",
    "peer_events_since",
    "plan_all",
    "read_back",
    "refs_or_fail",
    "running_peers",
    "set_all",
    "wait_quiet",
    "wait_state",
    "worker_words",
]
