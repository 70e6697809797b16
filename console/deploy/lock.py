"""One deploy sync per cluster at a time: a `flock` held on one node by an SSH session.

The lock is ``flock`` (util-linux) on a file in one node's CATALINA_BASE (the source node, else
the first node of the inventory), held by a shell that an ssh client of this process keeps open.
Whoever comes second finds the lock taken and reads who holds it and since when (the holder
writes one JSON line into the file). When the holder dies, however it dies (SIGKILL included:
its ssh client gets SIGKILL too and the connection closes), the remote shell reads end of file,
exits, and the kernel drops the flock: the next run takes it over and says whose run ended
without releasing it. A run that ends normally sends ``release`` and the file is emptied.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from probes.rsync import Endpoint, die_with_parent, reap

LOCK_NAME = ".clusterconsole-deploy.lock"
HELD_EXIT = 99
NO_FILE_EXIT = 98
_SCRIPT = r"""
f=$1
exec 9>>"$f" || exit 98
if ! flock -n 9; then cat "$f"; exit 99; fi
prev=$(cat "$f")
printf '%s\n' "$2" > "$f"
printf 'LOCKED %s\n' "$prev"
if IFS= read -r line && [ "$line" = release ]; then : > "$f"; fi
"""


class LockHeld(Exception):
    """Another run holds the lock; str() says who and since when."""

    def __init__(self, owner: dict[str, Any], where: str) -> None:
        self.owner = owner
        who = owner.get("operator") or "someone"
        host = owner.get("host") or "an unknown host"
        pid = owner.get("pid")
        since = owner.get("since") or "an unknown time"
        shown = f"{who}@{host}" + (f" (pid {pid})" if pid else "")
        super().__init__(
            f"another deploy sync runs on this cluster: the lock on {where} is held by {shown} "
            f"since {since}"
        )


class LockError(Exception):
    """The lock could not be taken for another reason; str() says why."""


def owner_record(operator: str) -> dict[str, Any]:
    return {
        "operator": operator,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
        "started": time.time(),
    }


def _parse_owner(text: str) -> dict[str, Any]:
    line = text.strip().splitlines()[-1] if text.strip() else ""
    try:
        found = json.loads(line)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


@dataclass
class DeployLock:
    """The cluster's deploy lock, on `node` (`endpoint`) at `path`."""

    node: str
    endpoint: Endpoint
    path: str
    process: asyncio.subprocess.Process | None = None
    taken_over: dict[str, Any] | None = None
    """The owner a previous run left in the file when it died without releasing it."""

    def command(self, owner: dict[str, Any]) -> list[str]:
        remote = " ".join(
            shlex.quote(word) for word in ("sh", "-c", _SCRIPT, "sh", self.path, json.dumps(owner))
        )
        return [*self.endpoint.ssh_command(), "--", self.endpoint.host, remote]

    async def acquire(self, owner: dict[str, Any], timeout: float = 30.0) -> None:
        """Take the lock or raise LockHeld / LockError."""
        process = await asyncio.create_subprocess_exec(
            *self.command(owner),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=die_with_parent,
        )
        assert process.stdout is not None and process.stderr is not None
        try:
            async with asyncio.timeout(timeout):
                first = await process.stdout.readline()
        except TimeoutError:
            await _kill(process)
            raise LockError(
                f"{self.node} did not answer within {timeout:g} s while the deploy lock was "
                f"taken (ssh to {self.endpoint.host}): the node or this machine is too slow now; "
                "try again"
            ) from None
        except BaseException:
            await _kill(process)
            raise
        text = first.decode("utf-8", "replace")
        if text.startswith("LOCKED"):
            self.process = process
            previous = _parse_owner(text[len("LOCKED") :])
            self.taken_over = previous or None
            return
        rest = text + (await process.stdout.read()).decode("utf-8", "replace")
        err = (await process.stderr.read()).decode("utf-8", "replace").strip()
        code = await process.wait()
        where = f"{self.node}:{self.path}"
        if code == HELD_EXIT:
            raise LockHeld(_parse_owner(rest), where)
        if code == NO_FILE_EXIT:
            raise LockError(f"cannot create the deploy lock {where} ({err or 'no reason given'})")
        if "flock" in err and "not found" in err:
            raise LockError(f"{self.node} has no flock command (util-linux): cannot lock")
        last = err.splitlines()[-1] if err else f"exit status {code}"
        raise LockError(f"cannot take the deploy lock on {self.node}: {last}")

    async def release(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        assert process.stdin is not None
        with contextlib.suppress(OSError, ConnectionError):
            process.stdin.write(b"release\n")
            await process.stdin.drain()
            process.stdin.close()
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            await _kill(process)
        except asyncio.CancelledError:  # the console quitting: the child still gets reaped
            await _kill(process)
            raise

    @property
    def held(self) -> bool:
        return self.process is not None and self.process.returncode is None


async def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    await reap(process)


__all__ = ["LOCK_NAME", "DeployLock", "LockError", "LockHeld", "owner_record"]
