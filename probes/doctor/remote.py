"""One read-only POSIX sh command that gathers everything the doctor reads on a node.

Files are printed after a marker line (as the unloadDelay reader does), then a few commands'
answers, each after a marker of its own: the host name and what it resolves to, the Tomcat JVM's
arguments (``/proc/PID/cmdline``), a fingerprint of every deployed artifact, and the shared
directory check. Every path is quoted with ``shlex.quote``; nothing is written except the
shared directory's probe file, which is removed again.

The host name lookup honours two variables when the node's sshd sets them,
``CLUSTERCONSOLE_HOSTNAME`` and ``CLUSTERCONSOLE_HOSTS_FILE`` (a file in /etc/hosts format read
instead of ``getent``). The sandbox uses them to give each of its nodes a name and a hosts file of
its own, as separate machines have; on a real node they are unset and ``hostname`` and
``getent ahosts`` answer.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

from probes.files import shared_dir_command

MARKER = "@@clusterconsole-doctor "
READ_LIMIT = 512 * 1024
"""Bytes read at most from each file."""
MARKER_FILE = ".clusterconsole-doctor-"
MAIN_CLASSES = ("org.apache.catalina.startup.Bootstrap", "org.wso2.carbon.bootstrap.Bootstrap")

_SECTION = f"sec() {{ printf '\\n%s%s\\n' {shlex.quote(MARKER)} \"$1\"; }}"

_HOSTNAME = r"""
sec hostname
h=${CLUSTERCONSOLE_HOSTNAME:-$(hostname 2>/dev/null || uname -n)}
printf '%s\n' "$h"
sec resolves
if [ -n "${CLUSTERCONSOLE_HOSTS_FILE:-}" ]; then
  printf 'via %s\n' "$CLUSTERCONSOLE_HOSTS_FILE"
  awk -v h="$h" '$1 !~ /^#/ { for (i = 2; i <= NF; i++) if ($i == h) print $1 }' \
    "$CLUSTERCONSOLE_HOSTS_FILE"
else
  echo 'via getent'
  getent ahosts "$h" 2>/dev/null | awk '{ print $1 }' | sort -u
fi
"""


@dataclass(frozen=True, slots=True)
class RawNode:
    """What the command printed, split back: file texts by path, section texts by name."""

    files: dict[str, str] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)


def marker_prefix(shared_dir: str, token: str) -> str:
    """The shared-directory markers of one doctor run: PREFIX + the writer's node number."""
    return f"{shared_dir.rstrip('/')}/{MARKER_FILE}{token}-"


def gather_command(
    files: list[str],
    catalina_base: str,
    shared_dir: str | None,
    node: str,
    *,
    marker: tuple[str, int] | None = None,
    write: bool = True,
) -> str:
    """The command (see the module's text). `marker` (token, node number): leave a marker file
    in the shared directory for the other nodes to look for (`seen_command`); `write` False
    only tests the shared directory's permissions (read-only mode) and leaves no marker."""
    base = catalina_base.rstrip("/") or "/"
    quoted = " ".join(shlex.quote(path) for path in files) or "''"
    lines = [
        _SECTION,
        f'for f in {quoted}; do if [ -r "$f" ] && [ -f "$f" ]; then '
        f'sec "file $f"; head -c {READ_LIMIT} "$f"; fi; done',
        _HOSTNAME,
        # The JVMs naming this base; the exact match (a word of its own, with the main class)
        # is made by the parser: this very command's text names the base too.
        f"b={shlex.quote(base)}",
        'for p in $(ps -eo pid=,args= 2>/dev/null | grep -F -e "-Dcatalina.base=$b" '
        "-e \"-Dcarbon.home=$b\" | awk '{ print $1 }'); do "
        'if [ -r "/proc/$p/cmdline" ]; then sec "cmdline $p"; '
        "tr '\\000' '\\n' < \"/proc/$p/cmdline\"; fi; done",
        "sec artifacts",
        'if cd "$b/webapps" 2>/dev/null; then for e in *; do '
        'if [ -f "$e" ]; then printf "F %s %s\\n" "$(cksum < "$e" | tr " " -)" "$e"; '
        # A directory: the checksum of every file's checksum and path (content, not mtimes,
        # which differ between nodes that unpacked the same war at different times).
        'elif [ -d "$e" ]; then printf "D %s %s\\n" "$(cd "$e" && find . -type f ! -name "*.log" '
        "-print0 2>/dev/null | LC_ALL=C sort -z | xargs -0 -r cksum | cksum | tr ' ' -)\" "
        '"$e"; fi; done; fi',
    ]
    if shared_dir:
        lines += ["sec shared", f"( {shared_dir_command(shared_dir, node, write=write)} )"]
        if marker is not None and write:
            token, number = marker
            path = shlex.quote(marker_prefix(shared_dir, token) + str(number))
            lines += [
                "sec marker",
                f"if printf %s {shlex.quote(token)} > {path} 2>/dev/null; then echo written; fi",
            ]
    return "\n".join(lines)


def split(output: bytes) -> RawNode:
    """The command's output back into files and sections (a file keeps its line numbers)."""
    raw = RawNode()
    current: tuple[str, str] | None = None
    lines: list[str] = []

    def close() -> None:
        if current is None:
            return
        kind, name = current
        text = "\n".join(lines[:-1] if lines and lines[-1] == "" else lines)
        if kind == "file":
            raw.files[name] = text
        else:
            raw.sections[name] = text

    for line in output.decode("utf-8", "replace").split("\n"):
        if line.startswith(MARKER):
            close()
            name = line[len(MARKER) :]
            current = ("file", name[5:]) if name.startswith("file ") else ("section", name)
            lines = []
        elif current is not None:
            lines.append(line)
    close()
    return raw


def jvm_arguments(raw: RawNode, catalina_base: str) -> tuple[str, ...] | None:
    """The running server's JVM arguments (its cmdline), or None when none runs."""
    base = catalina_base.rstrip("/") or "/"
    wanted = {f"-Dcatalina.base={base}", f"-Dcarbon.home={base}"}
    for name, text in raw.sections.items():
        if not name.startswith("cmdline "):
            continue
        args = tuple(text.split("\n"))
        if any(a.rstrip("/") in wanted or a in wanted for a in args) and any(
            main in args for main in MAIN_CLASSES
        ):
            return args
    return None


def seen_command(shared_dir: str, token: str) -> str:
    """Print the node number of every marker of this run the node sees in the directory."""
    prefix = shlex.quote(marker_prefix(shared_dir, token))
    return (
        f'p={prefix}; for f in "$p"*; do '
        'if [ -f "$f" ]; then printf "%s\\n" "${f#"$p"}"; fi; done'
    )


def parse_seen(output: bytes) -> frozenset[int]:
    return frozenset(
        int(line) for line in output.decode("ascii", "replace").split() if line.isdigit()
    )


def resolved_addresses(raw: RawNode) -> tuple[str | None, tuple[str, ...]]:
    """(the hosts file that answered, None for getent; the addresses the host name has)."""
    via: str | None = None
    found: list[str] = []
    for line in raw.sections.get("resolves", "").splitlines():
        line = line.strip()
        if line.startswith("via "):
            via = None if line == "via getent" else line[4:]
        elif line and line not in found:
            found.append(line)
    return via, tuple(found)


def files_command(files: list[str], globs: Sequence[tuple[str, str]] = ()) -> str:
    """Print each readable file after a marker; `globs` are (directory, pattern) pairs."""
    words = [shlex.quote(path) for path in files]
    words += [f"{shlex.quote(directory.rstrip('/'))}/{pattern}" for directory, pattern in globs]
    return "\n".join(
        [
            _SECTION,
            f'for f in {" ".join(words) or chr(39) * 2}; do if [ -r "$f" ] && [ -f "$f" ]; then '
            f'sec "file $f"; head -c {READ_LIMIT} "$f"; fi; done',
        ]
    )


def artifacts(raw: RawNode) -> dict[str, str]:
    """Deployed artifact name -> fingerprint (a war's checksum, a directory's file list)."""
    found: dict[str, str] = {}
    for line in raw.sections.get("artifacts", "").splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0] in ("F", "D"):
            found[parts[2]] = f"{parts[0]}:{parts[1]}"
    return found
