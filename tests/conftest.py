"""Fixtures every test folder shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config.model import Inventory
from tests.inventories import three_nodes


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep tests that share a server on one pytest-xdist worker (`make test` runs two).

    Every test of the shared 3-node sandbox runs on one worker, in collection order (the
    disruptive ones last); each other module of sandbox tests (a variant's own sandbox, the
    install test) stays whole on a worker; unit and screen tests spread over both.
    """
    for item in items:
        if "sandbox" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("sandbox"))
        elif item.get_closest_marker("sandbox") is not None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture
def three_node_inventory(tmp_path: Path) -> Inventory:
    """Three nodes behind one httpd balancer (`tests.inventories.three_nodes_text`)."""
    return three_nodes(tmp_path)
