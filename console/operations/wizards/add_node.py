"""The `add-node` wizard: bring a new host into the cluster as a node, without failing a request.

1. preflight: the doctor's checks on the new host (console.doctor.new_node; one implementation
   for both); 2. its CATALINA_BASE from the reference node (console.operations.wizards.node_base),
   with
   the diff shown first; 3. its StaticMember written into every peer's server.xml (no peer
   restart: Tomcat 10.1 peers accept the new member at runtime, docs/facts.md); 4. start it and
   wait for server-started, every peer to see it and the session state received (the rejoin and
   rolling-restart steps); 5. add it to every balancer disabled, check its own URL, enable it;
   6. new sessions reach it and one made there fails over to a peer; 7. write it into cluster.toml
   (comments kept, validated, atomic); 8. per-node licenses: say that it needs one.

The balancer's own configuration file gains the member too (console.balancer.persist, when the
inventory names the file; else the run shows the line and warns that a restart drops it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from console.balancer.conf import Member
from console.balancer.persist import PersistError, commands, manual_lines, persist_member
from console.config.edit import InventoryEditError, add_node, node_table_text
from console.operations.common import describe_read_back, read_back
from console.operations.context import NodeContext
from console.operations.engine import Change, Skip, Status, Step, StepFailed, StepRun, Wizard
from console.operations.spec import Answer, merged
from console.operations.wizards import rejoin, rolling
from console.operations.wizards.add_node_context import AddNodeContext
from console.operations.wizards.add_node_steps import (
    add_to_balancers,
    check_host_key_step,
    check_peers,
    check_preflight,
    plan_balancers,
    plan_base,
    plan_host_key,
    plan_peers,
    trust_host_key,
    verify_base,
    worker_address,
    write_base,
    write_peers,
)
from console.operations.wizards.add_node_verify import verify_serving

NAME = "add-node"
OWN_QUESTIONS: tuple[Answer, ...] = (
    Answer("name", "text", None, "the new node's name (required; or --node)"),
    Answer("host", "text", None, "the new node's host name or address (required)"),
    Answer("reference", "text", None, "the node to copy the configuration from (first node)"),
    Answer("jvm_route", "text", None, "its jvmRoute (the name)"),
    Answer("catalina_base", "text", None, "its CATALINA_BASE (the reference's, renamed)"),
    Answer("http", "text", None, "its own URL (the reference's, on the new host)"),
    Answer("ssh_user", "text", None, "SSH user ([ssh] user)"),
    Answer("ssh_port", "port", None, "SSH port ([ssh] port)"),
    Answer(
        "accept_host_key",
        "text",
        None,
        "the new host's key fingerprint (SHA256:...) to trust when known_hosts lacks it",
    ),
    Answer("front_url", "text", None, "the application's URL through the balancer (httpd's)"),
    Answer("verify_timeout", "seconds", 60, "seconds for new sessions to reach the new node"),
)
QUESTIONS = merged(OWN_QUESTIONS, rejoin.QUESTIONS, rolling.OWN_QUESTIONS)
_REJOIN = {step.name: step for step in rejoin.WIZARD.steps}


def _ctx(run: StepRun[NodeContext]) -> AddNodeContext:
    return cast(AddNodeContext, run.ctx)


def _created(ctx: NodeContext) -> str:
    made = cast(AddNodeContext, ctx).created
    if not made:
        return "nothing was changed"
    return (
        "created so far (remove-node undoes it): "
        + "; ".join(made)
        + f". {ctx.node.name} is not in cluster.toml yet"
    )


def _fields(ctx: AddNodeContext) -> dict[str, object]:
    node = ctx.node
    fields: dict[str, object] = {"name": node.name, "host": node.host}
    if ctx.answer("ssh_user", None):
        fields["ssh_user"] = node.ssh_user
    if ctx.answer("ssh_port", None):
        fields["ssh_port"] = node.ssh_port
    fields["jvm_route"] = node.jvm_route or node.name
    fields["catalina_base"] = node.catalina_base
    fields["logs"] = [source.path for source in node.logs if source.kind == "file"]
    if node.http:
        fields["http"] = node.http
    fields["start"] = node.start
    fields["stop"] = node.stop
    return fields


async def _plan_inventory(run: StepRun[NodeContext]) -> list[Change]:
    ctx = _ctx(run)
    text = node_table_text(_fields(ctx))
    return [
        Change(
            f"append {ctx.node.name} to {ctx.old.path}", {"file": str(ctx.old.path), "add": text}
        )
    ]


async def _write_inventory(run: StepRun[NodeContext]) -> None:
    ctx = _ctx(run)
    fields = _fields(ctx)
    path = ctx.old.path
    entry = ctx.audit.begin(
        node=ctx.node.name,
        step=run.step.name,
        request={"file": str(path), "add": node_table_text(fields)},
        wizard=ctx.wizard,
    )
    try:
        add_node(path, fields)
    except InventoryEditError as exc:
        entry.failed(str(exc))
        raise StepFailed(f"{ctx.node.name} serves but is not in {path}: {exc}") from None
    entry.done({"file": str(path)})
    run.changed(f"{path} holds {ctx.node.name}", await _plan_inventory(run))


def _member(ctx: NodeContext, kind: str) -> Member:
    return Member(ctx.node.jvm_route or ctx.node.name, worker_address(ctx, "apache"))


def _pool(ctx: NodeContext, balancer: str) -> str:
    return ctx.actions.config(balancer).balancer or "cluster"


async def _plan_persist(run: StepRun[NodeContext]) -> list[Change]:
    ctx = _ctx(run)
    changes = []
    for config in ctx.inventory.balancers:
        pool = _pool(ctx, config.name)
        lines = manual_lines(config, pool, _member(ctx, config.kind), add=True).lines
        test, reload = commands(config)
        if config.config is None:
            what = f"show the line to add to {config.name}'s configuration by hand"
            changes.append(Change(what, {"lines": list(lines)}))
            continue
        changes.append(
            Change(
                f"add {ctx.node.name} to {config.name}'s configuration {config.config}, test "
                "it and reload the balancer gracefully",
                {"file": str(config.config), "add": list(lines), "test": test, "reload": reload},
            )
        )
    return changes


async def _persist(run: StepRun[NodeContext]) -> None:
    """The worker written into each balancer's own configuration (console.balancer.persist),
    so that a restart of the balancer keeps it; without a config file, the lines and a warning."""
    ctx = _ctx(run)
    for config in ctx.inventory.balancers:
        pool = _pool(ctx, config.name)
        try:
            outcome = await persist_member(
                ctx.inventory,
                config,
                pool,
                _member(ctx, config.kind),
                add=True,
                audit=ctx.audit,
                wizard=ctx.wizard,
                node=ctx.node.name,
            )
        except PersistError as exc:
            raise StepFailed(
                f"{ctx.node.name} serves, but {config.name}'s configuration was not changed "
                f"(a balancer restart would drop it): {exc}"
            ) from None
        if not outcome.persisted:
            run.warn(outcome.message)
            continue
        ctx.created.append(f"its member in {config.name}'s configuration {outcome.file}")
        run.changed(outcome.message, [Change(outcome.message, {"added": list(outcome.lines)})])


async def _license(run: StepRun[NodeContext]) -> None:
    ctx = _ctx(run)
    if ctx.inventory.license.kind != "per-node":
        raise Skip("the profile's licenses are not per node")
    run.warn(
        f"{ctx.node.name} needs a license of its own (per-node licenses): open its license "
        f"page and activate it (--wizard license --node {ctx.node.name} where available)"
    )


async def _conclude(ctx: NodeContext, status: Status) -> str:
    refs, process = await read_back(ctx)
    text = describe_read_back(ctx, refs, process)
    made = cast(AddNodeContext, ctx).created
    if status != "done" and made:
        text += ". Created by this run (remove-node undoes it): " + "; ".join(made)
    return text


def _left_serving(ctx: NodeContext) -> str:
    return f"{ctx.node.name} runs, its peers see it, every balancer sends to it"


WIZARD: Wizard[NodeContext] = Wizard(
    name=NAME,
    title="add a new node to the cluster",
    conclude=_conclude,
    initial=lambda ctx: f"nothing was changed: {ctx.node.name} is not part of the cluster",
    steps=(
        Step(
            "host-key",
            "the new host's SSH key: known, or shown with its fingerprint and trusted only when "
            "confirmed (accept_host_key in the answers, or the screen's prompt)",
            check=check_host_key_step,
            plan=plan_host_key,
            action=trust_host_key,
            timeout=60,
        ),
        Step(
            "preflight",
            "the doctor's checks on the new host: SSH and its host key, Java and Tomcat as the "
            "reference's, ports free, host name, clock, shared directory, database, unique name "
            "and jvmRoute",
            check=check_preflight,
            timeout=180,
        ),
        Step(
            "base",
            "build the node's CATALINA_BASE from the reference node's (server.xml with its "
            "jvmRoute, address and membership; setenv; context configuration; web apps)",
            plan=plan_base,
            action=write_base,
            verify=verify_base,
            timeout=180,
            left=_created,
            interrupted=_created,
        ),
        Step(
            "peers",
            "add the new StaticMember to every peer's server.xml for their next restart (no peer "
            "is restarted: they accept the new member at runtime)",
            check=check_peers,
            plan=plan_peers,
            action=write_peers,
            timeout=lambda ctx: 30.0 + 60.0 * len(ctx.peers),
            left=_created,
            interrupted=_created,
        ),
        _REJOIN["start"],
        _REJOIN["membership"],
        rolling.SESSION_STATE,
        Step(
            "balancers",
            "add the node to every balancer, disabled (no user is sent there yet)",
            plan=plan_balancers,
            action=add_to_balancers,
            timeout=60,
            left=_created,
            interrupted=_created,
        ),
        _REJOIN["http"],
        _REJOIN["enable"],
        _REJOIN["rebalance"],
        Step(
            "balancer-config",
            "write the node into every balancer's own configuration file over SSH, test it and "
            "reload gracefully, so that a restart of the balancer keeps it (without the file: "
            "show the lines to add)",
            plan=_plan_persist,
            action=_persist,
            timeout=300,  # per balancer: read, write, config test, graceful reload, read back
            left=_left_serving,
        ),
        Step(
            "verify",
            "new sessions through the balancer reach the node; one made there fails over to a "
            "peer with its data",
            action=verify_serving,
            timeout=lambda ctx: float(ctx.answer("verify_timeout", 60)),
            left=_left_serving,
        ),
        Step(
            "inventory",
            "write the node into cluster.toml (comments kept; validated; replaced atomically)",
            plan=_plan_inventory,
            action=_write_inventory,
            timeout=30,
        ),
        Step("license", "say whether the node needs a license of its own", action=_license),
    ),
)


def build(nodes: Sequence[str]) -> Wizard[NodeContext]:
    """The wizard (the new node is the context's)."""
    return WIZARD


__all__ = ["NAME", "QUESTIONS", "WIZARD", "build"]
