"""The add-node wizard's pure parts: the node its answers describe, what its steps would send
where (worker address, front URL) and the [[nodes]] table it appends; usage errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from console.operations.registry import SPECS, check_answers
from console.operations.wizards.add_node import WIZARD, _fields
from console.operations.wizards.add_node_context import (
    AddNodeContext,
    AddNodeUsageError,
    new_node,
    with_new_node,
)
from console.operations.wizards.add_node_steps import worker_address
from console.operations.wizards.add_node_verify import front_urls
from tests.inventories import three_nodes


def _ctx(tmp_path: Path, **answers: Any) -> AddNodeContext:
    inventory = three_nodes(tmp_path)
    given = {"name": "node4", "host": "10.0.0.4", **answers}
    node, ref = new_node(inventory, given)
    return AddNodeContext(
        inventory=with_new_node(inventory, node),
        node=node,
        wizard="add-node",
        monitor=None,  # type: ignore[arg-type]  # not used by these pure parts
        audit=None,  # type: ignore[arg-type]
        actions=None,  # type: ignore[arg-type]
        answers=given,
        before=inventory,
        reference=ref,
    )


def test_only_name_and_host_are_needed_the_rest_follows_the_reference(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    assert ctx.node.jvm_route == "node4"
    assert ctx.node.http == "http://10.0.0.4:8080/app/"
    assert ctx.ref.name == "node1"
    assert [n.name for n in ctx.inventory.nodes] == ["node1", "node2", "node3", "node4"]
    assert [n.name for n in ctx.old.nodes] == ["node1", "node2", "node3"]


def test_the_worker_and_front_urls(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    assert worker_address(ctx, "apache") == "http://10.0.0.4:8080"
    assert worker_address(ctx, "haproxy") == "10.0.0.4:8080"
    assert front_urls(ctx) == ["http://10.0.0.100/app/"]
    given = _ctx(tmp_path, front_url="https://shop.example/app/")
    assert front_urls(given) == ["https://shop.example/app/"]


def test_the_inventory_table_holds_what_was_answered_or_proposed(tmp_path: Path) -> None:
    fields = _fields(_ctx(tmp_path, ssh_port=2222))
    assert fields["name"] == "node4" and fields["host"] == "10.0.0.4"
    assert fields["jvm_route"] == "node4" and fields["ssh_port"] == 2222
    assert "ssh_user" not in fields  # not answered: [ssh]'s


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ({"name": "node4"}, "host"),
        ({"host": "10.0.0.4"}, "name"),
        ({"name": "node4", "host": "10.0.0.4", "reference": "nodeX"}, "nodeX"),
    ],
)
def test_answers_that_name_no_node_are_usage_errors(
    tmp_path: Path, answers: dict[str, Any], words: str
) -> None:
    with pytest.raises(AddNodeUsageError, match=words):
        new_node(three_nodes(tmp_path), answers)


def test_answers_are_checked_by_kind() -> None:
    assert check_answers("add-node", {"ssh_port": 22})["ssh_port"] == 22
    for bad in (0, 70000, "22", True):
        with pytest.raises(Exception, match="TCP port"):
            check_answers("add-node", {"ssh_port": bad})


def test_the_catalog_declares_it_for_a_new_node_with_every_step() -> None:
    spec = SPECS["add-node"]
    assert spec.scope == "new-node"
    names = [step.name for step in WIZARD.steps]
    assert names[:4] == ["host-key", "preflight", "base", "peers"]
    assert names.index("balancers") < names.index("enable") < names.index("verify")
    assert names[-2:] == ["inventory", "license"]
