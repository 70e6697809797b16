"""The poll of one node's figures: its manager application, else its JVM over SSH.

Every `[metrics] interval` seconds (the second read one second after the first, so rates show at
once) the node's manager application is read (`probes.metrics.tomcat_manager`) with the configured
user;
where that cannot give the server status (no manager deployed, not configured, refused), what
SSH can read of the JVM (`probes.metrics.jvm`: RSS, CPU, age; heap with a JDK) is read instead, no
more
often than every `JVM_INTERVAL` seconds (``jstat`` attaches to the JVM and costs the node about
half a second of CPU). Each read becomes one `MetricsObserved`; nothing here raises for what a
node answers, and the password is read when needed, used for the request and dropped.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from console.cluster.observations import MetricsObserved, Observation
from console.cluster.state import ClusterState
from console.config.model import ConfigError, Inventory, Node, Secret
from console.monitor.tasks import Pacer
from probes.metrics.access_tail import AccessRead, TailState, access_command, parse_output
from probes.metrics.jvm import JvmSample, jvm_script, parse_jvm
from probes.metrics.tomcat_manager import ManagerReader, ManagerSample, manager_base

Observe = Callable[[Observation], None]
RunCommand = Callable[[str, float], Awaitable[bytes]]
"""Runs a POSIX-sh command on the node within a number of seconds; its stdout (raises on
failure)."""

JVM_INTERVAL = 30.0
FIRST_GAP = 1.0
"""Seconds between the first two reads: a rate needs two."""
READ_SLOT = 0.05
"""Seconds of the interval one slot of reads spans: the nodes whose phases fall in one slot are
read together (at 500 nodes every 5 s, five at a time, twenty times a second)."""


class ReadClock:
    """When a node's next read is due: at its slot of the interval, on one grid of the loop's
    clock for every node (so the nodes of a slot are read in one turn of the loop, each read's
    wake-up, sends and answers handled together: at 500 nodes, reads one by one cost twice the
    CPU of reads five at a time, most of it the loop's work per wake-up)."""

    def __init__(self, every: float, phase: float) -> None:
        slots = max(1, round(every / READ_SLOT))
        self.every = every
        self.offset = math.floor((phase % 1.0) * slots) / slots * every
        self.due: float | None = None

    def _grid(self, at: float) -> float:
        """The slot's first time at or after `at`."""
        return self.offset + math.ceil((at - self.offset) / self.every) * self.every

    def pause(self, started: float, now: float, woken: bool) -> float:
        """Seconds until the next read, the last one started at `started`; `woken`: that one
        was a re-probe (`Pacer.wake`) before the read due, which still comes. A read that
        overran its next slot waits for the one after: one read an interval at most."""
        if self.due is None:
            self.due = self._grid(started + self.every)
        elif not woken:
            self.due += self.every
        if self.due < now:
            self.due = self._grid(now)
        return max(0.0, self.due - now)


def manager_url(node: Node) -> str | None:
    """Where the node's manager application is: its `manager_url`, else `http`'s origin."""
    if node.manager_url:
        return node.manager_url.rstrip("/")
    return manager_base(node.http) if node.http else None


def why_not_configured(inventory: Inventory, node: Node) -> str | None:
    """Why the node's manager is not read, or None when it is."""
    if inventory.metrics.manager_user is None:
        return "no [metrics] manager_user in cluster.toml: Tomcat's manager is not read"
    if manager_url(node) is None:
        return f"{node.name} has no http URL (nor manager_url): Tomcat's manager is not read"
    return None


def reads_manager(inventory: Inventory, node: Node) -> bool:
    return why_not_configured(inventory, node) is None


SECRET_FRESH = 1.0
"""Seconds a read of the manager password serves the polls (every node's poll reads it: 500
nodes every 5 s opened the file a hundred times a second); a changed password is used within
this time."""
_revealed: dict[Secret, tuple[float, str]] = {}
_clock = time.monotonic


def manager_credentials(inventory: Inventory) -> tuple[str, str] | str:
    """The manager user and password, or why they cannot be had (never the password)."""
    user = inventory.metrics.manager_user or ""
    secret = inventory.metrics.password
    if secret is None:
        return user, ""
    now = _clock()
    kept = _revealed.get(secret)
    if kept is not None and now - kept[0] < SECRET_FRESH:
        return user, kept[1]
    try:
        password = secret.reveal()
    except ConfigError as exc:
        _revealed.pop(secret, None)
        return f"the manager password cannot be read: {exc.errors[0].message}"
    _revealed.clear()  # one inventory's secret at a time: a replaced one is not kept
    _revealed[secret] = (now, password)
    return user, password


async def read_jvm(run: RunCommand, pid: int, timeout: float) -> JvmSample:
    """What SSH reads of the JVM `pid`; a failed command is a sample without figures."""
    try:
        output = await run(jvm_script(pid), timeout)
    except Exception as exc:  # any SSH trouble: the figure is unknown, the reason shown
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return JvmSample(pid, heap_missing=f"the JVM could not be read over SSH: {reason}")
    return parse_jvm(pid, output.decode("utf-8", "replace"))


SSH_CHECK = 0.1
"""Seconds between two looks at the node's SSH state while the first read waits for it."""
ACCESS_TIMEOUT = 10.0
"""Seconds one read of the access log may take (up to `MAX_READ` bytes over SSH)."""


class AccessLogPoll:
    """The node's access log, read once per round (`probes.metrics.access_tail`): the counts of
    the lines written since the previous successful read, and when that read was made."""

    def __init__(
        self,
        node: Node,
        run: RunCommand | None,
        state: Callable[[], ClusterState],
        patience: float = 0.0,
    ) -> None:
        self._node = node
        self._run = run
        self._view = state
        self._patience = patience
        """How long the first read waits for SSH still connecting: the first two reads (1 s
        apart) then give the 5xx rate as they give the others (`status` waits for two)."""
        self._state = TailState()
        self._last: float | None = None

    async def read(self) -> tuple[AccessRead, float | None]:
        """This round's read and the time its counts start from (None: no rate yet)."""
        glob = self._node.access_log
        if glob is None:
            return AccessRead(missing="access_log is off for this node (cluster.toml)"), None
        ssh = self._ssh()
        if ssh == "connecting" and self._run is not None and self._last is None:
            ssh = await self._connected()
        if self._run is None or ssh != "up":
            return AccessRead(missing=f"not read: SSH to the node is {ssh}"), None
        at = time.time()
        try:
            output = await self._run(
                access_command(self._node.catalina_base, glob, self._state), ACCESS_TIMEOUT
            )
        except Exception as exc:  # any SSH trouble: unknown with the reason, next round again
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            return AccessRead(missing=f"could not be read over SSH: {reason}"), None
        found = parse_output(output, self._state)
        since = self._last
        if found.missing is None:
            self._last = at
        return found, since

    async def _connected(self) -> str:
        """The SSH state once it left "connecting", or after `patience` seconds."""
        end = time.monotonic() + self._patience
        ssh = self._ssh()
        while ssh == "connecting" and time.monotonic() < end:
            await asyncio.sleep(SSH_CHECK)
            ssh = self._ssh()
        return ssh

    def _ssh(self) -> str:
        try:
            return self._view().node(self._node.name).ssh
        except KeyError:
            return "unknown"


async def metrics_poll(
    inventory: Inventory,
    node: Node,
    observe: Observe,
    pacer: Pacer,
    state: Callable[[], ClusterState],
    run: RunCommand | None,
    *,
    deadline: float,
    interval: float | None = None,
    phase: float = 0.0,
) -> None:
    """Read `node`'s figures for ever (the monitor cancels it).

    `phase` (0 to 1) spreads the nodes' reads over the interval: after the first two reads
    (made at once, so `status` and a fresh console have rates), this node's reads come at its own
    slot of each interval (`ReadClock`), not all nodes' at the same moment (hundreds of requests
    queued at once cost far more than the same requests spread out)."""
    every = interval if interval is not None else inventory.metrics.interval
    base = manager_url(node)
    reason = why_not_configured(inventory, node)
    reader = ManagerReader(base) if reason is None and base is not None else None
    try:
        await _poll(
            inventory, node, observe, pacer, state, run, reader, reason, deadline, every, phase
        )
    finally:
        if reader is not None:
            reader.close()


async def _poll(
    inventory: Inventory,
    node: Node,
    observe: Observe,
    pacer: Pacer,
    state: Callable[[], ClusterState],
    run: RunCommand | None,
    reader: ManagerReader | None,
    reason: str | None,
    deadline: float,
    every: float,
    phase: float,
) -> None:
    last_jvm = float("-inf")
    jvm: JvmSample | None = None
    rounds = 0
    access_log = AccessLogPoll(node, run, state, deadline)
    loop = asyncio.get_running_loop()
    clock = ReadClock(every, phase)
    woken = False
    while True:
        started = loop.time()
        sample: ManagerSample | None = None
        why = reason
        if reader is not None:
            credentials = manager_credentials(inventory)
            if isinstance(credentials, str):
                why = credentials
            else:
                sample = await reader.read(credentials, deadline=deadline)
                why = sample.status_error
        if sample is None or sample.status is None:
            pid = _jvm_pid(node, state) if run is not None else None
            if run is None or pid is None:
                jvm = None
            elif jvm is None or jvm.pid != pid or time.monotonic() - last_jvm >= JVM_INTERVAL:
                jvm = await read_jvm(run, pid, max(deadline, 2.0) * 4)
                last_jvm = time.monotonic()
        else:
            jvm = None
        limit = inventory.metrics.max_errors_per_s
        access, since = await access_log.read()
        at = time.time()
        observe(MetricsObserved(node.name, sample, jvm, at, why, limit, access, since))
        rounds += 1
        if rounds == 1:
            woken = await pacer.sleep(min(FIRST_GAP, every))
        else:
            woken = await pacer.sleep(clock.pause(started, loop.time(), woken))


def _jvm_pid(node: Node, state: Callable[[], ClusterState]) -> int | None:
    """The node's Tomcat pid when SSH can read its JVM (up, and Tomcat running)."""
    try:
        view = state().node(node.name)
    except KeyError:
        return None
    if view.ssh != "up" or view.tomcat != "running":
        return None
    return view.tomcat_pid
