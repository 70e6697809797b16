"""Which context a wizard's run opens, by its scope: one function (`registry.run_context`) for
the CLI and the wizard screen. Each scope's context says what is wrong with the nodes or the
answers when it is entered, before anything connects or is audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.audit import AuditLog
from console.operations.registry import WizardUsageError, run_context
from console.operations.wizards.add_node_context import AddNodeUsageError
from tests.inventories import three_nodes

CASES = [
    ("drain", ["node9"], WizardUsageError, "there is no node 'node9' in the inventory"),
    ("drain", ["node1", "node2"], WizardUsageError, "there is no node 'node1,node2'"),
    ("rolling-restart", ["node1", "node9"], WizardUsageError, "there is no node 'node9'"),
    ("add-node", [], AddNodeUsageError, "needs the new node's name and host"),
]


@pytest.mark.parametrize(("wizard", "nodes", "error", "says"), CASES)
async def test_each_scope_refuses_what_it_cannot_act_on(
    tmp_path: Path, wizard: str, nodes: list[str], error: type[Exception], says: str
) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl", "scripted", "test")
    context = run_context(three_nodes(tmp_path), wizard, nodes, audit, {})
    with pytest.raises(error, match=says):
        async with context:
            pytest.fail("the context opened")
    assert not audit.path.exists()
