"""Fixtures every test folder shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config_model import Inventory
from tests.inventories import three_nodes


@pytest.fixture
def three_node_inventory(tmp_path: Path) -> Inventory:
    """Three nodes behind one httpd balancer (`tests.inventories.three_nodes_text`)."""
    return three_nodes(tmp_path)
