"""The deploy wizard's sync and verification: the previewed targets synced in parallel, each
audited with its itemized result, then compared by checksum and, for Tomcat's appBase, each
changed application's redeploy read in the node's log and its context asked over HTTP.
"""

from __future__ import annotations

import asyncio
import time

from console.audit import AuditError
from console.deploy.redeploy import log_size, needs_redeploy, verify_redeploy
from console.deploy.sync import NodeResult, Source, checksum_left, sync_all
from console.operations.compose import ClusterContext
from console.operations.engine import Change, Skip, StepFailed, StepRun
from console.operations.wizards.deploy_preview import outcomes_of, plan_of, request, table
from probes.rsync import RsyncError, Summary

WIZARD = "deploy"
PROGRESS_EVERY = 0.5


async def sync_nodes(run: StepRun[ClusterContext], todo: list[str]) -> None:
    """`todo` synced in parallel, each audited; raises StepFailed when every one failed."""
    ctx = run.ctx
    plan = plan_of(ctx)
    source = ctx.facts.get("source")
    assert isinstance(source, Source)
    previews: dict[str, Summary] = ctx.facts.get("previews", {})
    outcomes = outcomes_of(ctx)
    # the log offsets before the sync: the redeploy lines are looked for after them
    sizes = await asyncio.gather(*(log_size(ctx.inventory, ctx.inventory.node(n)) for n in todo))
    ctx.facts.setdefault("log_offsets", {}).update(zip(todo, sizes, strict=True))
    entries = {}
    for name in todo:
        entries[name] = ctx.audit.begin(
            node=name,
            step="sync",
            request=request(plan, name, previews[name]),
            wizard=WIZARD,
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
            table(result.node, summary),
            [Change(f"synced {result.node}", request(plan, result.node, summary))],
        )
    ctx.facts.setdefault("synced", {}).update(synced)
    failed = [r.node for r in results if r.error is not None]
    if failed and not synced:
        raise StepFailed(f"the sync failed on every target ({', '.join(failed)})")


async def verify(run: StepRun[ClusterContext]) -> None:
    ctx = run.ctx
    plan = plan_of(ctx)
    source = ctx.facts.get("source")
    if not isinstance(source, Source):
        raise Skip("nothing was synced")
    previews: dict[str, Summary] = ctx.facts.get("previews", {})
    synced: dict[str, Summary] = ctx.facts.get("synced", {})
    offsets: dict[str, int | None] = ctx.facts.get("log_offsets", {})
    outcomes = outcomes_of(ctx)
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
        if summary is not None and plan.webapps:
            apps = needs_redeploy(summary)
            answering = [app for app in summary.apps() if not gone(app, summary)]
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


def gone(app: str, summary: Summary) -> bool:
    return any(path.strip("/") in (app, f"{app}.war") for path in summary.deleted)


__all__ = ["PROGRESS_EVERY", "sync_nodes", "verify"]
