"""Everything the monitor watches on one node, over that node's one SSH connection.

The SSH session reconnects by itself; each log is read back a little (to learn the current
membership) and then followed from exactly where the history ended; the Tomcat process, the
shared directory and the node's reach to the database are polled. All of it only reads, except
the shared-directory check outside watch mode, which writes and removes one small file.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from functools import partial
from typing import Any

from console.cluster.observations import (
    BacklogScanned,
    DatabaseReachObserved,
    EventObserved,
    LogHistoryLost,
    LogTrouble,
    Observation,
    ProcessObserved,
    SharedDirObserved,
    SshObserved,
)
from console.config.model import Inventory, LogSource, Node
from console.monitor.options import MonitorOptions
from console.monitor.tasks import Pacer, keep_running
from probes.files import parse_shared_dir, shared_dir_command
from probes.logs.model import LogEvent
from probes.logs.scanner import EventScanner
from probes.process import PROCESS_COMMAND, parse_processes
from probes.reach import parse_reach, reach_command
from probes.ssh.connection import CommandResult, NodeSession, SshCommandError, SshStatus, SshTarget
from probes.tail.follow import LogFollower, TailData, TailPosition, TailReset
from probes.tail.journal import JournalDecoder, JournalError, journal_history_command

log = logging.getLogger(__name__)

LogTap = Callable[[str, bytes], None]
"""A live log view's callback: the log's name (as in the inventory) and the bytes just read."""

Observe = Callable[[Observation], None]
COMMAND_TIMEOUT = 15.0
JOURNAL_BACKLOG = 20000
"""Journal entries read back at start (the journal's counterpart of backlog_bytes)."""
IDLE_FLUSH = 0.5
"""Seconds of quiet after which a pending multi-line record (an error's trace) is reported."""
RECENT_BYTES = 256 << 10
"""How much of each log's latest output is kept for a log view that opens later."""
SERVER_START_MARKS = (
    b"org.apache.catalina.startup.VersionLoggerListener",
    b"org.apache.catalina.startup.Catalina",
    b"Starting WSO2 Carbon",
)
"""Lines a server writes first when it starts (Tomcat 7+ logs its version first; Tomcat 6 begins
with Catalina's load; WSO2 Carbon says it starts). A log whose first bytes hold none of them does
not begin with the server's start: it was truncated or rotated since."""
LISTENER_CHECKS_PER_S = 50.0
"""SSH listener checks a second across the fleet at most: up to 200 nodes each is checked every
4 s; 500 nodes every 10 s."""
START_WINDOW = 64 << 10
"""How far into a log the start marks are looked for."""


def begins_with_server_start(head: bytes) -> bool:
    """Do a log's first bytes show the server starting (so what follows is its whole run)?"""
    window = head[:START_WINDOW]
    return any(mark in window for mark in SERVER_START_MARKS)


def history_lost(reset: TailReset) -> str | None:
    """How a reset lost the log's history (read as "LOG <this> at HH:MM:SS"), or None.

    A rotation read to its end loses nothing (every line of the old file was read), nor does a
    reconnect that resumed at its byte: only a truncation, a file replaced while the console
    was away, or entries skipped do.
    """
    if reset.reason == "truncated":
        return (
            "was truncated and rewritten before it could be read"
            if reset.missed
            else "was truncated"
        )
    if reset.reason == "rotated" and reset.missed:
        return "was replaced while the console was disconnected"
    if reset.missed:
        return "skipped entries written while the console was disconnected"
    return None


def backlog_command(path: str, size: int) -> str:
    """Print ``BACKLOG inode size start`` then the file's last ``size`` bytes up to ``size``."""
    return "\n".join(
        [
            f"f={shlex.quote(path)}",
            'if [ ! -e "$f" ]; then echo MISSING; exit 0; fi',
            "set -- $(stat -L -c '%i %s' \"$f\")",
            f"start=$(( $2 > {size} ? $2 - {size} : 0 ))",
            'echo "BACKLOG $1 $2 $start"',
            'tail -c +$((start + 1)) "$f" | head -c $(($2 - start))',
        ]
    )


def listener_interval(wanted: float, nodes: int) -> float | None:
    """How often each node's SSH port is checked: ``wanted`` seconds (0: never), stretched so
    that a fleet is not sent more than LISTENER_CHECKS_PER_S checks a second (each costs ~0.5 ms
    of this process's CPU, and a line in the node's sshd log)."""
    if wanted <= 0:
        return None
    return max(wanted, nodes / LISTENER_CHECKS_PER_S)


def ssh_target(inventory: Inventory, node: Node) -> SshTarget:
    """How to reach ``node``: inventory key and known_hosts on top of the agent and ssh config."""
    ssh = inventory.ssh
    return SshTarget(
        node=node.name,
        host=node.host,
        port=node.ssh_port,
        username=node.ssh_user,
        client_keys=(str(ssh.identity_file),) if ssh.identity_file else (),
        known_hosts=str(ssh.known_hosts) if ssh.known_hosts else None,
        connect_timeout=ssh.connect_timeout,
        accept_new=ssh.accept_new,
    )


class NodeWatch:
    """The probes of one node; `run` until cancelled, `close` to drop the connection."""

    def __init__(
        self,
        inventory: Inventory,
        node: Node,
        options: MonitorOptions,
        observe: Observe,
        connect_limit: asyncio.Semaphore | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.inventory = inventory
        self.node = node
        self.options = options
        self._observe = observe
        self._pacer = pacer or Pacer()
        target = replace(
            ssh_target(inventory, node),
            listener_interval=listener_interval(options.listener_interval, len(inventory.nodes)),
        )
        self.session = NodeSession(target, on_status=self._on_status, connect_limit=connect_limit)
        self.followers: dict[str, LogFollower] = {}
        self.taps: list[LogTap] = []
        """Called with (log, bytes) for every chunk read from a log (the live log view)."""
        self.recent: dict[str, bytearray] = {}
        """The last RECENT_BYTES of each log, so a log view opens with history."""

    def _on_status(self, status: SshStatus) -> None:
        self._observe(
            SshObserved(self.node.name, status.state, status.reason, status.at, status.peer)
        )

    async def exec(self, command: str, timeout: float = COMMAND_TIMEOUT) -> CommandResult | None:
        """Run a read-only command once the node is connected; None if it could not run."""
        try:
            await self.session.connection()
            return await self.session.exec(command, timeout=timeout)
        except SshCommandError as exc:
            log.debug("%s: %s", self.node.name, exc)
            return None

    async def run(self) -> None:
        """Every probe of the node, each restarted on its own if a bug ends it."""
        name = self.node.name
        probes: list[tuple[Callable[[], Coroutine[Any, Any, None]], str]] = [
            (self.session.run, f"{name}: ssh"),
            (self._process_loop, f"{name}: process"),
        ]
        probes += [
            (partial(self._follow, source), f"{name}: {source}") for source in self.node.logs
        ]
        if self.inventory.shared_dir is not None:
            path = self.inventory.shared_dir.path
            probes.append((partial(self._shared_dir_loop, path), f"{name}: shared dir"))
        if self.inventory.database is not None:
            database = self.inventory.database
            reach = partial(self._reach_loop, database.host, database.port)
            probes.append((reach, f"{name}: database reach"))
        await asyncio.gather(*(keep_running(probe, label) for probe, label in probes))

    async def close(self) -> None:
        await self.session.close()

    async def _process_loop(self) -> None:
        while True:
            result = await self.exec(PROCESS_COMMAND)
            if result is not None:
                process = parse_processes(result.stdout, self.node.catalina_base)
                self._observe(ProcessObserved(self.node.name, process, time.time()))
            await self._pacer.sleep(self.options.process_interval)

    async def _shared_dir_loop(self, path: str) -> None:
        while True:
            command = shared_dir_command(path, self.node.name, write=not self.options.read_only)
            result = await self.exec(command)
            if result is not None:
                health = parse_shared_dir(result.stdout, result.exit_status)
                self._observe(SharedDirObserved(self.node.name, health, time.time()))
            await self._pacer.sleep(self.options.shared_dir_interval)

    async def _reach_loop(self, host: str, port: int) -> None:
        while True:
            result = await self.exec(reach_command(host, port))
            if result is not None:
                reach = parse_reach(result.stdout)
                self._observe(DatabaseReachObserved(self.node.name, reach, time.time()))
            await self._pacer.sleep(self.options.database_interval)

    def _events(self, source: LogSource, events: list[LogEvent], *, backlog: bool) -> None:
        now = time.time()
        for event in events:
            self._observe(EventObserved(self.node.name, str(source), event, now, backlog))

    async def _backlog(self, source: LogSource, scanner: EventScanner) -> TailPosition | None:
        """Read the log's recent history; the position where live following must start."""
        while True:
            result = await self.exec(backlog_command(source.path, self.options.backlog_bytes), 60)
            if result is not None:
                break
            await asyncio.sleep(1.0)
        header, _, data = result.stdout.partition(b"\n")
        words = header.decode("ascii", "replace").split()
        if words[:1] == ["MISSING"] or len(words) != 4 or not all(w.isdigit() for w in words[1:]):
            what = "missing" if words[:1] == ["MISSING"] else "unreadable"
            self._observe(LogTrouble(self.node.name, str(source), f"log {what}", time.time()))
            self._observe(BacklogScanned(self.node.name, str(source), False, time.time()))
            return None
        inode, size, start = (int(word) for word in words[1:])
        if start > 0:
            cut = data.find(b"\n") + 1  # the first line is cut in the middle: skip it
            data, start = data[cut:], start + cut
        self._tap(str(source), data)
        scanner.reset(start)
        events = scanner.feed(data)
        self._events(source, events, backlog=True)
        # The file's start is the server's start only if it says so: after `: > catalina.out`
        # (copytruncate) the file starts anywhere, and an empty history is not "sees no one".
        complete = (start == 0 and begins_with_server_start(data)) or any(
            e.kind in ("server-started", "server-stopping") for e in events
        )
        self._observe(BacklogScanned(self.node.name, str(source), complete, time.time()))
        return TailPosition(inode=inode, offset=size)

    async def _journal_backlog(
        self, source: LogSource, scanner: EventScanner
    ) -> TailPosition | None:
        """The unit's last journal entries; live following resumes after the last cursor."""
        while True:
            result = await self.exec(journal_history_command(source.path, JOURNAL_BACKLOG), 60)
            if result is not None:
                break
            await asyncio.sleep(1.0)
        try:
            entries = JournalDecoder(max_line=1 << 20).feed(result.stdout + b"\n")
        except JournalError as exc:
            self._observe(LogTrouble(self.node.name, str(source), str(exc), time.time()))
            entries = []
        history = b"".join(entry.message + b"\n" for entry in entries)
        self._tap(str(source), history)
        events = scanner.feed(history)
        self._events(source, events, backlog=True)
        complete = any(e.kind in ("server-started", "server-stopping") for e in events)
        self._observe(BacklogScanned(self.node.name, str(source), complete, time.time()))
        return TailPosition(None, 0, entries[-1].cursor) if entries else None

    async def _follow(self, source: LogSource) -> None:
        scanner = EventScanner()
        if source.kind == "file":
            start = await self._backlog(source, scanner)
        else:
            start = await self._journal_backlog(source, scanner)

        def on_chunk(item: TailData | TailReset) -> None:
            if isinstance(item, TailReset):
                if item.reason in ("truncated", "rotated", "missing"):
                    scanner.reset(item.position.offset)
                    what = f"log {item.reason}" + (f": {item.detail}" if item.detail else "")
                    self._observe(LogTrouble(self.node.name, str(source), what, time.time()))
                lost = history_lost(item)
                if lost is not None:
                    at = time.time()
                    self._observe(
                        LogHistoryLost(self.node.name, str(source), lost, item.missed, at)
                    )
                return
            self._tap(str(source), item.data)
            self._events(source, scanner.feed(item.data), backlog=False)

        follower = LogFollower(
            self.session,
            source.path,
            on_chunk=on_chunk,
            kind=source.kind,
            poll_interval=self.options.poll_interval,
            start=start,
        )
        self.followers[str(source)] = follower
        flusher = asyncio.create_task(self._idle_flush(source, scanner))
        try:
            await follower.run()
        finally:
            flusher.cancel()

    def _tap(self, log_name: str, data: bytes) -> None:
        """Keep the log's recent bytes and hand them to the live log views."""
        if not data:
            return
        recent = self.recent.setdefault(log_name, bytearray())
        recent += data[-RECENT_BYTES:]
        if len(recent) > RECENT_BYTES:
            del recent[: len(recent) - RECENT_BYTES]
        for tap in tuple(self.taps):
            try:
                tap(log_name, data)
            except Exception:
                log.exception("%s: log view failed on a chunk", self.node.name)

    async def _idle_flush(self, source: LogSource, scanner: EventScanner) -> None:
        while True:
            await asyncio.sleep(IDLE_FLUSH)
            self._events(source, scanner.idle(), backlog=False)
