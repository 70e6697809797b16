"""rsync over SSH: the commands, their itemized output, and their errors in plain words.

Every command runs rsync locally with ``-e "ssh ..."`` built from the inventory: its identity
file, port, user and known_hosts, with host keys always verified (``StrictHostKeyChecking=yes``,
or ``accept-new`` when the inventory asks for it; never ``no``) and ``BatchMode`` so that a
prompt can never hang a run. Every argument is passed as a list (no local shell); the remote
paths are quoted for the remote shell with ``--protect-args`` (``-s``).

The itemized output (``--itemize-changes --out-format='%i %l %n'``) is parsed into one
`FileChange` per path; `summarize` counts what a target would gain, change and lose.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import shlex
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ChangeKind = Literal["added", "changed", "deleted", "unchanged"]
OUT_FORMAT = "%i %l %n"
"""Per path: the 11-character change string, the file length, the name (rsync escapes
non-printable bytes in names as \\#ooo)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """How rsync reaches one node over SSH."""

    host: str
    user: str | None = None
    port: int | None = None
    identity_file: Path | None = None
    known_hosts: Path | None = None
    accept_new: bool = False
    connect_timeout: float = 10.0

    def ssh_command(self) -> list[str]:
        """The ssh client invocation (host keys verified, no prompt)."""
        strict = "accept-new" if self.accept_new else "yes"
        command = [
            "ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            f"StrictHostKeyChecking={strict}",
            "-o",
            f"ConnectTimeout={max(1, round(self.connect_timeout))}",
            "-o",
            "ServerAliveInterval=10",
        ]
        if self.known_hosts is not None:
            command += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
        if self.identity_file is not None:
            command += ["-i", str(self.identity_file)]
        if self.port is not None:
            command += ["-p", str(self.port)]
        if self.user is not None:
            command += ["-l", self.user]
        return command

    def rsh(self) -> str:
        """The ``-e`` value: the ssh command, each word quoted for rsync's own splitting."""
        return " ".join(shlex.quote(word) for word in self.ssh_command())

    def remote(self, path: str) -> str:
        """``host:path`` for rsync (an IPv6 literal in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{path}"


def _dir(path: str) -> str:
    """A directory path with its trailing slash: rsync copies its contents, not the dir."""
    return path if path.endswith("/") else path + "/"


@dataclass(frozen=True, slots=True)
class SyncSpec:
    """One rsync: from a local directory or a node's, into a local directory or a node's."""

    source: str
    target: str
    source_at: Endpoint | None = None
    target_at: Endpoint | None = None
    exclude: tuple[str, ...] = ()
    delete: bool = True

    def command(
        self, *, dry_run: bool, checksum: bool = False, unchanged: bool = False
    ) -> list[str]:
        """The rsync argv. `unchanged` itemizes unchanged paths too (-ii)."""
        command = ["rsync", "-a", "-s", "--itemize-changes", f"--out-format={OUT_FORMAT}"]
        if unchanged:
            command.append("--itemize-changes")
        if self.delete:
            command.append("--delete")
        if dry_run:
            command.append("--dry-run")
        if checksum:
            command.append("--checksum")
        command += [f"--exclude={pattern}" for pattern in self.exclude]
        remote = self.source_at or self.target_at
        if remote is not None:
            command += ["-e", remote.rsh()]
        source = _dir(self.source)
        target = _dir(self.target)
        command.append(self.source_at.remote(source) if self.source_at else source)
        command.append(self.target_at.remote(target) if self.target_at else target)
        return command


@dataclass(frozen=True, slots=True)
class FileChange:
    """One path rsync itemized."""

    kind: ChangeKind
    path: str
    size: int
    is_dir: bool


@dataclass(frozen=True, slots=True)
class Summary:
    """What one rsync did (or would do) to a target."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    unchanged: int = 0
    bytes: int = 0
    """Bytes of the files added or changed (their full lengths)."""

    @property
    def files(self) -> int:
        return len(self.added) + len(self.changed) + len(self.deleted)

    @property
    def nothing(self) -> bool:
        return self.files == 0

    def to_json(self) -> dict[str, object]:
        return {
            "added": list(self.added),
            "changed": list(self.changed),
            "deleted": list(self.deleted),
            "bytes": self.bytes,
        }

    def apps(self) -> list[str]:
        """The top-level entries touched (web applications under webapps/)."""
        seen: dict[str, None] = {}
        for path in (*self.added, *self.changed, *self.deleted):
            head = path.split("/", 1)[0]
            if head and head != ".":
                seen.setdefault(head, None)
        return list(seen)


def parse_line(line: str) -> FileChange | None:
    """One itemized line, or None for anything else (stats, warnings)."""
    text = line.rstrip("\n")
    if text.startswith("*deleting"):
        rest = text[len("*deleting") :].lstrip(" ")
        size, _, name = rest.partition(" ")
        if not size.isdigit() or not name:
            return None
        return FileChange("deleted", name.rstrip("/"), 0, name.endswith("/"))
    if len(text) < 13 or text[11] != " " or text[0] not in "<>ch.":
        return None
    flags = text[:11]
    size, _, name = text[12:].partition(" ")
    if not size.isdigit() or not name:
        return None
    is_dir = flags[1] == "d"
    path = name.rstrip("/")
    if flags[0] == "." and flags[2:].strip(". ") == "":
        return FileChange("unchanged", path, int(size), is_dir)
    if "+++++++" in flags:
        return FileChange("added", path, int(size), is_dir)
    if is_dir and flags[0] == ".":
        # a directory whose times/permissions change: not a change a user sees
        return FileChange("unchanged", path, int(size), is_dir)
    return FileChange("changed", path, int(size), is_dir)


def parse(text: str) -> list[FileChange]:
    return [change for line in text.splitlines() if (change := parse_line(line)) is not None]


def summarize(changes: Sequence[FileChange]) -> Summary:
    """Counted per path; directories count only when added or deleted."""
    added: list[str] = []
    changed: list[str] = []
    deleted: list[str] = []
    unchanged = 0
    size = 0
    for change in changes:
        if change.path in ("", "."):
            continue
        shown = change.path + ("/" if change.is_dir else "")
        if change.kind == "added":
            added.append(shown)
            size += 0 if change.is_dir else change.size
        elif change.kind == "changed" and not change.is_dir:
            changed.append(shown)
            size += change.size
        elif change.kind == "deleted":
            deleted.append(shown)
        else:
            unchanged += 1
    return Summary(tuple(added), tuple(changed), tuple(deleted), unchanged, size)


class RsyncError(Exception):
    """rsync failed; str() says why in plain words."""

    def __init__(self, reason: str, code: int, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.detail = detail


def explain(code: int, stderr: str, where: str) -> str:
    """rsync's exit status and messages, in one sentence."""
    text = stderr.lower()
    last = next(
        (line.strip() for line in reversed(stderr.splitlines()) if line.strip()), f"code {code}"
    )
    if "host key verification failed" in text or "remote host identification has changed" in text:
        return f"{where}: the host key is not the one known_hosts holds (or is unknown): not synced"
    if "permission denied (publickey" in text or "permission denied, please try again" in text:
        return f"{where}: SSH login refused (key not accepted)"
    if "connection refused" in text or "no route to host" in text or "timed out" in text:
        return f"{where}: unreachable over SSH ({last})"
    if "could not resolve hostname" in text:
        return f"{where}: host name not found"
    if "rsync: command not found" in text or "rsync: not found" in text or code == 127:
        return f"{where}: rsync is not installed there"
    if "change_dir" in text and "no such file or directory" in text:
        return f"{where}: the source directory does not exist"
    if "permission denied" in text:
        return f"{where}: permission denied ({last})"
    if "no space left" in text:
        return f"{where}: no space left on the device"
    if code == 12 and "connection unexpectedly closed" in text:
        return f"{where}: the remote side closed the connection (is rsync installed there?)"
    if code == 255:
        return f"{where}: SSH failed ({last})"
    return f"{where}: rsync failed with code {code} ({last})"


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up once in the parent (never between fork and exec)."""
    try:
        found: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return found


_PRCTL = _prctl()


def die_with_parent() -> None:
    """In the child: get SIGKILL when the console dies, so no rsync goes on unattended."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass
class RunResult:
    """A finished rsync: its changes, its exit status and its error text."""

    changes: list[FileChange] = field(default_factory=list)
    code: int = 0
    stderr: str = ""


async def run(
    command: Sequence[str],
    on_change: Callable[[FileChange], None] | None = None,
) -> RunResult:
    """Run `command`, reporting each itemized path as it comes; never raises for rsync's own
    failures (see `RunResult.code`); cancellation kills it."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=die_with_parent,
    )
    result = RunResult()
    assert process.stdout is not None and process.stderr is not None
    stderr_task = asyncio.ensure_future(process.stderr.read())
    try:
        async for raw in process.stdout:
            change = parse_line(raw.decode("utf-8", "replace"))
            if change is not None:
                result.changes.append(change)
                if on_change is not None:
                    on_change(change)
        result.stderr = (await stderr_task).decode("utf-8", "replace")
        result.code = await process.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        stderr_task.cancel()
        await reap(process)
        raise
    return result


async def reap(process: asyncio.subprocess.Process) -> None:
    """Wait for a child to end even when cancelled meanwhile (the cancellation is raised once
    it has ended): a child left unreaped when the console quits is collected after the event
    loop closed, and Python prints "Event loop is closed" over the operator's terminal."""
    waiter = asyncio.ensure_future(process.wait())
    cancelled = False
    while not waiter.done():
        try:
            await asyncio.shield(waiter)
        except asyncio.CancelledError:
            cancelled = True
        except Exception:
            break
    if cancelled:
        raise asyncio.CancelledError


async def run_checked(
    command: Sequence[str],
    where: str,
    on_change: Callable[[FileChange], None] | None = None,
) -> list[FileChange]:
    """`run`, raising RsyncError with the reason in plain words on failure."""
    result = await run(command, on_change)
    if result.code != 0:
        raise RsyncError(explain(result.code, result.stderr, where), result.code, result.stderr)
    return result.changes


__all__ = [
    "OUT_FORMAT",
    "Endpoint",
    "FileChange",
    "RsyncError",
    "RunResult",
    "Summary",
    "SyncSpec",
    "explain",
    "parse",
    "parse_line",
    "reap",
    "summarize",
]
