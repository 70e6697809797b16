"""The shared directory as one node sees it: there, what filesystem, and writable for real.

The probe is one POSIX sh command run over the node's SSH session; parsing its answer is pure.
The full check writes a small file, reads it back and deletes it; the read-only variant (watch
mode) only tests permissions, so it changes nothing on the node.
"""

from __future__ import annotations

import secrets
import shlex
from dataclasses import dataclass

PROBE_PREFIX = ".clusterconsole-probe-"


@dataclass(frozen=True, slots=True)
class SharedDirHealth:
    """One node's view of the shared directory."""

    ok: bool
    fstype: str | None = None
    """Filesystem type as ``stat -f`` names it (nfs, fuseblk, ext2/ext3 ...)."""
    written: bool = False
    """True when a file was really written, read back and removed (not just permissions)."""
    reason: str | None = None


def shared_dir_command(path: str, node: str, *, write: bool, token: str | None = None) -> str:
    """The sh command that checks ``path``; it prints one ``OK``/``ERR`` line and the fs type."""
    token = token or secrets.token_hex(8)
    directory = shlex.quote(path)
    probe = shlex.quote(f"{path.rstrip('/')}/{PROBE_PREFIX}{node}-{token}")
    lines = [
        f"d={directory}",
        'if [ ! -d "$d" ]; then echo "ERR missing"; exit 0; fi',
        'echo "FS $(stat -f -L -c %T "$d" 2>/dev/null || echo unknown)"',
        'if [ ! -r "$d" ] || [ ! -x "$d" ]; then echo "ERR unreadable"; exit 0; fi',
        'if [ ! -w "$d" ]; then echo "ERR readonly"; exit 0; fi',
    ]
    if write:
        lines += [
            f"f={probe}",
            f"printf %s {token} > \"$f\" 2>/dev/null || {{ echo 'ERR write'; exit 0; }}",
            'got=$(cat "$f" 2>/dev/null)',
            'rm -f "$f" || { echo "ERR delete"; exit 0; }',
            f'if [ "$got" = {token} ]; then echo "OK written"; else echo "ERR readback"; fi',
        ]
    else:
        lines.append('echo "OK permissions"')
    return "\n".join(lines)


_REASONS = {
    "missing": "the directory does not exist (not mounted?)",
    "unreadable": "the directory cannot be read",
    "readonly": "the directory is not writable",
    "write": "writing a test file failed",
    "delete": "the test file could not be removed",
    "readback": "the test file read back different content (stale cache or another filesystem?)",
}


def parse_shared_dir(output: bytes, exit_status: int | None) -> SharedDirHealth:
    """Interpret the command's answer; anything unexpected is a failure with the reason."""
    fstype: str | None = None
    for raw in output.decode("utf-8", "replace").splitlines():
        word, _, rest = raw.strip().partition(" ")
        if word == "FS":
            fstype = rest or None
        elif word == "OK":
            return SharedDirHealth(True, fstype, written=rest == "written")
        elif word == "ERR":
            return SharedDirHealth(False, fstype, reason=_REASONS.get(rest, rest or "failed"))
    status = "no exit status" if exit_status is None else f"exit status {exit_status}"
    return SharedDirHealth(False, fstype, reason=f"unexpected answer from the node ({status})")
