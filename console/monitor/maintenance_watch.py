"""The maintenance marks and acknowledged problems, brought into the cluster state.

`console.cluster.maintenance` keeps them in a small file that wizards and consoles change; the
monitor
runs `watch_maintenance`, which observes the file's content at once and again whenever the file
changes (a wizard in another terminal, an acknowledgement from another console), so `status`, the
dashboard and watch mode all see the same marks. The reducer stays pure: it only ever sees
`MaintenanceObserved` observations.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

from console.cluster import maintenance
from console.cluster.observations import MaintenanceObserved, Observation

INTERVAL = 2.0
"""Seconds between two looks at the file (a stat; the file is read only when it changed)."""

Signature = tuple[int, int, int] | None


def maintenance_observation(cluster: str, path: Path | None = None) -> MaintenanceObserved:
    """What the file says now about `cluster` (empty when there is no file or it is unreadable)."""
    target = path or maintenance.maintenance_path()
    marks = maintenance.load(cluster, path=target)
    acks = maintenance.acknowledgements(cluster, path=target)
    return MaintenanceObserved(
        tuple(marks[name] for name in sorted(marks)),
        tuple(acks[key] for key in sorted(acks)),
        time.time(),
    )


def _signature(path: Path) -> Signature:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


async def watch_maintenance(
    cluster: str,
    observe: Callable[[Observation], None],
    *,
    path: Path | None = None,
    interval: float = INTERVAL,
) -> None:
    """Observe the marks now, then each time the file changes; runs until cancelled."""
    target = path or maintenance.maintenance_path()
    seen: Signature | object = object()  # never equal: the first look always observes
    while True:
        signature = _signature(target)
        if signature != seen:
            seen = signature
            observe(maintenance_observation(cluster, target))
        await asyncio.sleep(interval)
