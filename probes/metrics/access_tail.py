"""Read a node's access log as it grows, read by read, over the node's SSH connection.

Tomcat's AccessLogValve is rotatable by default: it writes to a file named after the day
(``localhost_access_log.2026-12-06.txt``) and starts a new one when the date in the name changes.
So the log is a glob (relative to catalina_base), and each read runs a small POSIX sh script
(sh and coreutils only) that picks the newest matching file (by modification time), and sends
what was written since the previous read: the rest of the previous file first when a newer one
appeared (found by its inode when it was renamed, as logrotate does to a fixed name), then the
new one from its start. A file that shrank (truncated) is read again from its start; one
truncated and rewritten past the previous offset within one interval is not told apart (access
logs are rotated by name, not truncated). The first read only notes where the log ends:
counting starts there.

The script's output is framed (`parse_output`): header lines ``O inode size name`` (the first
read), ``D inode offset n name`` followed by exactly n bytes, ``T inode name`` (truncated),
``R inode name`` (a newer file), ``M reason`` (no file). The caller keeps a `TailState` between
reads; nothing here raises for what a node sends.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from probes.metrics.access_log import AccessCounts, AccessLogParser

MAX_READ = 16 << 20
"""Bytes read per read at most; the rest is read on the next one (counted then)."""

# $1 catalina_base, $2 glob, $3 file followed ("-": none yet), $4 its inode, $5 offset, $6 max.
# `ls -t` sorts the glob's matches newest first; the glob is validated to hold no whitespace.
# A read of n bytes is padded with NULs to n if the file shrank meanwhile (the frame stays exact;
# the client drops trailing NULs).
ACCESS_SCRIPT = r"""
b=$1 g=$2 f=$3 ino=$4 off=$5 max=$6
cd -- "$b" 2>/dev/null || { echo "M cannot enter catalina_base $b"; exit 0; }
emit() {
  n=$(($3 - $2)); [ "$n" -le "$max" ] || n=$max
  [ "$n" -gt 0 ] || return 0
  echo "D $4 $2 $n $1"
  { tail -c +$(($2 + 1)) -- "$1" 2>/dev/null | head -c "$n"; head -c "$n" /dev/zero; } |
    head -c "$n"
}
new=$(ls -1td -- $g 2>/dev/null | head -n 1)
if [ -z "$new" ] || [ ! -f "$new" ]; then echo "M no file matches $g"; exit 0; fi
set -- $(stat -L -c "%i %s" -- "$new" 2>/dev/null)
[ -n "${2-}" ] || { echo "M cannot read $new"; exit 0; }
nino=$1 nsize=$2
if [ "$f" = - ]; then echo "O $nino $nsize $new"; exit 0; fi
if [ "$new" = "$f" ] && [ "$nino" = "$ino" ]; then
  if [ "$nsize" -lt "$off" ]; then echo "T $nino $new"; off=0; fi
  emit "$new" "$off" "$nsize" "$nino"; exit 0
fi
o=$f
set -- $(stat -L -c "%i %s" -- "$o" 2>/dev/null)
if [ "${1-}" != "$ino" ]; then
  d=$(dirname -- "$f")
  o=$(ls -1ai -- "$d" 2>/dev/null | while read -r i n; do
    if [ "$i" = "$ino" ]; then printf %s/%s "$d" "$n"; break; fi; done)
  set --; [ -z "$o" ] || set -- $(stat -L -c "%i %s" -- "$o" 2>/dev/null)
fi
if [ "${1-}" = "$ino" ] && [ "${2:-0}" -ge "$off" ]; then emit "$o" "$off" "$2" "$ino"; fi
echo "R $nino $new"
emit "$new" 0 "$nsize" "$nino"
"""


_QUOTED_SCRIPT = shlex.quote(ACCESS_SCRIPT)  # quoted once: a command is built every poll


def access_command(catalina_base: str, glob: str, state: TailState) -> str:
    """The remote command for the next read of the log `glob` under `catalina_base`."""
    args = [
        catalina_base,
        glob,
        state.name or "-",
        str(state.inode or 0),
        str(state.offset),
        str(MAX_READ),
    ]
    quoted = " ".join(shlex.quote(arg) for arg in args)
    return f"sh -c {_QUOTED_SCRIPT} clusterconsole-access {quoted}"


@dataclass(slots=True)
class TailState:
    """Where reading stands: byte `offset` of file `name` (relative to catalina_base)."""

    name: str | None = None
    inode: int | None = None
    offset: int = 0
    parser: AccessLogParser = field(default_factory=AccessLogParser)


@dataclass(frozen=True, slots=True)
class AccessRead:
    """What one read found: the counts of the lines written since the previous read (None on
    the first read, which only finds the end), or why nothing could be read."""

    counts: AccessCounts | None = None
    missing: str | None = None
    file: str | None = None
    """The file read last (relative to catalina_base)."""
    rotated: bool = False
    """A newer file was started since the previous read."""


class AccessFrameError(ValueError):
    """The script's output is not what it writes (cut short, or not this script's)."""


def parse_output(output: bytes, state: TailState) -> AccessRead:
    """Apply one read's output to `state`; what it found. Bad output gives `missing`, and the
    state is left as it was (the next read tries again from there)."""
    try:
        return _apply(output, state)
    except (AccessFrameError, ValueError) as exc:
        return AccessRead(missing=f"the access log's read gave unreadable output ({exc})")


def _apply(output: bytes, state: TailState) -> AccessRead:
    at = 0
    counts = AccessCounts()
    name, inode, offset = state.name, state.inode, state.offset
    rotated = False
    chunks: list[tuple[bool, bytes]] = []  # (starts a new file, data)
    restart = False
    while at < len(output):
        end = output.find(b"\n", at)
        if end < 0:
            raise AccessFrameError("a header line without its end")
        line = output[at:end].decode("utf-8", "replace")
        at = end + 1
        kind, _, rest = line.partition(" ")
        if kind == "M":
            return AccessRead(missing=_plain(rest) or "no access log")
        if kind == "O":
            words = rest.split(" ", 2)
            if len(words) != 3:
                raise AccessFrameError(f"bad header {line[:60]!r}")
            state.name, state.inode, state.offset = words[2], int(words[0]), int(words[1])
            state.parser.reset()
            return AccessRead(missing=None, file=state.name)
        if kind in ("T", "R"):
            words = rest.split(" ", 1)
            if len(words) != 2:
                raise AccessFrameError(f"bad header {line[:60]!r}")
            restart = True
            rotated = rotated or kind == "R"
            name, inode, offset = words[1], int(words[0]), 0
        elif kind == "D":
            words = rest.split(" ", 3)
            if len(words) != 4:
                raise AccessFrameError(f"bad header {line[:60]!r}")
            size = int(words[2])
            data = output[at : at + size]
            if len(data) != size:
                raise AccessFrameError(f"{size} bytes announced, {len(data)} sent")
            at += size
            chunks.append((restart, data.rstrip(b"\0")))
            restart = False
            name, inode, offset = words[3], int(words[0]), int(words[1]) + size
        else:
            raise AccessFrameError(f"unknown header {line[:60]!r}")
    if restart:
        chunks.append((True, b""))
    for fresh, data in chunks:
        if fresh:
            state.parser.reset()
        counts += state.parser.feed(data)
    state.name, state.inode, state.offset = name, inode, offset
    return AccessRead(counts=counts, file=name, rotated=rotated)


def _plain(text: str) -> str:
    """A node's words as plain text: printable characters only, 200 at most."""
    return "".join(c if c.isprintable() else "?" for c in text)[:200]
