"""balancer_persist on the real sandbox httpd: a member written into httpd.conf over node1's sshd
(the inventory's `config`) and tested is there after a graceful restart of httpd, and goes again
(written, tested, reloaded). A failing config test puts the previous file back and reloads
nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from console.audit import AuditLog
from console.balancer.clients import open_balancer
from console.balancer.conf import BEGIN, Member
from console.balancer.persist import PersistError, persist_member
from console.config import load_inventory
from console.sandbox.layout import SandboxLayout

from .helpers import wait_until_async

pytestmark = [pytest.mark.sandbox]


async def _urls(layout: SandboxLayout) -> set[str]:
    inventory = load_inventory(layout.inventory)
    client = open_balancer(inventory.balancers[0], inventory, writable=False)
    try:
        page = await client.read()
    finally:
        await client.aclose()
    return {worker.url for balancer in page.balancers for worker in balancer.workers}


def _graceful_count(layout: SandboxLayout) -> int:
    log = layout.httpd_dir / "logs" / "error.log"
    return log.read_text(errors="replace").count("Doing graceful restart")


def test_a_persisted_member_survives_a_graceful_restart(
    sandbox: SandboxLayout, tmp_path: Path
) -> None:
    """Without load: a graceful restart closes idle keep-alive connections, which an HTTP
    library client that does not retry counts as failures (see balancer_persist); the wizards
    therefore write the file without reloading, and this test restarts httpd itself."""
    inventory = load_inventory(sandbox.inventory)
    config = inventory.balancers[0]
    assert config.config is not None and config.config.node == "node1"
    audit = AuditLog(tmp_path / "audit.jsonl", "scripted", "sandbox")
    spare_url = f"http://{sandbox.net}.29:8080"
    member = Member("node9", spare_url, ("status=+D",))  # disabled: no traffic goes to it
    original = sandbox.httpd_conf.read_text()

    async def scenario() -> None:
        added = await persist_member(
            inventory, config, "cluster", member, add=True, audit=audit, wizard="test", node="node9"
        )
        assert added.persisted, added.message
        line = f'BalancerMember "{spare_url}" route=node9 retry=5 ttl=10 status=+D'
        assert added.lines == (line,)
        text = sandbox.httpd_conf.read_text()
        assert BEGIN in text and line in text
        assert spare_url not in await _urls(sandbox)  # written, not reloaded: runtime unchanged
        restarts = _graceful_count(sandbox)
        subprocess.run(["apachectl", "-k", "graceful", "-f", str(sandbox.httpd_conf)], check=True)
        await wait_until_async(
            lambda: _graceful_count(sandbox) > restarts, 30, "httpd's graceful restart"
        )

        async def listed() -> bool:
            return spare_url in await _urls(sandbox)

        await wait_until_async_coro(listed, 30, "node9 on the balancer page after the restart")
        removed = await persist_member(
            inventory,
            config,
            "cluster",
            member,
            add=False,
            audit=audit,
            wizard="test",
            node="node9",
            reload=True,
        )
        assert removed.persisted and removed.lines == added.lines
        assert "reloaded" in removed.message

        async def gone() -> bool:
            return spare_url not in await _urls(sandbox)

        await wait_until_async_coro(gone, 30, "node9 gone from the balancer page after the reload")

    try:
        asyncio.run(scenario())
    finally:
        if sandbox.httpd_conf.read_text() != original:
            sandbox.httpd_conf.write_text(original)
    assert sandbox.httpd_conf.read_text() == original  # add then remove: the file as it was
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all('"ok": true' in line for line in lines[1::2])


def test_a_failing_config_test_puts_the_previous_file_back(
    sandbox: SandboxLayout, tmp_path: Path
) -> None:
    inventory = load_inventory(sandbox.inventory)
    config = dataclasses.replace(
        inventory.balancers[0], config_test="apachectl -t -f {config} && false"
    )
    audit = AuditLog(tmp_path / "audit.jsonl", "scripted", "sandbox")
    before = hashlib.sha256(sandbox.httpd_conf.read_bytes()).hexdigest()
    restarts = _graceful_count(sandbox)
    member = Member("node9", f"http://{sandbox.net}.29:8080", ("status=+D",))
    with pytest.raises(PersistError, match=r"failed.*the previous file is back"):
        asyncio.run(
            persist_member(
                inventory,
                config,
                "cluster",
                member,
                add=True,
                audit=audit,
                wizard="test",
                node="node9",
            )
        )
    assert hashlib.sha256(sandbox.httpd_conf.read_bytes()).hexdigest() == before
    assert _graceful_count(sandbox) == restarts
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 2 and '"ok": false' in lines[1]


async def wait_until_async_coro(
    probe: Callable[[], Awaitable[bool]], timeout: float, what: str
) -> None:
    """Poll the coroutine function `probe` until it returns True; fail after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.2)
