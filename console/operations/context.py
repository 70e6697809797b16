"""What every step of a node wizard shares: the inventory, the node, the monitor, the audit log,
the worker actions and an SSH session of its own for operator commands.

The operator session is separate from the monitor's: a stop command that hangs never delays the
log followers that must see the peers log the member leaving.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from console.audit import AuditLog
from console.cluster.state import NodeEvent
from console.cluster.topology import NodeSpec, worker_node
from console.config.model import Inventory, Node
from console.monitor.node_watch import ssh_target
from console.monitor.runner import Monitor
from console.monitor.tasks import cancel_and_wait
from console.operations.in_flight import InFlight, tomcat_in_flight
from console.operations.journal import EventJournal
from console.operations.workers import WorkerActions
from probes.balancer.model import BalancerError, Worker
from probes.process import PROCESS_COMMAND, TomcatProcess, parse_processes
from probes.ssh.connection import CommandResult, NodeSession, SshCommandError


@dataclass(frozen=True, slots=True)
class WorkerRef:
    """One worker that sends to the node: which inventory balancer, which pool, which URL."""

    balancer: str
    pool: str
    worker: Worker

    @property
    def label(self) -> str:
        return f"{self.balancer} (balancer://{self.pool}, {self.worker.url})"


@dataclass
class NodeContext:
    """The shared, per-run context of a node wizard."""

    inventory: Inventory
    node: Node
    wizard: str
    monitor: Monitor
    audit: AuditLog
    actions: WorkerActions
    answers: Mapping[str, Any] = field(default_factory=dict)
    session: NodeSession | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    """What earlier steps learned (the unloadDelay, when the stop began ...), for later ones."""
    close_actions: bool = True
    """False when the worker actions belong to the interactive session (it closes them)."""
    journal: EventJournal | None = None
    """The events the monitor applied since the run began (a subscription); None: the
    state's recent events only."""
    _session_task: asyncio.Task[None] | None = None

    def events(self) -> Sequence[NodeEvent]:
        """Every event record since the run began (from the journal), else the state's recent
        ones."""
        if self.journal is None:
            self.journal = EventJournal(self.monitor)
            self._own_journal = True
        return self.journal.records

    @property
    def specs(self) -> tuple[NodeSpec, ...]:
        return self.monitor.specs

    @property
    def peers(self) -> list[Node]:
        return [node for node in self.inventory.nodes if node.name != self.node.name]

    def answer(self, name: str, default: Any) -> Any:
        return self.answers.get(name, default)

    async def workers(self) -> list[WorkerRef]:
        """Every worker of every inventory balancer that sends to this node, read fresh."""
        found: list[WorkerRef] = []
        for config in self.inventory.balancers:
            page = await self.actions.read(config.name)
            for balancer in page.balancers:
                if config.balancer and balancer.name != config.balancer:
                    continue
                for worker in balancer.workers:
                    if worker_node(worker, self.specs) == self.node.name:
                        found.append(WorkerRef(config.name, balancer.name, worker))
        return found

    async def pools(self) -> dict[tuple[str, str], tuple[Worker, ...]]:
        """Every (balancer, pool) that has a worker for this node, with all its workers."""
        pools: dict[tuple[str, str], tuple[Worker, ...]] = {}
        for config in self.inventory.balancers:
            page = await self.actions.read(config.name)
            for balancer in page.balancers:
                if config.balancer and balancer.name != config.balancer:
                    continue
                if any(worker_node(w, self.specs) == self.node.name for w in balancer.workers):
                    pools[(config.name, balancer.name)] = balancer.workers
        return pools

    def node_of(self, worker: Worker) -> str | None:
        return worker_node(worker, self.specs)

    def open_session(self) -> NodeSession:
        """The operator's own SSH session to the node (opened once, closed by `aclose`)."""
        if self.session is None:
            self.session = NodeSession(ssh_target(self.inventory, self.node))
            self._session_task = asyncio.create_task(self.session.run())
        return self.session

    async def run_command(
        self, command: str, *, step: str, timeout: float, what: str
    ) -> CommandResult:
        """Run an operator command on the node, audited before and after; StepFailed-ready
        errors come back as BalancerError-free SshCommandError."""
        session = self.open_session()
        target = session.target
        request = {
            "ssh": f"{target.username + '@' if target.username else ''}{target.address}",
            "command": command,
            "what": what,
        }
        view = self.monitor.state.node(self.node.name)
        entry = self.audit.begin(
            node=self.node.name,
            step=step,
            request=request,
            wizard=self.wizard,
            state_before={"tomcat": view.tomcat, "pid": view.tomcat_pid, "ssh": view.ssh},
        )
        began = time.monotonic()
        try:
            result = await session.exec(command, timeout=timeout)
        except SshCommandError as exc:
            entry.failed(str(exc))
            raise
        except BaseException as exc:
            entry.failed(f"interrupted ({type(exc).__name__}); outcome unknown")
            raise
        outcome = {
            "exit_status": result.exit_status,
            "seconds": round(time.monotonic() - began, 2),
            "stderr": result.stderr[-500:].decode("utf-8", "replace"),
        }
        if result.exit_status == 0:
            entry.done(outcome)
        else:
            entry.failed(f"exit status {result.exit_status}", outcome)
        return result

    async def tomcat(self, timeout: float = 15.0) -> TomcatProcess:
        """Whether the node's Tomcat runs now (one `ps` over the operator session)."""
        try:
            result = await self.open_session().exec(PROCESS_COMMAND, timeout=timeout)
        except SshCommandError as exc:
            return TomcatProcess("unknown", reason=str(exc))
        return parse_processes(result.stdout, self.node.catalina_base)

    async def in_flight(self) -> InFlight:
        """The requests the node's Tomcat serves now, by its manager's count."""
        return await tomcat_in_flight(self.inventory, self.node)

    _own_journal: bool = False

    async def aclose(self) -> None:
        if self.journal is not None and self._own_journal:
            self.journal.close()
        if self.session is not None:
            await self.session.close()
        if self._session_task is not None:
            await cancel_and_wait([self._session_task])
        if self.close_actions:
            await self.actions.aclose()


def describe_refs(refs: list[WorkerRef]) -> str:
    return ", ".join(ref.label for ref in refs) if refs else "no balancer"


__all__ = ["BalancerError", "NodeContext", "WorkerRef", "describe_refs"]
