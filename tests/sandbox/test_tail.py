"""LogFollower on a real node: every line exactly once through sshd kills, truncation, rotation.

The followed files are test files of their own under the node's logs directory, never
catalina.out, so other tests reading it are not disturbed.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from console.sandbox import sshd
from console.sandbox.layout import SSH_PORT, NodeLayout, SandboxLayout
from console.sandbox.procs import cmdline
from probes.ssh.connection import Backoff, NodeSession, SshStatus, SshTarget
from probes.tail.follow import SCRIPT_NAME, LogFollower, TailData, TailPosition, TailReset

from .helpers import wait_until_async as wait_until

pytestmark = [pytest.mark.sandbox]

QUICK = Backoff(initial=0.2, cap=1.0)


@dataclass
class Received:
    """Everything the follower delivered, checked for byte continuity as it arrives."""

    data: bytearray = field(default_factory=bytearray)
    resets: list[TailReset] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    statuses: list[SshStatus] = field(default_factory=list)
    expect: TailPosition | None = None
    started_at: float = 0.0
    data_at: float = 0.0

    def __call__(self, item: TailData | TailReset) -> None:
        if isinstance(item, TailReset):
            self.started_at = self.started_at or time.perf_counter()
            self.resets.append(item)
            self.expect = item.position
            return
        where = (item.position.inode, item.start)
        if self.expect is not None and where != (self.expect.inode, self.expect.offset):
            self.gaps.append(f"data at {where}, expected {self.expect}")
        if item.position.offset != item.start + len(item.data):
            self.gaps.append(f"position {item.position} does not follow {len(item.data)} bytes")
        self.data += item.data
        self.expect = item.position
        self.data_at = time.perf_counter()

    def lines(self) -> list[str]:
        return bytes(self.data).decode().splitlines()

    def last(self) -> str | None:
        """The last complete line, cheaply (only the tail of the data is looked at)."""
        tail = bytes(self.data[-4096:])
        if not tail.endswith(b"\n"):
            return None
        return tail[:-1].rsplit(b"\n", 1)[-1].decode()

    def reasons(self) -> list[str]:
        return [reset.reason for reset in self.resets]


def numbered(first: int, last: int, tag: str = "line") -> list[str]:
    return [f"{tag} {n:06d} some tomcat-ish text to make it longer" for n in range(first, last + 1)]


def append(path: Path, lines: list[str]) -> None:
    with path.open("a") as handle:
        handle.write("".join(line + "\n" for line in lines))


def target(layout: SandboxLayout, node: NodeLayout) -> SshTarget:
    return SshTarget(
        node=node.name,
        host=node.address,
        port=SSH_PORT,
        username=getpass.getuser(),
        client_keys=(str(layout.client_key),),
        known_hosts=str(layout.known_hosts),
        keepalive_interval=1,
        keepalive_count_max=2,
    )


@asynccontextmanager
async def following(
    layout: SandboxLayout, node: NodeLayout, path: Path | str, **options: Any
) -> AsyncIterator[tuple[NodeSession, LogFollower, Received]]:
    received = Received()
    session = NodeSession(target(layout, node), backoff=QUICK, on_status=received.statuses.append)
    options.setdefault("poll_interval", 0.05)
    follower = LogFollower(session, str(path), on_chunk=received, **options)
    tasks = [asyncio.create_task(session.run()), asyncio.create_task(follower.run())]
    try:
        await wait_until(lambda: received.resets, 20, f"the follower of {path} to start")
        yield session, follower, received
    finally:
        await session.close()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
        for task in tasks:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error
    assert not received.gaps, received.gaps


def fresh_log(node: NodeLayout, name: str) -> Path:
    path = node.base / "logs" / f"tailtest-{name}-{uuid.uuid4().hex[:8]}.log"
    path.write_text("written before following: never delivered\n")
    return path


# -- killing a node's sshd with every session it serves ----------------------------------------


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def _tree(root: int) -> set[int]:
    parents, found = _parents(), {root}
    grew = True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def kill_sshd_and_sessions(node: NodeLayout) -> None:
    """SIGKILL the node's sshd listener and every per-connection sshd and command under it.

    Killing only the listener leaves established sessions alive. The tree is frozen first
    (SIGSTOP) so that nothing forks or is reparented away while it is being collected.
    """
    pid = sshd.running_pid(node)
    assert pid is not None, f"{node.name}: sshd is not running"
    frozen: set[int] = set()
    while True:
        tree = _tree(pid)
        for victim in tree - frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGSTOP)
        if tree <= frozen:
            break
        frozen |= tree
    for victim in frozen:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    node.sshd_pid_file.unlink(missing_ok=True)


@asynccontextmanager
async def sshd_killed(node: NodeLayout, session: NodeSession) -> AsyncIterator[None]:
    """The node's sshd and sessions are dead inside; restarted on the way out, whatever happens."""
    kill_sshd_and_sessions(node)
    try:
        await wait_until(lambda: session.status.state != "up", 15, "the session to notice")
        yield
    finally:
        sshd.start(node)


# -- the tests ---------------------------------------------------------------------------------


@pytest.mark.disruptive
async def test_every_line_once_in_order_across_an_sshd_kill(sandbox: SandboxLayout) -> None:
    node = sandbox.nodes[0]
    path = fresh_log(node, "kill")
    async with following(sandbox, node, path) as (session, follower, received):
        append(path, numbered(1, 50))
        await wait_until(lambda: len(received.lines()) == 50, 20, "lines 1-50")
        async with sshd_killed(node, session):
            assert session.status.state in ("down", "timeout"), session.status
            append(path, numbered(51, 120))  # written while the node is unreachable
        append(path, numbered(121, 150))
        await wait_until(lambda: received.last() == numbered(150, 150)[0], 30, "line 150")
        assert received.lines() == numbered(1, 150)
        assert received.reasons() == ["started", "reopened"]
        assert follower.position == TailPosition(path.stat().st_ino, path.stat().st_size)


@pytest.mark.disruptive
async def test_rotation_while_disconnected_drains_the_old_file(sandbox: SandboxLayout) -> None:
    node = sandbox.nodes[1]
    path = fresh_log(node, "away")
    async with following(sandbox, node, path) as (session, _, received):
        append(path, numbered(1, 20))
        await wait_until(lambda: len(received.lines()) == 20, 20, "lines 1-20")
        async with sshd_killed(node, session):
            append(path, numbered(21, 40))
            path.rename(path.with_suffix(".log.1"))
            append(path, numbered(41, 60))
        await wait_until(lambda: received.last() == numbered(60, 60)[0], 30, "line 60")
        assert received.lines() == numbered(1, 60)
        assert received.reasons() == ["started", "reopened", "rotated"]


async def test_truncation_restarts_at_zero_without_duplicates(sandbox: SandboxLayout) -> None:
    node = sandbox.nodes[0]
    path = fresh_log(node, "trunc")
    async with following(sandbox, node, path) as (_, _, received):
        append(path, numbered(1, 200))
        await wait_until(lambda: len(received.lines()) == 200, 20, "lines 1-200")
        with path.open("w") as handle:  # truncate, and the writer goes on at once
            handle.write("".join(line + "\n" for line in numbered(1, 2, "after")))
        await wait_until(lambda: "truncated" in received.reasons(), 20, "the truncation")
        append(path, numbered(3, 40, "after"))
        last = numbered(40, 40, "after")[0]
        await wait_until(lambda: received.last() == last, 20, "the lines after it")
        assert received.lines() == numbered(1, 200) + numbered(1, 40, "after")
        assert received.reasons() == ["started", "truncated"]


async def test_rotation_reads_the_rest_of_the_old_file_first(sandbox: SandboxLayout) -> None:
    node = sandbox.nodes[2]
    path = fresh_log(node, "rotate")
    # Small chunks: the old file is still being drained when the new one appears.
    async with following(sandbox, node, path, max_chunk=4096) as (_, _, received):
        append(path, numbered(1, 100))
        await wait_until(lambda: len(received.lines()) >= 50, 20, "the first lines")
        with path.open("a") as old:  # the writer keeps the old file open up to the move
            for line in numbered(101, 3000):
                old.write(line + "\n")
            old.flush()
            path.rename(path.with_suffix(".log.1"))
            with path.open("a") as new:
                new.write("".join(line + "\n" for line in numbered(1, 500, "new")))
        last = numbered(500, 500, "new")[0]
        await wait_until(lambda: received.last() == last, 30, "all lines of both files")
        assert received.lines() == numbered(1, 3000) + numbered(1, 500, "new")
        assert received.reasons() == ["started", "rotated"]


async def test_missing_file_is_reported_and_followed_when_back(sandbox: SandboxLayout) -> None:
    node = sandbox.nodes[1]
    path = node.base / "logs" / f"tailtest-missing-{uuid.uuid4().hex[:8]}.log"
    async with following(sandbox, node, path) as (_, _, received):
        assert received.resets[0].reason == "missing"
        assert received.resets[0].detail == "no such file"
        append(path, numbered(1, 10))
        await wait_until(lambda: len(received.lines()) >= 10, 20, "the lines of the new file")
        path.unlink()
        await wait_until(lambda: received.reasons().count("missing") == 2, 20, "missing again")
        append(path, numbered(11, 20))
        await wait_until(lambda: len(received.lines()) >= 20, 20, "the lines of the next file")
        assert received.lines() == numbered(1, 20)
        assert received.reasons() == ["missing", "reopened", "missing", "rotated"]


# -- journal mode, with a stand-in journalctl (the sandbox has no journald) ---------------------

STAND_IN = """#!/bin/sh
# Stand-in for `journalctl -u UNIT -f -o json`: follows a JSON-lines file of entries.
entries=@@entries
after= lines=all
for arg in "$@"; do
  case $arg in
    --after-cursor=*) after=${arg#--after-cursor=} ;;
    --no-tail) lines=all ;;
    0) lines=0 ;;
  esac
done
if [ -n "$after" ]; then
  n=$(grep -n -F "\\"__CURSOR\\": \\"$after\\"" "$entries" | cut -d: -f1)
  exec tail -n +$((n + 1)) -f "$entries"
elif [ "$lines" = 0 ]; then
  exec tail -n 0 -f "$entries"
fi
exec tail -n +1 -f "$entries"
"""


def _running(command: str) -> bool:
    return any(cmdline(pid) == command for pid in _parents())


def journal_entries(path: Path, first: int, last: int) -> None:
    with path.open("a") as handle:
        for n in range(first, last + 1):
            entry = {"__CURSOR": f"s=abc;i={n:x}", "MESSAGE": f"entry {n:06d}", "PRIORITY": "6"}
            handle.write(json.dumps(entry) + "\n")


@pytest.mark.disruptive
async def test_journal_resumes_after_its_cursor(sandbox: SandboxLayout, tmp_path: Path) -> None:
    node = sandbox.nodes[2]
    entries = tmp_path / "journal.jsonl"
    journal_entries(entries, 1, 5)  # before following: not delivered
    journalctl = tmp_path / "journalctl"
    journalctl.write_text(STAND_IN.replace("@@entries", str(entries)))
    journalctl.chmod(0o755)
    options = {"kind": "journal", "journalctl": str(journalctl)}
    async with following(sandbox, node, "tomcat10", **options) as (session, follower, received):
        # No cursor yet: entries count only once the stand-in's `tail -n 0` has its position.
        await wait_until(lambda: _running(f"tail -n 0 -f {entries}"), 20, "the stand-in to run")
        journal_entries(entries, 6, 30)
        await wait_until(lambda: len(received.lines()) >= 25, 20, "entries 6-30")
        async with sshd_killed(node, session):
            journal_entries(entries, 31, 60)
        journal_entries(entries, 61, 70)
        await wait_until(lambda: received.last() == "entry 000070", 30, "entries 6-70")
        assert received.lines() == [f"entry {n:06d}" for n in range(6, 71)]
        assert received.reasons() == ["started", "reopened"]
        assert follower.position is not None and follower.position.cursor == "s=abc;i=46"


async def test_a_big_file_is_read_whole_from_the_start(sandbox: SandboxLayout) -> None:
    node = sandbox.nodes[0]
    path = fresh_log(node, "big")
    path.write_text("")
    lines = numbered(1, 400_000)  # ~22 MB: several 4 MiB chunks through the real sshd
    append(path, lines)
    async with following(sandbox, node, path, from_start=True) as (_, _, received):
        await wait_until(lambda: received.last() == lines[-1], 60, "the whole file")
        assert received.lines() == lines
    seconds = received.data_at - received.started_at  # from the remote's open to the last chunk
    print(f"\n{len(lines) / seconds:,.0f} lines/s, {len(received.data) / seconds / 1e6:.0f} MB/s")


def timed_out(received: Received) -> list[SshStatus]:
    return [status for status in received.statuses if status.state == "timeout"]


@pytest.mark.disruptive
async def test_a_frozen_connection_is_dropped_by_keepalives_and_resumed(
    sandbox: SandboxLayout,
) -> None:
    # The per-connection sshd processes stop answering (like a network partition); keepalives
    # notice, the session reconnects through the listener, and following resumes.
    node = sandbox.nodes[1]
    path = fresh_log(node, "frozen")
    async with following(sandbox, node, path) as (_, _, received):
        append(path, numbered(1, 10))
        await wait_until(lambda: received.last() == numbered(10, 10)[0], 20, "lines 1-10")
        listener = sshd.running_pid(node)
        assert listener is not None
        frozen = _tree(listener) - {listener}
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        try:
            append(path, numbered(11, 20))
            await wait_until(lambda: timed_out(received), 20, "keepalives to fail")
            assert timed_out(received)[0].reason == "no answer within 3 s (keepalives every 1 s)"
            await wait_until(lambda: received.last() == numbered(20, 20)[0], 20, "lines 11-20")
        finally:
            for pid in frozen:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        assert received.lines() == numbered(1, 20)
        assert received.reasons() == ["started", "reopened"]


# -- truncation with a burst, and a writer that keeps the moved file ----------------------------


def follow_loop(path: Path) -> int:
    """The pid of the remote follow loop (sh) reading `path` on the node (not one of its
    short-lived forks for a command substitution, which share its command line)."""
    parents = _parents()
    shells = {
        pid
        for pid in parents
        if (line := cmdline(pid)).startswith("sh -c") and SCRIPT_NAME in line and str(path) in line
    }
    loops = [pid for pid in shells if parents.get(pid) not in shells]
    assert len(loops) == 1, loops
    return loops[0]


async def test_a_truncation_and_a_bigger_burst_within_one_poll_lose_nothing(
    sandbox: SandboxLayout,
) -> None:
    node = sandbox.nodes[1]
    path = fresh_log(node, "burst")
    async with following(sandbox, node, path) as (_, follower, received):
        append(path, numbered(1, 50))
        await wait_until(lambda: len(received.lines()) == 50, 20, "lines 1-50")
        loop = follow_loop(path)
        os.kill(loop, signal.SIGSTOP)  # no poll between the truncation and the burst
        try:
            with path.open("w") as handle:
                handle.write("".join(line + "\n" for line in numbered(1, 100, "after")))
        finally:
            os.kill(loop, signal.SIGCONT)
        last = numbered(100, 100, "after")[0]
        await wait_until(lambda: received.last() == last, 20, "the 100 lines of the burst")
        assert received.lines() == numbered(1, 50) + numbered(1, 100, "after")
        assert received.reasons() == ["started", "truncated"]
        assert received.resets[-1].missed
        assert follower.position == TailPosition(path.stat().st_ino, path.stat().st_size)


async def test_lines_written_to_the_moved_file_are_read_before_the_new_file(
    sandbox: SandboxLayout,
) -> None:
    node = sandbox.nodes[2]
    path = fresh_log(node, "late")
    async with following(sandbox, node, path) as (_, _, received):
        append(path, numbered(1, 20))
        await wait_until(lambda: len(received.lines()) == 20, 20, "lines 1-20")
        with path.open("a") as tomcat:  # the server keeps its stdout open across the move
            loop = follow_loop(path)
            os.kill(loop, signal.SIGSTOP)
            try:
                path.rename(path.with_suffix(".log.1"))
                append(path, numbered(1, 3, "new"))
            finally:
                os.kill(loop, signal.SIGCONT)
            for line in numbered(21, 30):  # a line at a time, as a server writes (pacing)
                tomcat.write(line + "\n")
                tomcat.flush()
                await asyncio.sleep(0.1)
        last = numbered(3, 3, "new")[0]
        await wait_until(lambda: received.last() == last, 20, "the lines of both files")
        assert received.lines() == numbered(1, 30) + numbered(1, 3, "new")
        assert received.reasons() == ["started", "rotated"]
