"""What the probes saw, as small frozen messages: the only input of the cluster state.

Each observation names the node or balancer it is about and when it was made (``time.time()``).
The monitor creates them; `console.cluster.state.ClusterState.apply` is the one place that
interprets
them. Recorded observations replay a session for tests and screens.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.cluster.maintenance import Acknowledgement, MaintenanceMark
from probes.balancer.model import BalancerPage
from probes.database import DatabaseHealth
from probes.files import SharedDirHealth
from probes.http import HttpCheck
from probes.license.model import LicenseReading
from probes.logs.model import LogEvent
from probes.metrics.access_tail import AccessRead
from probes.metrics.jvm import JvmSample
from probes.metrics.tomcat_manager import ManagerSample
from probes.process import TomcatProcess
from probes.reach import Reach
from probes.ssh.state import SshState


@dataclass(frozen=True, slots=True)
class SshObserved:
    """The node's SSH connection changed state (connecting, up, down, auth-failed ...)."""

    node: str
    state: SshState
    reason: str | None
    at: float
    peer: str | None = None
    """The address the SSH connection reached: logs and balancers name the node by it."""


@dataclass(frozen=True, slots=True)
class ProcessObserved:
    """Whether the node's Tomcat (or Carbon) JVM runs, from ``ps`` over SSH."""

    node: str
    process: TomcatProcess
    at: float


@dataclass(frozen=True, slots=True)
class HttpObserved:
    """One GET of the node's own URL, bypassing the balancer."""

    node: str
    check: HttpCheck
    at: float


@dataclass(frozen=True, slots=True)
class EventObserved:
    """An event parsed from one of the node's logs."""

    node: str
    log: str
    event: LogEvent
    at: float
    backlog: bool = False
    """True for events read from the log's history when following started (not live)."""


@dataclass(frozen=True, slots=True)
class BacklogScanned:
    """The history of a node's log was read; ``complete`` when it covered the whole server run.

    Complete means the membership the log told is the whole membership: the history reached
    the file's start or a server start.
    """

    node: str
    log: str
    complete: bool
    at: float


@dataclass(frozen=True, slots=True)
class LogTrouble:
    """Following a log hit something worth showing (missing file, rotation, truncation)."""

    node: str
    log: str
    what: str
    at: float


@dataclass(frozen=True, slots=True)
class LogHistoryLost:
    """A node's log lost its history under the follower (truncated, replaced, or bytes skipped).

    What the log told about membership before is no longer known to hold: the state treats
    that observer's view as unknown (with ``reason`` shown) until the log tells it again,
    never as every member having left. ``missed`` is True when bytes were written and lost
    before the follower could read them (truncation followed by a burst within one poll).
    """

    node: str
    log: str
    reason: str
    missed: bool
    at: float


@dataclass(frozen=True, slots=True)
class MaintenanceObserved:
    """The maintenance marks and acknowledged problems of the cluster, as last read.

    Every read replaces the previous one whole: a node without a mark is not in maintenance, a
    problem without an acknowledgement is not acknowledged. Acknowledgements expire by the
    state's clock (the latest observation's ``at``), not by wall-clock reads in the reducer.
    """

    marks: tuple[MaintenanceMark, ...]
    acknowledgements: tuple[Acknowledgement, ...]
    at: float


@dataclass(frozen=True, slots=True)
class BalancerObserved:
    """One read of a balancer: its page, or why it could not be read."""

    balancer: str
    page: BalancerPage | None
    error: str | None
    at: float


@dataclass(frozen=True, slots=True)
class DatabaseObserved:
    """One check of the shared database from this machine."""

    health: DatabaseHealth
    at: float


@dataclass(frozen=True, slots=True)
class SharedDirObserved:
    """The shared directory as the node sees it."""

    node: str
    health: SharedDirHealth
    at: float


@dataclass(frozen=True, slots=True)
class DatabaseReachObserved:
    """Whether the node itself can open a TCP connection to the database."""

    node: str
    reach: Reach
    at: float


@dataclass(frozen=True, slots=True)
class MetricsObserved:
    """One read of a node's figures: its manager application's pages (`sample`), or what SSH
    read of its JVM (`jvm`) with why the manager was not used (`reason`), or neither and why."""

    node: str
    sample: ManagerSample | None
    jvm: JvmSample | None
    at: float
    reason: str | None = None
    max_errors_per_s: float = 1.0
    """The inventory's error-rate threshold (`[metrics] max_errors_per_s`), for the checks."""
    access: AccessRead | None = None
    """The node's access log read with this read (its 5xx and 4xx counts), or why not."""
    access_since: float | None = None
    """When the access log's previous read was made: `access`'s counts are since then."""


@dataclass(frozen=True, slots=True)
class LicenseObserved:
    """A node's license page, read on its own URL, with the system key remembered at its
    activation (None: never seen activated)."""

    node: str
    url: str
    reading: LicenseReading | None
    remembered: str | None
    error: str | None
    at: float


Observation = (
    SshObserved
    | ProcessObserved
    | HttpObserved
    | EventObserved
    | BacklogScanned
    | LogTrouble
    | LogHistoryLost
    | MaintenanceObserved
    | BalancerObserved
    | DatabaseObserved
    | SharedDirObserved
    | DatabaseReachObserved
    | MetricsObserved
    | LicenseObserved
)
