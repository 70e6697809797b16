"""The remote follow loop, run here under /bin/sh on local files, through the real client side.

The same script runs on a node over SSH (tests/sandbox/test_tail.py); running it locally lets a
test stop it (SIGSTOP on its process group) exactly where a race would otherwise decide: a
truncation and a burst between two polls, or lines a writer adds to a rotated file after the
loop has seen the rotation.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from probes.ssh.connection import NodeSession, SshTarget
from probes.tail.follow import LogFollower, TailData, TailPosition, TailReset

pytestmark = pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="needs /proc")


@dataclass
class Seen:
    data: bytearray = field(default_factory=bytearray)
    resets: list[TailReset] = field(default_factory=list)

    def __call__(self, item: TailData | TailReset) -> None:
        if isinstance(item, TailReset):
            self.resets.append(item)
        else:
            self.data += item.data

    def lines(self) -> list[str]:
        return bytes(self.data).decode().splitlines()


@dataclass
class Loop:
    """The follow loop running locally: its process group can be frozen and thawed."""

    process: asyncio.subprocess.Process
    seen: Seen
    follower: LogFollower

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        os.killpg(self.process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.killpg(self.process.pid, signal.SIGCONT)


async def until(condition: Callable[[], object], what: str, limit: float = 20.0) -> None:
    """Wait on a condition; the limit only turns a hang into a failure."""
    try:
        async with asyncio.timeout(limit):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def local_follower(path: Path, poll_interval: float = 0.05) -> tuple[LogFollower, Seen]:
    seen = Seen()
    session = NodeSession(SshTarget("local", "127.0.0.1"))  # never connected: only the script
    return LogFollower(session, str(path), on_chunk=seen, poll_interval=poll_interval), seen


@asynccontextmanager
async def follow(path: Path, poll_interval: float = 0.05) -> AsyncIterator[Loop]:
    follower, seen = local_follower(path, poll_interval)
    async with run(follower, seen) as loop:
        yield loop


@asynccontextmanager
async def run(follower: LogFollower, seen: Seen) -> AsyncIterator[Loop]:
    """One run of the remote loop (one SSH channel's life): a reconnect is the next run."""
    opened = len(seen.resets)
    command, feed = follower._file()
    process = await asyncio.create_subprocess_exec(
        "sh", "-c", command, stdout=asyncio.subprocess.PIPE, start_new_session=True
    )

    async def pump() -> None:
        assert process.stdout is not None
        while chunk := await process.stdout.read(65536):
            feed(chunk)

    reader = asyncio.create_task(pump())
    try:
        await until(lambda: len(seen.resets) > opened, "the loop to open the file")
        yield Loop(process, seen, follower)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGCONT)
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        await asyncio.wait_for(reader, 10)


def lines(tag: str, first: int, last: int) -> list[str]:
    return [
        f"2026-12-06 08:{n // 60 % 60:02d}:{n % 60:02d}.{n:03d} {tag} {n}"
        for n in range(first, last + 1)
    ]


def append(path: Path, new: list[str]) -> None:
    with path.open("a") as handle:
        handle.write("".join(line + "\n" for line in new))


async def test_truncation_then_a_bigger_burst_within_one_poll_is_read_again_from_the_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "catalina.out"
    path.write_text("")
    async with follow(path) as loop:
        append(path, lines("before", 1, 50))
        await until(lambda: len(loop.seen.lines()) == 50, "the first 50 lines")
        with loop.frozen():  # no poll between the truncation and the burst
            with path.open("w") as handle:  # `: > catalina.out`, the writer goes on at once
                handle.write("".join(line + "\n" for line in lines("after", 1, 100)))
            assert path.stat().st_size > len(loop.seen.data)  # the file did not shrink
        await until(lambda: len(loop.seen.lines()) == 150, "the 100 lines after the truncation")
        assert loop.seen.lines() == lines("before", 1, 50) + lines("after", 1, 100)
        truncated = [r for r in loop.seen.resets if r.reason == "truncated"]
        assert len(truncated) == 1 and truncated[0].missed
        assert truncated[0].detail is not None and "rewritten" in truncated[0].detail
        assert loop.follower.position == TailPosition(path.stat().st_ino, path.stat().st_size)


async def test_a_plain_truncation_is_not_reported_as_missed_bytes(tmp_path: Path) -> None:
    path = tmp_path / "catalina.out"
    path.write_text("")
    async with follow(path) as loop:
        append(path, lines("before", 1, 50))
        await until(lambda: len(loop.seen.lines()) == 50, "the first 50 lines")
        path.write_text("")
        await until(lambda: len(loop.seen.resets) == 2, "the truncation")
        append(path, lines("after", 1, 5))
        await until(lambda: len(loop.seen.lines()) == 55, "the lines after it")
        assert [(r.reason, r.missed) for r in loop.seen.resets] == [
            ("started", False),
            ("truncated", False),
        ]


async def test_lines_written_to_the_old_file_after_a_mv_rotation_are_read_before_the_new_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "catalina.out"
    path.write_text("")
    async with follow(path) as loop:
        append(path, lines("old", 1, 20))
        await until(lambda: len(loop.seen.lines()) == 20, "the first 20 lines")
        with path.open("a") as tomcat:  # Tomcat keeps its stdout open across the move
            with loop.frozen():
                path.rename(tmp_path / "catalina.out.1")
                append(path, lines("new", 1, 3))  # logrotate's `create`, a first line in it
            # The loop now sees the new file; Tomcat goes on writing to the old one, a line
            # at a time, as a server does (paced like a writer, not a wait).
            for line in lines("old", 21, 30):
                tomcat.write(line + "\n")
                tomcat.flush()
                await asyncio.sleep(0.06)
        await until(lambda: len(loop.seen.lines()) == 33, "all 33 lines")
        assert loop.seen.lines() == lines("old", 1, 30) + lines("new", 1, 3)
        assert [r.reason for r in loop.seen.resets] == ["started", "rotated"]


async def test_a_file_truncated_and_rewritten_while_disconnected_is_read_from_its_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "catalina.out"
    path.write_text("")
    follower, seen = local_follower(path)
    async with run(follower, seen):
        append(path, lines("before", 1, 50))
        await until(lambda: len(seen.lines()) == 50, "the first 50 lines")
    # The connection is down: logrotate's copytruncate, then more than was read before.
    with path.open("w") as handle:
        handle.write("".join(line + "\n" for line in lines("after", 1, 100)))
    async with run(follower, seen):
        await until(lambda: len(seen.lines()) == 150, "the 100 lines written while away")
    assert seen.lines() == lines("before", 1, 50) + lines("after", 1, 100)
    assert [(r.reason, r.missed) for r in seen.resets] == [("started", False), ("truncated", True)]


async def test_a_resume_on_the_same_file_goes_on_at_its_byte(tmp_path: Path) -> None:
    path = tmp_path / "catalina.out"
    path.write_text("")
    follower, seen = local_follower(path)
    async with run(follower, seen):
        append(path, lines("first", 1, 50))
        await until(lambda: len(seen.lines()) == 50, "the first 50 lines")
    append(path, lines("away", 1, 70))  # written while disconnected
    async with run(follower, seen):
        await until(lambda: len(seen.lines()) == 120, "the lines written while away")
    assert seen.lines() == lines("first", 1, 50) + lines("away", 1, 70)
    assert [(r.reason, r.missed) for r in seen.resets] == [("started", False), ("reopened", False)]
