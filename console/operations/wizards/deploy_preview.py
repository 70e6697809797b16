"""The deploy wizard's preview: the source staged and checked, every target's dry run per
directory (added, changed, deleted, bytes; deletions marked), the changes the operator confirms.
Shared with `deploy-rolling`; the run's facts (plan, previews, outcomes) live in the context.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from console.deploy.sync import (
    DeployError,
    DeployPlan,
    merge,
    prepare_source,
    preview_all,
    would_empty,
)
from console.operations.compose import ClusterContext
from console.operations.engine import Change, Refused, Skip, StepFailed, StepRun
from probes.rsync import Summary

SHOWN_PATHS = 100
"""Paths listed per kind in a preview's request (the counts are always whole)."""


def plan_of(ctx: ClusterContext) -> DeployPlan:
    plan = ctx.facts.get("plan")
    if not isinstance(plan, DeployPlan):
        raise StepFailed("the deploy plan was not made (the check step did not run)")
    return plan


def outcomes_of(ctx: ClusterContext) -> dict[str, str]:
    """Per target: "" when in step, else why not (filled as the run goes)."""
    found = ctx.facts.setdefault("outcomes", {})
    assert isinstance(found, dict)
    return found


def table(name: str, summary: Summary) -> str:
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
    plan = plan_of(ctx)
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
    outcomes = outcomes_of(ctx)
    emptied: list[str] = []
    merged: dict[str, Summary] = {}
    for name, found in previews.items():
        if isinstance(found, str):
            outcomes[name] = f"not synced: {found}"
            run.warn(f"{name} will not be synced: {found}")
            continue
        merged[name] = merge(plan, found)
        for path, part in zip(plan.paths, found, strict=True):
            where = f"{name} {path.label}" if plan.several else name
            run.observed(table(where, part))
            if would_empty(part):
                emptied.append(where)
    ctx.facts["previews"] = merged
    ctx.facts["path_previews"] = {k: v for k, v in previews.items() if not isinstance(v, str)}
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


def request(plan: DeployPlan, name: str, summary: Summary) -> dict[str, Any]:
    return {
        "node": name,
        "source": plan.source_label,
        "target": dict(plan.targets)[name],
        "exclude": list(plan.exclude),
        **({"paths": [path.label for path in plan.paths]} if plan.several else {}),
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
    plan = plan_of(ctx)
    previews: dict[str, Summary] = ctx.facts.get("previews", {})
    changes: list[Change] = []
    for name, summary in previews.items():
        if summary.nothing:
            continue
        changes.append(
            Change(
                f"sync {name}: {table(name, summary).partition(': ')[2]}",
                request(plan, name, summary),
            )
        )
    return changes


def todo(ctx: ClusterContext) -> list[str]:
    """The targets whose preview shows changes (the others are marked in step)."""
    previews: dict[str, Summary] = ctx.facts.get("previews", {})
    outcomes = outcomes_of(ctx)
    for name, summary in previews.items():
        if summary.nothing:
            outcomes[name] = ""
    return [name for name, summary in previews.items() if not summary.nothing]


__all__ = [
    "SHOWN_PATHS",
    "outcomes_of",
    "plan_of",
    "request",
    "sync_check",
    "sync_plan",
    "table",
    "todo",
]
