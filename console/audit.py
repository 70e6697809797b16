"""The audit log: every change the console makes to a cluster, appended as JSON lines.

Each change is written twice, sharing one ``id``: a ``before`` line with the exact request, written
and flushed to disk before the request is sent, and an ``after`` line with what was observed (or
the error). The file is only ever appended to, never rewritten. If the ``before`` line cannot be
written, the change is not made: an unaudited change is worse than no change.

Lines look like::

    {"id": "5f0c...", "phase": "before", "time": "2026-11-22T10:00:00.123+00:00",
     "operator": "ops", "host": "bastion1", "mode": "scripted", "cluster": "prod",
     "wizard": "drain", "node": "node2", "step": "set-drain",
     "request": {"method": "POST", ...}, "state_before": {"worker": {...}}, "result": null}

``operator`` is the login of the process's uid; ``operator_claimed`` is what $USER/$LOGNAME say
when that differs (null otherwise). ``state_before`` (``before`` lines only, where known) is what
was read right before the change. The file is created 0600: it holds balancer nonces.
"""

from __future__ import annotations

import json
import os
import pwd
import socket
import stat
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from console.paths import user_state_dir

AUDIT_ENV = "CLUSTERCONSOLE_AUDIT_LOG"
"""Environment variable naming the audit file."""

AuditMode = Literal["interactive", "scripted"]
"""Where a change came from: the interactive session or the scripted wizard runner."""


class AuditError(Exception):
    """The audit log cannot be written; the change it was for must not be made."""


def audit_path(env: Mapping[str, str] | None = None) -> Path:
    """``$CLUSTERCONSOLE_AUDIT_LOG``, else ``audit.jsonl`` in the user state directory."""
    env = os.environ if env is None else env
    value = env.get(AUDIT_ENV, "")
    return Path(value) if value else user_state_dir(env) / "audit.jsonl"


def _operator() -> str:
    """The login of the process's real uid: unlike $USER or $LOGNAME, not something anyone can
    set in the environment."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def operator_identity(env: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """The real login, and the name the environment claims ($LOGNAME, $USER, ...) when it
    differs (None when it agrees or claims nothing)."""
    env = os.environ if env is None else env
    real = _operator()
    claimed = next((env[key] for key in _ENV_LOGIN if env.get(key)), None)
    return real, (claimed if claimed is not None and claimed != real else None)


_ENV_LOGIN = ("LOGNAME", "USER", "LNAME", "USERNAME")
"""Where getpass.getuser() looks, in its order."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(slots=True)
class AuditEntry:
    """One change in flight: its ``before`` line is on disk; call `done` or `failed` once."""

    log: AuditLog
    id: str
    base: dict[str, Any]
    closed: bool = False

    def done(self, result: Mapping[str, Any]) -> None:
        """Record what was observed after the change."""
        self._close({"ok": True, **result})

    def failed(self, reason: str, result: Mapping[str, Any] | None = None) -> None:
        """Record that the change failed (or was not applied), and why."""
        self._close({"ok": False, "error": reason, **(result or {})})

    def _close(self, result: Mapping[str, Any]) -> None:
        if self.closed:
            return
        self.closed = True
        self.log.append({**self.base, "phase": "after", "time": _now(), "result": dict(result)})


@dataclass(slots=True)
class AuditLog:
    """An append-only JSON-lines file of changes, shared by every operation of one process."""

    path: Path
    mode: AuditMode
    cluster: str = ""
    operator: str = field(default_factory=_operator)
    """The login of the process's uid."""
    host: str = field(default_factory=socket.gethostname)
    operator_claimed: str | None = field(default_factory=lambda: operator_identity()[1])
    """The login the environment claims ($USER ...), recorded only when it differs."""

    @classmethod
    def from_env(cls, mode: AuditMode, cluster: str = "") -> AuditLog:
        """The audit log at `audit_path()`."""
        return cls(audit_path(), mode, cluster)

    def check_writable(self) -> None:
        """Create the file (and its directory) if needed; AuditError if it cannot be appended."""
        os.close(self._open())

    def _open(self) -> int:
        """The file, opened for appending; created 0600 in one step (it holds balancer nonces).
        A file others can read or write is made private first, or refused if it cannot be."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise AuditError(
                f"cannot write the audit log {self.path}: {exc.strerror or exc}"
            ) from None
        try:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
            if mode & 0o077:
                os.fchmod(fd, mode & 0o700)
        except OSError as exc:
            os.close(fd)
            raise AuditError(
                f"the audit log {self.path} can be read by other users (mode {mode:o}) and "
                f"cannot be made private: {exc.strerror or exc}"
            ) from None
        return fd

    def begin(
        self,
        *,
        node: str | None,
        step: str,
        request: Mapping[str, Any],
        wizard: str | None = None,
        state_before: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Write the ``before`` line of a change (with what was read just before it, e.g. the
        worker as the balancer showed it); AuditError (and no change) if that fails."""
        base: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "operator": self.operator,
            "operator_claimed": self.operator_claimed,
            "host": self.host,
            "mode": self.mode,
            "cluster": self.cluster,
            "wizard": wizard,
            "node": node,
            "step": step,
            "request": dict(request),
        }
        before = {"state_before": dict(state_before)} if state_before is not None else {}
        self.append({**base, **before, "phase": "before", "time": _now(), "result": None})
        return AuditEntry(self, base["id"], base)

    def append(self, record: Mapping[str, Any]) -> None:
        """Append one line and push it to disk."""
        ordered = {key: record[key] for key in _ORDER if key in record}
        line = json.dumps(ordered, ensure_ascii=False, default=str) + "\n"
        fd = self._open()
        try:
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise AuditError(
                f"cannot write the audit log {self.path}: {exc.strerror or exc}"
            ) from None


_ORDER = (
    "id",
    "phase",
    "time",
    "operator",
    "operator_claimed",
    "host",
    "mode",
    "cluster",
    "wizard",
    "node",
    "step",
    "request",
    "state_before",
    "result",
)


def read_entries(path: Path) -> list[dict[str, Any]]:
    """Every line of an audit file, parsed (for tests and the console's audit view)."""
    entries: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                entries.append(json.loads(line))
    return entries
