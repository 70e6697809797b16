"""Can a node open a TCP connection to a service (the database)? One sh command, parsed here.

Uses bash's ``/dev/tcp`` under ``timeout``, the one way that needs nothing beyond a standard
Linux userland; when bash is missing the answer is "unknown", never a false alarm.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reach:
    """Whether the node reached host:port, and why not."""

    ok: bool | None
    reason: str | None = None


def reach_command(host: str, port: int, timeout: float = 3.0) -> str:
    """The command: prints ``OK``, ``ERR <reason>`` or ``UNKNOWN``."""
    target = shlex.quote(f"/dev/tcp/{host}/{port}")
    seconds = max(1, round(timeout))
    return (
        "if command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then "
        f"if err=$(timeout {seconds} bash -c 'exec 3<>'{target} 2>&1); then echo OK; "
        'else echo "ERR ${err:-timed out}"; fi; '
        "else echo UNKNOWN; fi"
    )


def parse_reach(output: bytes) -> Reach:
    """Interpret the answer of `reach_command`."""
    text = output.decode("utf-8", "replace").strip()
    if text == "OK":
        return Reach(True)
    if text.startswith("ERR"):
        detail = text[3:].strip().rsplit(":", 1)[-1].strip() or "failed"
        return Reach(False, detail.lower())
    return Reach(None, "cannot test from this node (no bash/timeout)")
