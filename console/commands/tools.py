"""The command line's small tools for scripts and monitoring: `--version`, `config check`,
`status --nagios`, `--context NAME`.

Kept out of console/commands/cli.py so that the parser stays one readable page; nothing here imports
Textual or the network libraries at module load.
"""

from __future__ import annotations

import math
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from console import exitcodes
from console.config.contexts import context_names as context_names
from console.config.contexts import context_path as context_path
from console.config.contexts import contexts_dir as contexts_dir
from console.config.errors import ConfigError, ConfigNotFound

if TYPE_CHECKING:
    from console.cluster.crosschecks import Problem

LIBRARIES = ("textual", "asyncssh", "httpx", "pymysql", "cryptography", "watchfiles", "orjson")
"""Under the config directory: one NAME.toml inventory per cluster, for ``--context NAME``."""

NAGIOS_OK, NAGIOS_WARNING, NAGIOS_CRITICAL, NAGIOS_UNKNOWN = 0, 1, 2, 3
NAGIOS_WORDS = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def config_in_use(explicit: str | None, sandbox: bool, context: str | None) -> str:
    """Which inventory a command would read with these options, and why; never raises."""
    from console.config import find_config

    if sandbox:
        from console.sandbox.layout import current_layout

        return f"{current_layout().inventory} (--sandbox)"
    try:
        if context is not None:
            return f"{context_path(context)} (--context {context})"
        return str(find_config(explicit))
    except ConfigNotFound as exc:
        return f"none found ({str(exc).splitlines()[0]})"


def version_report(config: str) -> str:
    """`--version`: ours, Python's and the key libraries' versions, and the config in use."""
    lines = [f"clusterconsole {_version('clusterconsole')}"]
    lines.append(f"python {platform.python_version()} ({sys.executable})")
    lines.extend(f"{name} {_version(name)}" for name in LIBRARIES)
    lines.append(f"config {config}")
    return "\n".join(lines) + "\n"


def cycle_problem(cycle: float | None, watch: bool) -> str | None:
    """Why ``--cycle`` cannot be used as given, or None."""
    if cycle is None:
        return None
    if not watch:
        return "--cycle only applies to --watch (the wall screen rotates its views)"
    if not math.isfinite(cycle) or cycle <= 0:
        return f"--cycle must be a number of seconds greater than 0, got {cycle:g}"
    return None


def config_check(path: Path, out: TextIO, err: TextIO) -> int:
    """`config check`: validate only (like `sshd -t`): 0 and a summary, or 2 and every error."""
    from console.config import load_inventory

    try:
        inventory = load_inventory(path)
    except ConfigError as exc:
        print(str(exc), file=err)
        print(f"{path}: the configuration has errors", file=err)
        return exitcodes.USAGE
    nodes, balancers = len(inventory.nodes), len(inventory.balancers)
    print(
        f"{path}: OK (cluster {inventory.cluster.name!r}, {nodes} node{'s' * (nodes != 1)}, "
        f"{balancers} balancer{'s' * (balancers != 1)}, profile {inventory.profile.name})",
        file=out,
    )
    return exitcodes.OK


def nagios(
    found: Sequence[Problem], unknown_codes: frozenset[str], cluster: str
) -> tuple[int, str]:
    """The Nagios/Icinga plugin answer: exit code by the worst problem and the one line those
    tools show (``CLUSTERCONSOLE CRITICAL - 2 critical, 1 warning: node2 ssh-down; ...``).

    A fact the snapshot could not learn (``unknown_codes``) makes the answer UNKNOWN unless a
    known problem is already critical.
    """
    critical = [p for p in found if p.severity == "critical" and p.code not in unknown_codes]
    warning = [p for p in found if p.severity == "warning" and p.code not in unknown_codes]
    unknown = [p for p in found if p.code in unknown_codes]
    if critical:
        code = NAGIOS_CRITICAL
    elif unknown:
        code = NAGIOS_UNKNOWN
    elif warning:
        code = NAGIOS_WARNING
    else:
        code = NAGIOS_OK
    counts = [
        f"{len(group)} {word}"
        for group, word in ((critical, "critical"), (warning, "warning"), (unknown, "unknown"))
        if group
    ]
    shown = [*critical, *unknown, *warning]
    if not shown:
        summary = f"cluster {cluster}: no problems"
    else:
        items = "; ".join(f"{p.node + ' ' if p.node else ''}{p.code}" for p in shown[:5])
        more = f"; {len(shown) - 5} more" if len(shown) > 5 else ""
        summary = f"cluster {cluster}: {', '.join(counts)}: {items}{more}"
    perf = f"critical={len(critical)} warning={len(warning)} unknown={len(unknown)}"
    return code, f"CLUSTERCONSOLE {NAGIOS_WORDS[code]} - {summary} | {perf}"
