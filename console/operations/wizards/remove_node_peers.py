"""The peers' server.xml, read and rewritten over SSH for remove-node (a copy kept beside it)."""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable

from console.monitor.node_watch import ssh_target
from console.operations.context import NodeContext
from console.operations.engine import StepFailed, StepRun
from probes.ssh.connection import NodeSession, SshCommandError


class PeerFiles:
    """One SSH session per peer of ``ctx.node``, opened on first use, closed by ``aclose``."""

    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        self._sessions: dict[str, tuple[NodeSession, asyncio.Task[None]]] = {}

    def paths(self) -> list[tuple[str, str]]:
        """(peer, its server.xml) for every peer."""
        return [(peer.name, f"{peer.catalina_base}/conf/server.xml") for peer in self.ctx.peers]

    def _session(self, name: str) -> NodeSession:
        if name not in self._sessions:
            session = NodeSession(ssh_target(self.ctx.inventory, self.ctx.inventory.node(name)))
            self._sessions[name] = (session, asyncio.create_task(session.run()))
        return self._sessions[name][0]

    async def edit(
        self, peer: str, change: Callable[[str], str], run: StepRun[NodeContext]
    ) -> bool:
        """Apply ``change`` to the peer's server.xml; False when it changes nothing. Audited;
        the old file is kept as ``server.xml.before-remove-NODE``."""
        path = dict(self.paths())[peer]
        session = self._session(peer)
        quoted = shlex.quote(path)
        try:
            read = await session.exec(f"cat {quoted}", timeout=60)
        except SshCommandError as exc:
            raise StepFailed(f"{path} on {peer}: {exc}") from None
        if read.exit_status != 0:
            raise StepFailed(f"{path} on {peer} could not be read")
        text = read.stdout.decode("utf-8", "replace")
        new = change(text)
        if new == text:
            return False
        backup = shlex.quote(f"{path}.before-remove-{self.ctx.node.name}")
        command = (
            f"cp -p {quoted} {backup} && cp -p {quoted} {quoted}.new && cat > {quoted}.new && "
            f"mv {quoted}.new {quoted}"
        )
        entry = self.ctx.audit.begin(
            node=peer,
            step=run.step.name,
            request={"ssh": peer, "command": command, "remove": self.ctx.node.name},
            wizard=self.ctx.wizard,
        )
        try:
            result = await session.exec(command, timeout=60, input=new.encode("utf-8"))
        except SshCommandError as exc:
            entry.failed(str(exc))
            raise StepFailed(f"{path} on {peer}: {exc}") from None
        if result.exit_status != 0:
            entry.failed(result.stderr.decode("utf-8", "replace")[-200:])
            raise StepFailed(f"{path} on {peer} could not be written")
        entry.done({"backup": f"{path}.before-remove-{self.ctx.node.name}"})
        return True

    async def aclose(self) -> None:
        for session, task in self._sessions.values():
            await session.close()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._sessions.clear()
