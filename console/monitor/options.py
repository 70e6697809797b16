"""How often the monitor's probes run and what each may cost (`MonitorOptions`), in a module of
its own: the monitor, the node watches and the shared polls all read it, and none of them
imports another for it."""

from __future__ import annotations

from dataclasses import dataclass

from probes.http import DEADLINE as HTTP_DEADLINE


@dataclass(frozen=True, slots=True)
class MonitorOptions:
    """How often each probe runs and how much each may cost."""

    read_only: bool = True
    """Watch mode: nothing may change the cluster (the shared-dir check only tests permissions)."""
    http_interval: float = 2.0
    balancer_interval: float = 2.0
    process_interval: float = 3.0
    database_interval: float = 4.0
    """The database from this machine, and each node's reach to it."""
    listener_interval: float = 4.0
    """How often each node's SSH port is asked for a banner while its connection is up (a
    listener that refuses new connections is a problem even while the old one works); 0: never.
    Stretched to at most 50 checks a second across the fleet (10 s for 500 nodes)."""
    shared_dir_interval: float = 30.0
    backlog_bytes: int = 4 << 20
    """How much of each log's history to read at start to learn the current membership."""
    connect_limit: int = 32
    """SSH connections opened at once (more makes every one of them slower)."""
    poll_interval: float = 0.1
    """How often a log follower looks for new bytes."""
    probe_deadline: float = HTTP_DEADLINE
    """Seconds one read of a node's URL or a balancer may take in all (headers and body): a
    server that trickles its answer is reported as "no answer within N s", never waited on."""
    metrics_interval: float | None = None
    """Seconds between two reads of a node's figures; None: the inventory's [metrics] interval."""
