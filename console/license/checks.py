"""The dashboard's license cross-check: a node whose license no longer matches its system key.

A pure function of a `ClusterState` (the license poll, `console.license.poll`, fills the
nodes' `license`), like `console.cluster.metrics_checks`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from console.cluster.state import ClusterState

Found = tuple[Literal["critical", "warning"], str, str, str]


def license_problems(state: ClusterState) -> Iterator[Found]:
    """A node whose license was activated for another system key than the one it shows now,
    and is no longer activated (critical, as the doctor says it)."""
    for view in state.nodes:
        seen = view.license
        if seen is None or seen.reading is None or seen.remembered is None:
            continue
        reading = seen.reading
        if reading.activated or reading.system_key in (None, seen.remembered):
            continue
        yield (
            "critical",
            "license-changed",
            view.name,
            f"{view.name}: license no longer matches: the system key changed since "
            f"activation (was {seen.remembered}, now {reading.system_key}); request a "
            "license for the new key (--wizard license)",
        )
