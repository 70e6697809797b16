"""Follow a remote log from its end, surviving reconnects, rotation and truncation.

A small POSIX sh loop (only sh and coreutils on the node) keeps the file open on fd 3, so after a
rotation it reads the old inode to its end, and goes on reading it while its writer (a Tomcat
that keeps the moved file open) still adds to it, switching to the new file only once the old
one has been quiet for ROTATION_QUIET_S. It remembers a fingerprint of the file's first KiB:
a truncation followed by more bytes than were read before, within one poll, does not shrink the
file, but changes its head, and the file is read again from its start. It writes a framed
stream (`probes.tail.frames`). The client reads it chunk by chunk (`data_received`, no line
reader) and only moves its position when a frame is complete: after a reconnect the loop resumes
at that exact byte of that inode, so no byte is lost or repeated.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import asyncssh

from probes.ssh.connection import Backoff, NodeSession, SshCommandError
from probes.tail.frames import (
    Chunk,
    Fingerprint,
    Frame,
    FrameError,
    FrameParser,
    Heartbeat,
    Missing,
    Opened,
    Rotated,
    Truncated,
)
from probes.tail.journal import JournalDecoder, JournalError, journal_command

log = logging.getLogger(__name__)

ResetReason = Literal["started", "truncated", "rotated", "missing", "reopened"]
SCRIPT_NAME = "clusterconsole-follow"  # $0 of the remote loop; stable, simulators match on it
HEARTBEAT_S = 2.0
ROTATION_QUIET_S = 1.0
"""After a rotation, the old file is read until it has been quiet this long, then the new one."""
HEAD_BYTES = 1024
"""Bytes at the file's start whose fingerprint tells a truncated-then-rewritten file: enough to
pass a constant first line (a JVM's "Picked up JAVA_TOOL_OPTIONS: ...") and reach a timestamp."""
RESTART_BACKOFF = Backoff(initial=1.0, cap=5.0)
"""Between restarts of a follower whose remote loop failed while the connection stayed up (a
refused channel, a protocol error): a log view is never left stale for more than 5 s."""
HEALTHY_S = 60.0  # a stream that lived this long resets the restart backoff
WINDOW = 4 << 20  # bytes the node may send ahead; consumed at once, never buffered
MAX_PACKET = 128 << 10  # 4x asyncssh's 32 KiB: per-packet cost dominates a burst

# $1 path, $2 inode to resume ("-": none), $3 offset (-1: the end), $4 max chunk, $5 poll seconds,
# $6 idle polls per heartbeat, $7 quiet polls before leaving a rotated file, $8 head bytes,
# $9 the resumed file's head as last announced (`inode:n:crc`, "-": none).
# dd shares fd 3's file offset, so /proc/$$/fdinfo/3 tells exactly how many bytes it read;
# conv=sync pads a short read to n with zeros (head pads an empty one). `hd` is `od`'s dump of
# the first `hn` bytes (od opens the file anew, so fd 3's offset does not move); its cksum is
# announced (F) so that a resume after a reconnect can tell the same file from a rewritten one.
FOLLOW_SCRIPT = r"""
f=$1 want=$2 off=$3 max=$4 iv=$5 beat=$6 settle=$7 hb=$8 rfp=$9 fd=/proc/$$/fd/3 ino= gone=
idle=0 quiet=0 hn=0 hd= h=
fp() { h=$(od -An -v -tx1 -N"$1" "$fd" 2>/dev/null); }
head0() {
  hn=$1; [ "$hn" -le "$hb" ] || hn=$hb; hd=; [ "$hn" -eq 0 ] && return
  fp "$hn"; hd=$h; set -- $(printf %s "$hd" | cksum); echo "F $ino $hn $1"
}
same() {
  ri=${1%%:*} r=${1#*:}; rn=${r%%:*} rc=${r#*:}
  [ "$ri" = "$ino" ] || return 0
  fp "$rn"; set -- $(printf %s "$h" | cksum); [ "$1" = "$rc" ]
}
resume() {
  if [ "$rfp" != - ] && ! same "$rfp"; then at 0; echo "O $ino 0 rewritten"; return; fi
  [ "$off" -gt "$size" ] || at "$off"; echo "O $ino $off resume"
}
op() {
  { command exec 3<"$1"; } 2>/dev/null || return 1
  set -- $(stat -L -c "%i %s" "$fd") && [ -n "$1" ] || return 1
  ino=$1 size=$2 quiet=0; head0 "$size"
}
at() {
  exec 3<"$fd"; off=$1
  [ "$1" -eq 0 ] || dd bs=1 count=0 skip="$1" iflag=skip_bytes status=none <&3
}
miss() {
  if [ -e "$f" ]; then r="cannot read the file"; else r="no such file"; fi
  [ "$gone" = "$r" ] || echo "M $r"; gone=$r
}
if [ "$want" = - ]; then
  if op "$f"; then
    { [ "$off" -ge 0 ] && [ "$off" -le "$size" ]; } || off=$size
    at "$off"; echo "O $ino $off start"
  else ino=; miss; fi
elif op "$f" && [ "$ino" = "$want" ]; then resume
else
  d=$(dirname -- "$f")
  n=$(ls -1ai -- "$d" 2>/dev/null | while read -r i n; do
    if [ "$i" = "$want" ]; then printf %s "$n"; break; fi; done)
  if [ -n "$n" ] && op "$d/$n" && [ "$ino" = "$want" ]; then resume
  elif op "$f"; then off=0; echo "O $ino 0 lost"
  else ino=; miss; fi
fi
while :; do
  if [ -n "$ino" ]; then
    set -- $(stat -L -c "%i %s" "$fd" "$f" 2>/dev/null)
    size=${2:-$off} pino=${3-}
    if [ "$size" -lt "$off" ]; then echo "T $ino $size"; at 0; head0 0; fi
    if [ "$size" -gt "$off" ]; then
      if [ "$hn" -gt 0 ]; then
        fp "$hn"
        if [ "$h" != "$hd" ]; then echo "T $ino $size rewritten"; at 0; head0 0; fi
      fi
      [ "$hn" -ge "$hb" ] || head0 "$size"
      n=$((size - off)); [ "$n" -le "$max" ] || n=$max
      o=$off; echo "D $ino $off $n"
      dd bs="$n" count=1 iflag=fullblock conv=sync status=none <&3
      while read -r k v; do if [ "$k" = pos: ]; then off=$v; break; fi; done </proc/$$/fdinfo/3
      [ "$off" -gt "$o" ] || head -c "$n" /dev/zero
      echo "K $((off - o))"; idle=0 quiet=0; continue
    fi
    if [ -z "$pino" ]; then miss
    elif [ "$pino" != "$ino" ] && [ "$quiet" -lt "$settle" ]; then quiet=$((quiet + 1))
    elif [ "$pino" != "$ino" ]; then
      o=$ino; if op "$f"; then off=0 gone=; echo "R $o $ino"; continue; fi
    elif [ -n "$gone" ]; then gone=; echo "O $ino $off appeared"
    fi
  elif op "$f"; then off=0 gone=; echo "O $ino 0 appeared"; continue
  else miss; fi
  idle=$((idle + 1)); if [ "$idle" -ge "$beat" ]; then echo H; idle=0; fi
  sleep "$iv"
done
"""


@dataclass(frozen=True, slots=True)
class TailPosition:
    """Where reading stands: byte `offset` of file `inode`, or a journal `cursor`."""

    inode: int | None
    offset: int
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class TailData:
    """New bytes of the log; `start` is the byte offset of data[0] in the current file."""

    path: str
    data: bytes
    start: int
    position: TailPosition


@dataclass(frozen=True, slots=True)
class TailReset:
    """The stream changed under the reader: where reading goes on, and why."""

    path: str
    reason: ResetReason
    position: TailPosition
    detail: str | None = None
    missed: bool = False
    """Bytes were written that the follower could not read (they are lost, not late)."""


def follow_command(
    path: str,
    start: TailPosition | None,
    *,
    from_start: bool,
    max_chunk: int,
    poll_interval: float,
    head: Fingerprint | None = None,
) -> str:
    """The remote command that follows `path` from `start` (or from its start/end); `head` is
    the resumed file's fingerprint as last announced, checked before resuming."""
    want = "-" if start is None or start.inode is None else str(start.inode)
    known = head is not None and start is not None and head.inode == start.inode
    fingerprint = f"{head.inode}:{head.size}:{head.crc}" if head is not None and known else "-"
    offset = start.offset if start is not None else (0 if from_start else -1)
    beat = max(1, round(HEARTBEAT_S / poll_interval))
    settle = max(1, round(ROTATION_QUIET_S / poll_interval))
    args = [
        path,
        want,
        str(offset),
        str(max_chunk),
        f"{poll_interval:g}",
        str(beat),
        str(settle),
        str(HEAD_BYTES),
        fingerprint,
    ]
    quoted = " ".join(shlex.quote(arg) for arg in args)
    return f"exec sh -c {shlex.quote(FOLLOW_SCRIPT)} {SCRIPT_NAME} {quoted}"


class _Stream(asyncssh.SSHClientSession[bytes]):
    """Hands stdout straight to a decoder; keeps the end of stderr to explain a failure."""

    def __init__(self, feed: Callable[[bytes], None]) -> None:
        self._feed = feed
        self._chan: asyncssh.SSHClientChannel[bytes] | None = None
        self.stderr = b""
        self.error: Exception | None = None

    def connection_made(self, chan: asyncssh.SSHClientChannel[bytes]) -> None:
        self._chan = chan

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if datatype == asyncssh.EXTENDED_DATA_STDERR:
            self.stderr = (self.stderr + data)[-2048:]
            return
        if self.error is not None:
            return
        try:
            self._feed(data)
        except Exception as exc:  # a protocol error or the consumer's: stop this stream
            self.error = exc
            if self._chan is not None:
                self._chan.close()


class LogFollower:
    """Follows one log of one node through a NodeSession; never raises for remote trouble."""

    def __init__(
        self,
        session: NodeSession,
        path: str,
        *,
        on_chunk: Callable[[TailData | TailReset], None],
        kind: Literal["file", "journal"] = "file",
        from_start: bool = False,
        poll_interval: float = 0.1,
        max_chunk: int = 4 << 20,
        start: TailPosition | None = None,
        backoff: Backoff = RESTART_BACKOFF,
        journalctl: str = "journalctl",
    ) -> None:
        self._session = session
        self.path = path
        self._emit = on_chunk
        self.kind = kind
        self._from_start = from_start
        self._poll = poll_interval
        self._max_chunk = max_chunk
        self._position = start
        self._backoff = backoff
        self._journalctl = journalctl
        self._opened_once = False
        self._head: Fingerprint | None = None  # the followed file's first bytes, as announced
        self._restart_detail: str | None = None
        self.last_error: str | None = None

    @property
    def position(self) -> TailPosition | None:
        """The position after the last complete chunk (None before the first open)."""
        return self._position

    async def run(self) -> None:
        """Follow until cancelled or the session is closed; reconnects resume at `position`."""
        failures = 0
        while True:
            try:
                conn = await self._session.connection()
            except SshCommandError:
                return
            began = time.monotonic()
            why = await self._stream(conn)
            if conn.is_closed():
                failures = 0  # the session reconnects; resume as soon as it is up
                self._restart_detail = "resumed after the connection came back"
                continue
            failures = 0 if time.monotonic() - began >= HEALTHY_S else failures + 1
            delay = self._backoff.delay(failures - 1) if failures else 0.0
            self.last_error = why
            self._restart_detail = f"restarted after: {why}"
            log.warning(
                "%s: following %s stopped (%s); retrying in %.1f s",
                self._session.target.node,
                self.path,
                why,
                delay,
            )
            self._emit(
                TailReset(
                    self.path,
                    "missing",
                    self._position or TailPosition(None, 0),
                    f"cannot follow: {why}; retrying in {delay:.0f} s",
                )
            )
            await asyncio.sleep(delay)

    async def _stream(self, conn: asyncssh.SSHClientConnection) -> str:
        """Run the remote follower once; return why it ended."""
        if self.kind == "journal":
            command, feed = self._journal()
        else:
            command, feed = self._file()
        stream = _Stream(feed)
        try:
            chan, _ = await conn.create_session(
                lambda: stream, command, encoding=None, window=WINDOW, max_pktsize=MAX_PACKET
            )
        except (asyncssh.Error, OSError) as exc:
            return f"cannot open a channel ({getattr(exc, 'reason', '') or exc})"
        if self.kind == "journal":
            self._journal_opened()
        try:
            await chan.wait_closed()
        finally:
            chan.close()
        if stream.error is not None:
            if not isinstance(stream.error, FrameError | JournalError):
                raise stream.error  # the consumer's bug, not remote trouble
            return f"protocol error: {stream.error}"
        status = chan.get_exit_status()
        stderr = stream.stderr.decode("utf-8", "replace").strip().splitlines()
        said = f": {stderr[-1]}" if stderr else ""
        return f"the remote follower exited (status {status}){said}"

    def _reset(
        self,
        reason: ResetReason,
        position: TailPosition,
        detail: str | None,
        *,
        missed: bool = False,
    ) -> None:
        self._emit(TailReset(self.path, reason, position, detail, missed))

    # -- file mode ---------------------------------------------------------------------------

    def _file(self) -> tuple[str, Callable[[bytes], None]]:
        parser = FrameParser(self._max_chunk)
        command = follow_command(
            self.path,
            self._position,
            from_start=self._from_start,
            max_chunk=self._max_chunk,
            poll_interval=self._poll,
            head=self._head,
        )

        def feed(data: bytes) -> None:
            for frame in parser.feed(data):
                self._frame(frame)

        return command, feed

    def _frame(self, frame: Frame) -> None:
        if isinstance(frame, Chunk):
            end = TailPosition(frame.inode, frame.offset + len(frame.data))
            self._position = end
            if frame.data:
                self._emit(TailData(self.path, frame.data, frame.offset, end))
        elif isinstance(frame, Heartbeat):
            return
        elif isinstance(frame, Fingerprint):
            self._head = frame
        elif isinstance(frame, Opened):
            self._opened(frame)
        elif isinstance(frame, Truncated):
            self._head = None  # announced again once the file has bytes
            self._position = TailPosition(frame.inode, 0)
            if frame.rewritten:
                detail = (
                    f"the file was truncated and rewritten within one poll ({frame.size} bytes "
                    "now): read again from its start; lines written just before the truncation "
                    "may be lost"
                )
                self._reset("truncated", self._position, detail, missed=True)
            else:
                self._reset("truncated", self._position, f"the file shrank to {frame.size} bytes")
        elif isinstance(frame, Rotated):
            self._position = TailPosition(frame.new, 0)
            self._reset("rotated", self._position, "the previous file was read to its end")
        elif isinstance(frame, Missing):
            self._reset("missing", self._position or TailPosition(None, 0), frame.reason)

    def _opened(self, frame: Opened) -> None:
        previous = self._position
        self._position = TailPosition(frame.inode, frame.offset)
        first, self._opened_once = not self._opened_once, True
        detail, self._restart_detail = self._restart_detail, None
        if frame.why == "lost":
            lost_at = f" after byte {previous.offset}" if previous is not None else ""
            self._reset(
                "rotated",
                self._position,
                "the file was rotated while disconnected and the previous file is gone: "
                f"lines written to it{lost_at} may be lost",
                missed=True,
            )
        elif frame.why == "rewritten":
            self._reset(
                "truncated",
                self._position,
                "the file was truncated and written again while disconnected: read again from "
                "its start; lines written just before the truncation may be lost",
                missed=True,
            )
        elif frame.why == "appeared":
            self._reset("reopened", self._position, "the file is back")
        elif first:
            self._reset("started", self._position, None)
        else:
            self._reset("reopened", self._position, detail)

    # -- journal mode ------------------------------------------------------------------------

    def _journal(self) -> tuple[str, Callable[[bytes], None]]:
        decoder = JournalDecoder(self._max_chunk)
        cursor = self._position.cursor if self._position is not None else None
        command = journal_command(
            self.path, cursor=cursor, from_start=self._from_start, journalctl=self._journalctl
        )

        def feed(data: bytes) -> None:
            entries = decoder.feed(data)
            if not entries:
                return
            start = self._position.offset if self._position is not None else 0
            payload = b"".join(entry.message + b"\n" for entry in entries)
            self._position = TailPosition(None, start + len(payload), entries[-1].cursor)
            self._emit(TailData(self.path, payload, start, self._position))

        return command, feed

    def _journal_opened(self) -> None:
        position = self._position or TailPosition(None, 0)
        first, self._opened_once = not self._opened_once, True
        detail, self._restart_detail = self._restart_detail, None
        if first:
            self._reset("started", position, None)
            return
        if position.cursor is None and not self._from_start:
            # No entry seen yet, so no cursor: journalctl starts again from the end.
            detail = f"{detail}; entries written while disconnected may be missing"
            self._reset("reopened", position, detail, missed=True)
            return
        self._reset("reopened", position, detail)
