"""`evolve`, the reducer's fast `dataclasses.replace`: the same copy, the old object untouched,
and a clear refusal for what it cannot copy."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from console.cluster.evolve import evolve
from console.cluster.observations import HttpObserved
from console.cluster.state import ClusterState
from console.config import load_inventory_text
from probes.http import HttpCheck

INVENTORY = """
[cluster]
name = "c"
[[nodes]]
name = "node1"
host = "10.0.0.1"
catalina_base = "/t"
http = "http://10.0.0.1:8080/app/"
[[balancers]]
name = "httpd"
kind = "apache"
url = "http://10.0.0.9/balancer-manager"
"""


def _state(tmp_path: Path) -> ClusterState:
    inventory = load_inventory_text(INVENTORY, tmp_path / "cluster.toml")
    state = ClusterState.initial(inventory)
    check = HttpCheck("http://10.0.0.1:8080/app/", 200, 3.0)
    return state.apply(HttpObserved("node1", check, 5.0))


def test_the_same_copy_as_dataclasses_replace(tmp_path: Path) -> None:
    state = _state(tmp_path)
    view, balancer = state.nodes[0], state.balancers[0]
    assert evolve(view, tomcat="running", updated=9.0) == dataclasses.replace(
        view, tomcat="running", updated=9.0
    )
    assert evolve(balancer, reachable=False) == dataclasses.replace(balancer, reachable=False)
    copy = evolve(state, version=state.version + 1)
    assert copy == dataclasses.replace(state, version=state.version + 1)
    assert copy.node("node1") is view  # the rest is shared, not copied deeply
    assert (view.tomcat, state.version) != ("running", copy.version)  # the old ones unchanged


def test_an_unknown_field_is_refused(tmp_path: Path) -> None:
    view = _state(tmp_path).nodes[0]
    with pytest.raises(TypeError, match="NodeView has no field 'tomcatt'"):
        evolve(view, tomcatt="running")


@dataclasses.dataclass(frozen=True)
class Unslotted:
    a: int


@dataclasses.dataclass(frozen=True, slots=True)
class Checked:
    a: int

    def __post_init__(self) -> None:
        if self.a < 0:
            raise ValueError("negative")


@dataclasses.dataclass(slots=True)
class Mutable:
    a: int


@pytest.mark.parametrize("obj", [Unslotted(1), Checked(1), Mutable(1)])
def test_what_init_must_see_is_refused(obj: object) -> None:
    """A class whose __init__ does more than set its fields (or that is not a frozen slotted
    dataclass) is refused, so no check in __post_init__ is ever skipped."""
    with pytest.raises(TypeError, match="evolve serves"):
        evolve(obj, a=-1)
