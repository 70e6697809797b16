"""The drain wizard's shutdown: read the node's unloadDelay, then stop Tomcat within it.

The stop waits for the process to exit for unloadDelay plus a margin; past that budget it kills
the process only with ``force``. Nothing is stopped before the node is out of the balancers: the
steps before these (in `console.operations.wizards.drain`) see to that.
"""

from __future__ import annotations

import asyncio
import time

from console.operations.common import ensure_workers, plan_command, wait_quiet
from console.operations.context import NodeContext
from console.operations.engine import Change, Skip, StepFailed, StepRun
from console.operations.wizards.unload import (
    TOMCAT_DEFAULT_MS,
    UnloadDelay,
    candidate_files,
    context_path,
    effective,
    read_command,
    split_output,
)
from probes.balancer.httpd_client import WorkerChange
from probes.ssh.connection import SshCommandError

DISABLE = WorkerChange(disabled=True)

COMMAND_GRACE = 10.0
"""Seconds the stop command may still take once the JVM is gone."""


async def read_unload(run: StepRun[NodeContext]) -> None:
    """Read the application's unloadDelay into `ctx.facts`; when it cannot be read, assume one."""
    ctx = run.ctx
    context = str(ctx.answer("context", context_path(ctx.node.http)))
    files = candidate_files(ctx.node.catalina_base, context)
    expected = ctx.inventory.profile.expected_unload_delay_ms
    try:
        result = await ctx.open_session().exec(read_command(files), timeout=30)
    except SshCommandError as exc:
        delay = UnloadDelay(max(expected, TOMCAT_DEFAULT_MS), None, str(exc))
        run.warn(f"could not read unloadDelay ({exc}); assuming {delay.ms} ms")
    else:
        delay = effective(files, split_output(result.stdout))
    ctx.facts["unload_delay"] = delay
    if delay.problem:
        run.warn(delay.problem)
    run.observed(f"unloadDelay of {context} on {ctx.node.name}: {delay.describe}")
    if delay.ms <= TOMCAT_DEFAULT_MS < expected:
        run.warn(
            f"unloadDelay is Tomcat's default {delay.ms} ms but the "
            f"{ctx.inventory.profile.name} profile expects {expected} ms: requests still in "
            "flight when the application stops may be cut off"
        )


def _stop_budget(ctx: NodeContext) -> float:
    delay = ctx.facts.get("unload_delay")
    ms = (
        delay.ms
        if isinstance(delay, UnloadDelay)
        else ctx.inventory.profile.expected_unload_delay_ms
    )
    return ms / 1000 + float(ctx.answer("stop_margin", 30))


async def check_stop(run: StepRun[NodeContext]) -> None:
    """Nothing to stop when Tomcat is already stopped; a failure when that cannot be seen."""
    process = await run.ctx.tomcat()
    if process.state == "stopped":
        raise Skip(f"Tomcat on {run.ctx.node.name} is already stopped")
    if process.state == "unknown":
        raise StepFailed(
            f"cannot tell whether Tomcat runs on {run.ctx.node.name} "
            f"({process.reason or 'no answer'}): it was not stopped"
        )


async def plan_stop(run: StepRun[NodeContext]) -> list[Change]:
    """The node's stop command, as it will be run."""
    ctx = run.ctx
    return plan_command(ctx, ctx.node.stop, f"stop Tomcat on {ctx.node.name} with its stop command")


async def stop_tomcat(run: StepRun[NodeContext]) -> None:
    """Run the stop command and wait for the JVM to exit within unloadDelay plus the margin."""
    ctx = run.ctx
    name = ctx.node.name
    # Right before stopping: the worker must still be disabled everywhere. A graceful httpd
    # restart without BalancerPersist resets it and users flow to the node again.
    if await ensure_workers(run, DISABLE, "disable"):
        await wait_quiet(
            run,
            what=f"the balancers to stop sending requests to {name} again",
            still_elected_ok=False,
            keep=(DISABLE, "disable"),
        )
    budget = _stop_budget(ctx)
    began = time.monotonic()
    ctx.facts["stop_began"] = time.time()
    command = asyncio.create_task(
        ctx.run_command(ctx.node.stop, step=run.step.name, timeout=budget, what="stop Tomcat")
    )
    try:
        while True:
            process = await ctx.tomcat()
            elapsed = time.monotonic() - began
            if process.state == "stopped":
                run.changed(
                    f"Tomcat on {name} stopped after {elapsed:.1f} s",
                    plan_command(ctx, ctx.node.stop, f"stop Tomcat on {name}"),
                )
                # The stop command usually returns right after the JVM exits: let it finish,
                # so the audit log records its exit status rather than an interruption.
                await asyncio.wait({command}, timeout=COMMAND_GRACE)
                return
            if elapsed >= budget:
                break
            if process.state == "unknown":
                run.waiting(
                    f"Tomcat's state on {name} to be readable ({process.reason})",
                    {"seconds": round(elapsed, 1)},
                )
                await asyncio.sleep(0.5)
                continue
            run.waiting(
                f"Tomcat on {name} to exit (unloadDelay plus margin: {budget:g} s)",
                {"seconds": round(elapsed, 1), "pid": process.pid},
            )
            await asyncio.sleep(0.5)
    finally:
        if command.done():
            if not command.cancelled() and command.exception() is not None:
                run.warn(f"the stop command failed: {command.exception()}")
        else:
            command.cancel()
            await asyncio.gather(command, return_exceptions=True)
    pid = process.pid
    if process.state == "unknown":
        raise StepFailed(
            f"whether Tomcat on {name} stopped cannot be seen ({process.reason}) after "
            f"{budget:g} s; it is out of the balancers, so no user is affected"
        )
    if not run.force:
        raise StepFailed(
            f"Tomcat on {name} did not stop within {budget:g} s (pid {pid} still runs); "
            "it is out of the balancers, so no user is affected; stop it by hand or run "
            "again with --force to kill it"
        )
    run.warn(f"Tomcat on {name} did not stop within {budget:g} s: killing pid {pid} (--force)")
    kill = f"kill -9 {int(pid or 0)}"
    await ctx.run_command(kill, step="kill", timeout=15, what="kill Tomcat")
    for _ in range(40):
        if (await ctx.tomcat()).state == "stopped":
            run.changed(
                f"Tomcat on {name} was killed", plan_command(ctx, kill, f"kill Tomcat on {name}")
            )
            return
        await asyncio.sleep(0.5)
    raise StepFailed(f"Tomcat on {name} (pid {pid}) still runs after kill -9")


def stop_timeout(ctx: NodeContext) -> float:
    """The stop step's time limit: its wait budget and a minute more for a kill."""
    return _stop_budget(ctx) + 60.0
