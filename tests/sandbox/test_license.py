"""The per-node license page: one system key per node, activation bound to that key."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from console.sandbox.layout import NodeLayout, SandboxLayout

from .helpers import HTTP_TIMEOUT, node_stopped

pytestmark = pytest.mark.sandbox

_SYSTEM_KEY = re.compile(r'<span id="system-key">([^<]+)</span>')
_STATUS = re.compile(r'<span id="status">([^<]+)</span>')


@dataclass(frozen=True, slots=True)
class LicensePage:
    system_key: str
    status: str
    http_status: int


def license_url(node: NodeLayout) -> str:
    return f"{node.http_url}/license/"


def state_file(node: NodeLayout) -> Path:
    """Where the page keeps the activation: under the node's own CATALINA_BASE."""
    return node.base / "license" / "license.key"


def license_key(system_key: str) -> str:
    """The key the vendor would issue for `system_key`."""
    digest = hashlib.sha256(f"clusterconsole-sandbox-license|{system_key}".encode()).hexdigest()
    hex25 = digest.upper()[:25]
    return "-".join(hex25[i : i + 5] for i in range(0, 25, 5))


def _parse(response: httpx.Response) -> LicensePage:
    key, status = _SYSTEM_KEY.search(response.text), _STATUS.search(response.text)
    assert key and status, response.text
    return LicensePage(key[1], status[1], response.status_code)


def read_page(node: NodeLayout) -> LicensePage:
    """Open the node's page directly (never through the balancer), as a fresh visitor."""
    return _parse(httpx.get(license_url(node), timeout=HTTP_TIMEOUT))


def submit(node: NodeLayout, key: str) -> LicensePage:
    return _parse(httpx.post(license_url(node), data={"license": key}, timeout=HTTP_TIMEOUT))


@pytest.fixture
def clean_licenses(sandbox: SandboxLayout) -> Iterator[SandboxLayout]:
    """Every node starts and ends the test not activated."""
    for node in sandbox.nodes:
        state_file(node).unlink(missing_ok=True)
    try:
        yield sandbox
    finally:
        for node in sandbox.nodes:
            state_file(node).unlink(missing_ok=True)


def test_each_node_has_its_own_system_key(clean_licenses: SandboxLayout) -> None:
    pages = [read_page(node) for node in clean_licenses.nodes]
    assert all(page.http_status == 200 for page in pages)
    assert len({page.system_key for page in pages}) == len(pages), pages
    assert all(re.fullmatch(r"[0-9A-F]{4}(-[0-9A-F]{4}){3}", page.system_key) for page in pages)
    assert {page.status for page in pages} == {"not activated"}
    assert [read_page(node).system_key for node in clean_licenses.nodes] == [
        page.system_key for page in pages
    ], "the system key is stable across requests"


def test_activation_is_per_node(clean_licenses: SandboxLayout) -> None:
    target, *others = clean_licenses.nodes
    system_key = read_page(target).system_key
    state = state_file(target)

    for wrong in ("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", license_key(read_page(others[0]).system_key)):
        refused = submit(target, wrong)
        assert (refused.http_status, refused.status) == (400, "not activated"), wrong
        assert not state.exists()

    right = license_key(system_key)
    accepted = submit(target, right.lower())  # the page accepts either case
    assert (accepted.http_status, accepted.status) == (200, "activated")
    assert read_page(target).status == "activated", "a fresh visit still shows it activated"
    assert state.read_text().strip() == right
    for node in others:
        assert read_page(node).status == "not activated", node.name
        assert not state_file(node).exists()


@pytest.mark.disruptive
def test_activation_survives_a_restart(clean_licenses: SandboxLayout) -> None:
    target = clean_licenses.nodes[-1]
    before = read_page(target)
    assert submit(target, license_key(before.system_key)).status == "activated"
    with node_stopped(clean_licenses, target):
        pass
    after = read_page(target)
    assert (after.system_key, after.status) == (before.system_key, "activated")
