"""Problems derived from a snapshot: what an experienced operator would notice, in plain words.

Every check is a pure function of a `ClusterState`. The cross-checks compare what different
parts say about each other (logs against logs, balancer against logs, balancer against the
inventory), which is what no single ssh window shows.

Time comes from the snapshot (`ClusterState.clock`, the newest observation's time), never from a
clock read here: a membership disagreement counts only once it has lasted `SETTLE_SECONDS`, an
acknowledgement silences its problem until it expires by that clock.

`problems` is the alarm list (critical and warning, not acknowledged): what makes `status` exit
1 and the dashboard turn red. `findings` adds what is acknowledged and the informational notes
(a node in maintenance, a membership that cannot be told).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from console.cluster.crosschecks_balancers import absent_from_balancers, balancer_problems
from console.cluster.membership import in_rotation, partitions, serving_nodes
from console.cluster.metrics_checks import metrics_problems
from console.cluster.problem import SEVERITY_ORDER, Acknowledged, Findings, Problem, Severity
from console.cluster.state import ClusterState, NodeView
from console.license.checks import license_problems

__all__ = [
    "CHECKS",
    "SETTLE_SECONDS",
    "SEVERITY_ORDER",
    "Acknowledged",
    "Findings",
    "Problem",
    "Severity",
    "findings",
    "problems",
]

SETTLE_SECONDS = 10.0
"""How long peers may disagree about a membership before it is a problem: peers learn of a
starting node at slightly different moments (Tribes drops a member after 3 s by default)."""


def _running(view: NodeView) -> bool:
    return view.tomcat == "running"


def _clock(moment: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(moment))


def _maintenance(state: ClusterState) -> Iterator[Problem]:
    if all(view.maintenance is None for view in state.nodes):
        return
    rotation = in_rotation(state)
    for view in state.nodes:
        mark = view.maintenance
        if mark is None:
            continue
        since = mark.since.astimezone().strftime("%Y-%m-%d %H:%M")
        who = f" by {mark.operator}" if mark.operator else ""
        why = f": {mark.reason}" if mark.reason else ""
        text = f"{view.name} is in maintenance since {since}{who}{why}."
        if _running(view) and view.name in rotation:
            text += " It serves users again: rejoin it (the rejoin wizard clears the mark)."
        yield Problem("info", "maintenance", view.name, text)


def _ssh(state: ClusterState) -> Iterator[Problem]:
    for view in state.nodes:
        reason = f": {view.ssh_reason}" if view.ssh_reason else ""
        if view.ssh == "host-key-mismatch":
            yield Problem(
                "critical",
                "ssh-host-key",
                view.name,
                f"{view.name}'s SSH host key cannot be verified{reason}. The host may have been "
                "reinstalled, or someone is in the middle: check it, then update known_hosts.",
            )
        elif view.ssh == "host-key-unknown":
            yield Problem(
                "critical",
                "ssh-host-key-unknown",
                view.name,
                f"{view.name}'s SSH host key is not known yet{reason}. Compare the fingerprint "
                "with the node's (ssh-keygen -lf on its host key), then accept it.",
            )
        elif view.ssh == "auth-failed":
            yield Problem(
                "critical",
                "ssh-auth",
                view.name,
                f"cannot log in to {view.name} over SSH{reason}: check the key and user.",
            )
        elif view.ssh in ("down", "timeout"):
            yield Problem(
                "info" if view.maintenance else "critical",
                "ssh-down",
                view.name,
                f"cannot reach {view.name} over SSH{reason}; its logs and processes are unknown.",
            )


def _process_and_http(state: ClusterState) -> Iterator[Problem]:
    rotation = in_rotation(state)
    for view in state.nodes:
        serving = view.name in rotation and view.maintenance is None
        if view.tomcat == "stopped":
            if view.maintenance is not None:
                pass  # the maintenance notice says it
            elif serving:
                yield Problem(
                    "critical",
                    "tomcat-stopped",
                    view.name,
                    f"Tomcat is not running on {view.name}, but the balancer still has it in "
                    "rotation: it went down without being drained (a crash?), and users whose "
                    "sessions were there lose what was not replicated.",
                )
            else:
                yield Problem(
                    "warning",
                    "tomcat-stopped",
                    view.name,
                    f"Tomcat is not running on {view.name}.",
                )
        http = view.http
        if (
            http is not None
            and not http.ok
            and view.tomcat != "stopped"
            and view.maintenance is None
        ):
            why = http.error or f"HTTP {http.status}"
            if view.starting_since is not None:
                yield Problem(
                    "warning",
                    "http-failing",
                    view.name,
                    f"{view.name} is starting (since {_clock(view.starting_since)}) and does "
                    f"not answer on its own URL yet ({why}).",
                )
                continue
            yield Problem(
                "critical" if serving else "warning",
                "http-failing",
                view.name,
                f"{view.name} does not answer on its own URL ({why}), bypassing the balancer"
                + (", while the balancer has it in rotation." if serving else "."),
            )


def _down(view: NodeView) -> bool:
    """Known not to serve: Tomcat stopped, or its own URL failing."""
    return view.tomcat == "stopped" or (view.http is not None and not view.http.ok)


def _redundancy(state: ClusterState) -> Iterator[Problem]:
    """At most one node can serve: a session lives on one node only, or nowhere."""
    if len(state.nodes) < 2:
        return
    down = [view for view in state.nodes if _down(view)]
    if len(down) < len(state.nodes) - 1:
        return
    names = ", ".join(view.name for view in down)
    up = [view.name for view in state.nodes if not _down(view)]
    where = f"only {up[0]} can serve" if up else "no node serves"
    on_purpose = all(view.maintenance is not None for view in down)
    yield Problem(
        "info" if on_purpose else "critical",  # on purpose: the maintenance mark says so
        "no-redundancy",
        None,
        f"no redundancy: sessions are replicated nowhere — {names} "
        f"{'is' if len(down) == 1 else 'are'} down"
        + (" (in maintenance)" if on_purpose else "")
        + f", {where}.",
    )


def _settled(state: ClusterState, *views: NodeView) -> bool:
    """Whether what these nodes see has not changed for `SETTLE_SECONDS`."""
    latest = max(view.membership_since for view in views)
    return state.clock - latest >= SETTLE_SECONDS


def _membership_unknown(state: ClusterState) -> Iterator[Problem]:
    for view in state.nodes:
        if _running(view) and not view.membership_known and view.membership_unknown_reason:
            yield Problem(
                "info",
                "membership-unknown",
                view.name,
                f"membership unknown for {view.name}: {view.membership_unknown_reason}. "
                f"Who {view.name} sees cannot be checked until its log tells it again "
                "(a restart, or a membership change).",
            )


def _membership(state: ClusterState) -> Iterator[Problem]:
    specs = state.specs
    known = [view for view in state.nodes if _running(view) and view.membership_known]
    groups = partitions(state)
    if len(groups) > 1 and _settled(state, *known):
        described = " | ".join("{" + ", ".join(sorted(group)) + "}" for group in groups)
        yield Problem(
            "critical",
            "split-brain",
            None,
            f"the cluster is split into {len(groups)} groups that do not see each other: "
            f"{described}. Sessions are replicated only inside each group.",
        )
        return
    serving = serving_nodes(state)
    running = {view.name for view in state.nodes if _running(view)}
    for target in sorted(running):
        target_view = state.node(target)
        blind = sorted(
            view.name
            for view in known
            if view.name != target
            and target not in view.sees(specs)
            and _settled(state, view, target_view)
        )
        if not blind:
            continue
        who = ", ".join(blind)
        if target in serving:
            yield Problem(
                "critical",
                "not-replicated",
                target,
                f"the balancer sends users to {target}, but {who} do(es) not see it as a "
                f"cluster member: sessions created on {target} are not replicated to {who}.",
            )
        elif target_view.maintenance is None and target_view.starting_since is None:
            # (a node still starting gets no users yet: its peers learn of it as it comes up)
            yield Problem(
                "warning",
                "membership-disagrees",
                target,
                f"{target} is running but {who} do(es) not see it as a cluster member.",
            )


def _shared(state: ClusterState) -> Iterator[Problem]:
    database = state.database
    if database is not None and database.health is not None:
        health = database.health
        if not health.reachable:
            yield Problem(
                "critical",
                "database-unreachable",
                None,
                f"the database {database.url} cannot be reached: {health.error}.",
            )
        elif health.grants_ok is False:
            missing = ", ".join(sorted(health.missing_grants))
            yield Problem(
                "warning",
                "database-grants",
                None,
                f"the database user lacks privileges the application needs: {missing}.",
            )
        elif health.error:
            yield Problem(
                "warning", "database-check", None, f"the database check failed: {health.error}."
            )
    for view in state.nodes:
        if view.database_reach is not None and view.database_reach.ok is False:
            yield Problem(
                "critical",
                "node-database",
                view.name,
                f"{view.name} cannot reach the database: {view.database_reach.reason}.",
            )
        if view.shared_dir is not None and not view.shared_dir.ok:
            yield Problem(
                "critical",
                "shared-dir",
                view.name,
                f"{view.name}: shared directory {state.shared_dir}: {view.shared_dir.reason}.",
            )


def _license(state: ClusterState) -> Iterator[Problem]:
    for severity, code, node, text in license_problems(state):
        yield Problem(severity, code, node, text)


def _metrics(state: ClusterState) -> Iterator[Problem]:
    for severity, code, node, text in metrics_problems(state):
        yield Problem(severity, code, node, text)


CHECKS = (
    _maintenance,
    _ssh,
    _process_and_http,
    _redundancy,
    _membership_unknown,
    _membership,
    balancer_problems,
    absent_from_balancers,
    _shared,
    _metrics,
    _license,
)


def _order(problem: Problem) -> tuple[int, str, str]:
    return (SEVERITY_ORDER[problem.severity], problem.node or "", problem.code)


def findings(state: ClusterState) -> Findings:
    """Every check's result: alarms, acknowledged problems and notices, each most severe
    first, then by node."""
    found = sorted((problem for check in CHECKS for problem in check(state)), key=_order)
    alarms: list[Problem] = []
    acknowledged: list[Acknowledged] = []
    notices: list[Problem] = []
    for problem in found:
        ack = state.acknowledged.get(problem.key) if state.acknowledged else None
        if problem.severity == "info":
            notices.append(problem)
        elif ack is not None and ack.until.timestamp() > state.clock:
            acknowledged.append(Acknowledged(problem, ack))
        else:
            alarms.append(problem)
    return Findings(tuple(alarms), tuple(acknowledged), tuple(notices))


def problems(state: ClusterState) -> tuple[Problem, ...]:
    """The alarms in the snapshot (critical and warning, not acknowledged), most severe first,
    then by node. `findings` has the acknowledged ones and the notices too."""
    return findings(state).alarms
