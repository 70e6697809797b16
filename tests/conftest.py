"""Fixtures every test folder shares."""

from __future__ import annotations

import fcntl
import tempfile
from collections.abc import Iterator
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


@pytest.fixture(autouse=True)
def _no_login_prompt_left_behind() -> Iterator[None]:
    """The keyboard-interactive prompt is one hook per process (`probes.ssh.prompt`): a test that
    installs one (the CLI's terminal prompt, the console's screen prompt) must not leave it to
    the next test of the same worker."""
    yield
    from probes.ssh.prompt import set_kbdint_prompt

    set_kbdint_prompt(None)


LOAD_PROOF_WORDS = ("under_load", "under_sticky_load", "loses_nothing")
"""Test names that measure the sandbox's sticky load against a rate floor."""


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Under pytest-xdist (`make test` runs two workers), a load proof runs alone.

    Two load proofs at once on 2 cores starved each other below the 100 requests/s floor, and so
    did a variant's sandbox starting beside one. Every test holds a shared lock for its whole
    protocol (fixture setup and teardown included: a module's sandbox starts inside its first
    test's); a load proof holds it exclusively. A gate lock taken first keeps the other worker
    from starving a waiting load proof."""
    uid = getattr(item.config, "workerinput", {}).get("testrunuid")
    if not uid:
        yield
        return
    exclusive = any(word in item.name for word in LOAD_PROOF_WORDS)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    base = Path(tempfile.gettempdir()) / f"clusterconsole-tests-{uid}"
    with open(f"{base}.gate", "a") as gate, open(f"{base}.lock", "a") as lock:
        fcntl.flock(gate, mode)
        fcntl.flock(lock, mode)
        if not exclusive:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            fcntl.flock(gate, fcntl.LOCK_UN)


@pytest.fixture
def three_node_inventory(tmp_path: Path) -> Inventory:
    """Three nodes behind one httpd balancer (`tests.inventories.three_nodes_text`)."""
    return three_nodes(tmp_path)
