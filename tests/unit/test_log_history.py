"""What a node's log says about its history: a truncated log is not a node that sees no one.

A log read from its first byte told the whole membership only if that first byte is the
server's start; a truncation, a file replaced while the console was away, or skipped entries
while following are reported as `LogHistoryLost` (the state then treats that observer's
membership as unknown), a rotation read to its end is not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from console.cluster.observations import BacklogScanned, LogHistoryLost, LogTrouble, Observation
from console.config import load_inventory_text
from console.config.model import Inventory
from console.monitor import node_watch
from console.monitor.node_watch import NodeWatch, begins_with_server_start, history_lost
from console.monitor.runner import MonitorOptions
from probes.logs.scanner import EventScanner
from probes.ssh.connection import CommandResult
from probes.tail.follow import TailData, TailPosition, TailReset

DATA = Path(__file__).parent / "data" / "logs"
TRIBES = DATA / "sandbox_tomcat101_node1_peer_stop_and_crash.log"


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    return load_inventory_text(
        "[cluster]\nname = 't'\n[[nodes]]\nname = 'node1'\nhost = '127.0.4.11'\n"
        "catalina_base = '/srv/node1'\n",
        tmp_path / "cluster.toml",
    )


def watch_with_log(
    inventory: Inventory, content: bytes, monkeypatch: pytest.MonkeyPatch
) -> tuple[NodeWatch, list[Observation]]:
    seen: list[Observation] = []
    watch = NodeWatch(inventory, inventory.nodes[0], MonitorOptions(), seen.append)

    async def exec(command: str, timeout: float = 15.0) -> CommandResult:
        header = f"BACKLOG 4242 {len(content)} 0\n".encode()
        return CommandResult(0, header + content, b"")

    monkeypatch.setattr(watch, "exec", exec)
    return watch, seen


def complete(seen: list[Observation]) -> list[bool]:
    return [o.complete for o in seen if isinstance(o, BacklogScanned)]


async def test_a_log_truncated_under_a_running_tomcat_does_not_tell_the_membership(
    inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `: > catalina.out` and then a few lines: the file starts at byte 0 but not at the
    # server's start. It used to count as the whole history: "node1 sees no member".
    lines = TRIBES.read_bytes().splitlines(keepends=True)
    after = b"".join(line for line in lines[-5:] if b"memberAdded" not in line)
    for content in (b"", after):
        watch, seen = watch_with_log(inventory, content, monkeypatch)
        await watch._backlog(inventory.nodes[0].logs[0], EventScanner())
        assert complete(seen) == [False], content[:200]


async def test_a_log_that_begins_with_the_server_start_tells_the_membership(
    inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = b"".join(TRIBES.read_bytes().splitlines(keepends=True)[:20])  # no startup line yet
    watch, seen = watch_with_log(inventory, head, monkeypatch)
    await watch._backlog(inventory.nodes[0].logs[0], EventScanner())
    assert complete(seen) == [True]


def test_server_start_marks() -> None:
    assert begins_with_server_start(TRIBES.read_bytes())
    assert begins_with_server_start(
        b"TID: [-1234] [] [2019-09-20 07:43:50,996]  INFO "
        b"{org.wso2.carbon.core.internal.CarbonCoreActivator} -  Starting WSO2 Carbon...\n"
    )
    assert not begins_with_server_start(b"")
    assert not begins_with_server_start(TRIBES.read_bytes().splitlines()[-1])


@pytest.mark.parametrize(
    ("reset", "lost"),
    [
        (TailReset("l", "truncated", TailPosition(1, 0), "shrank"), "was truncated"),
        (
            TailReset("l", "truncated", TailPosition(1, 0), "rewritten", missed=True),
            "was truncated and rewritten before it could be read",
        ),
        (
            TailReset("l", "rotated", TailPosition(2, 0), "gone", missed=True),
            "was replaced while the console was disconnected",
        ),
        (
            TailReset("l", "reopened", TailPosition(None, 0), "journal", missed=True),
            "skipped entries written while the console was disconnected",
        ),
        (TailReset("l", "rotated", TailPosition(2, 0), "the previous file was read"), None),
        (TailReset("l", "reopened", TailPosition(1, 9), "resumed"), None),
        (TailReset("l", "missing", TailPosition(1, 9), "no such file"), None),
        (TailReset("l", "started", TailPosition(1, 9)), None),
    ],
)
def test_which_resets_lose_the_history(reset: TailReset, lost: str | None) -> None:
    assert history_lost(reset) == lost


async def test_the_follower_reports_a_truncation_and_a_burst_as_history_lost_with_missed_lines(
    inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Observation] = []
    watch = NodeWatch(inventory, inventory.nodes[0], MonitorOptions(), seen.append)
    rewritten = TailReset("l", "truncated", TailPosition(4242, 0), "rewritten", missed=True)
    items: list[TailData | TailReset] = [
        TailReset("l", "started", TailPosition(4242, 10)),
        rewritten,
        TailData("l", b"a line\n", 0, TailPosition(4242, 7)),
    ]

    class FakeFollower:
        def __init__(self, *args: Any, on_chunk: Any, **kwargs: Any) -> None:
            self._emit = on_chunk

        async def run(self) -> None:
            for item in items:
                self._emit(item)

    async def no_history(*args: object) -> TailPosition:
        return TailPosition(4242, 10)

    monkeypatch.setattr(node_watch, "LogFollower", FakeFollower)
    monkeypatch.setattr(watch, "_backlog", no_history)
    await watch._follow(inventory.nodes[0].logs[0])
    lost = [o for o in seen if isinstance(o, LogHistoryLost)]
    assert [(o.node, o.log, o.reason, o.missed) for o in lost] == [
        (
            "node1",
            "/srv/node1/logs/catalina.out",
            "was truncated and rewritten before it could be read",
            True,
        )
    ]
    trouble = [o for o in seen if isinstance(o, LogTrouble)]
    assert len(trouble) == 1 and trouble[0].what.startswith("log truncated")
