"""The balancer screen's worker changes: each is planned, confirmed, applied and notified.

A change (drain, disable, standby, load factor) is planned by `WorkerActions.plan` (the exact
request is shown in a `ConfirmScreen`), applied by `WorkerActions.set_worker` (which audits and
reads back), and its outcome notified; every failure becomes a notification. These keys exist only
in the interactive session, never in watch mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen

from console.audit import AuditError
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import BalancerError, Worker
from screens.confirm import ConfirmScreen
from screens.widgets.common import is_interactive, safe

ACTION_BINDINGS: tuple[Binding, ...] = (
    Binding("d", "drain", "Drain/undrain", id="balancer.drain"),
    Binding("x", "disable", "Disable/enable", id="balancer.disable"),
    Binding("s", "standby", "Standby on/off", id="balancer.standby"),
    Binding("f", "factor", "Factor (load)", id="balancer.factor"),
)
ACTIONS = frozenset(binding.action for binding in ACTION_BINDINGS)
REDACTED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


@dataclass(frozen=True, slots=True)
class Target:
    """The worker a change is for, named the way `WorkerActions` wants it."""

    balancer: str
    pool: str
    url: str
    node: str | None
    worker: Worker


def status_text(worker: Worker) -> Text:
    """The worker's state as a word (and colour), then httpd's own status text."""
    if worker.usable is None:
        text = Text("unknown", style="dim")
    elif worker.disabled:
        text = Text("DISABLED", style="bold red")
    elif not worker.usable:
        text = Text("UNUSABLE", style="bold red")
    elif worker.draining:
        text = Text("DRAINING", style="bold yellow")
    elif worker.standby:
        text = Text("standby", style="cyan")
    else:
        text = Text("serving", style="green")
    if worker.status:
        text.append(" ").append(safe(worker.status, "dim", limit=60))
    return text


def describe_plan(planned: Any) -> Text:
    """The confirmation body: what will be changed, and the exact request."""
    text = Text()
    text.append("balancer ", style="bold").append(safe(getattr(planned, "balancer", "?")))
    text.append("  pool ", style="bold").append(safe(getattr(planned, "pool", None) or "-"))
    text.append("\nworker ", style="bold").append(safe(getattr(planned, "worker", "?")))
    text.append("\nchange ", style="bold").append(safe(getattr(planned, "change", "?")))
    request = getattr(planned, "request", None)
    if isinstance(request, dict):
        text.append("\n\nrequest", style="bold underline")
        for key, value in request.items():
            if key == "headers" and isinstance(value, dict):
                text.append("\nheaders:", style="bold")
                for name, header in value.items():
                    shown = "(hidden)" if str(name).lower() in REDACTED_HEADERS else header
                    text.append("\n  ").append(safe(f"{name}: {shown}", limit=300))
            elif key == "form" and isinstance(value, list):
                text.append("\nform:", style="bold")
                for pair in value:
                    field = (
                        "=".join(str(part) for part in pair)
                        if isinstance(pair, list | tuple)
                        else pair
                    )
                    text.append("\n  ").append(safe(field, limit=300))
            else:
                text.append(f"\n{key}: ", style="bold").append(safe(value, limit=1000))
    return text


async def change_worker(screen: Screen[Any], target: Target, change: WorkerChange) -> None:
    """Plan, confirm, apply and notify one change, from `screen` (in one of its workers)."""
    actions = getattr(screen.app, "worker_actions", None)
    if actions is None or not is_interactive(screen.app):
        return
    where = f"{target.url} on {target.balancer}"
    try:
        planned = await actions.plan(target.balancer, target.url, change, pool=target.pool)
    except (BalancerError, AuditError) as exc:
        screen.notify(str(exc), title="cannot plan the change", severity="error", markup=False)
        return
    except Exception as exc:  # an unexpected failure must not take the session down
        screen.notify(
            f"{where}: {exc}", title="cannot plan the change", severity="error", markup=False
        )
        return
    title = Text(f"{change.describe()}? ", style="bold").append(safe(where, limit=200))
    confirmed = await screen.app.push_screen_wait(
        ConfirmScreen(title, describe_plan(planned), action="Apply")
    )
    if not confirmed:
        screen.notify(f"cancelled: {change.describe()} for {where}", markup=False)
        return
    try:
        worker = await actions.set_worker(
            target.balancer,
            target.url,
            change,
            pool=target.pool,
            node=target.node,
            step="balancer-screen",
        )
    except (BalancerError, AuditError) as exc:
        screen.notify(str(exc), title="change failed", severity="error", markup=False, timeout=30)
        return
    except Exception as exc:
        screen.notify(
            f"{where}: {exc}", title="change failed", severity="error", markup=False, timeout=30
        )
        return
    status = status_text(worker).plain
    screen.notify(
        f"{where}: {change.describe()} done; read back: {status}",
        title="change applied",
        markup=False,
    )
