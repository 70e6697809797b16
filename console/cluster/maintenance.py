"""Maintenance marks and acknowledged problems, kept in a small JSON file next to the audit log.

A node drained and stopped on purpose is *in maintenance*: the state shows it as such, without an
alarm, until a rejoin clears the mark. An operator may also *acknowledge* a problem for a chosen
time: until then it is shown as acknowledged instead of raising an alarm.

API (every function takes an optional ``path``; the default is `maintenance_path()`)::

    mark(cluster, node, reason, operator, audit=None) -> MaintenanceMark
    clear(cluster, node, audit=None) -> bool                 # True if a mark was removed
    load(cluster) -> dict[str, MaintenanceMark]              # node name -> mark
    acknowledge(cluster, problem_key, until, operator, reason="", audit=None) -> Acknowledgement
    unacknowledge(cluster, problem_key, audit=None) -> bool
    acknowledgements(cluster, now=None) -> dict[str, Acknowledgement]   # only those not expired
    problem_key(code, node) -> str                           # "ssh-down@node2", or "split-brain"

``audit`` is an `AuditLog`: when given, the change is audited like any other (a ``before`` line
written before the file is changed, an ``after`` line with the outcome); pass it whenever an
operator or a wizard makes the change. Reading never raises: a missing, unreadable or corrupt
file reads as empty. Writing raises `MaintenanceError` (with a message for the user).

The file is ``$CLUSTERCONSOLE_STATE_DIR/maintenance.json``, else ``maintenance.json`` in the
directory of the audit log (see `console.audit.audit_path`). It is written atomically (a
temporary file renamed over it), mode 0600, under an exclusive lock so that a wizard and a
console running at the same time do not lose each other's changes. Layout::

    {"version": 1, "clusters": {"prod": {
        "maintenance": {"node2": {"reason": "...", "operator": "ops", "since": "2026-...Z"}},
        "acknowledged": {"ssh-down@node3": {"until": "...", "operator": "ops", "at": "...",
                                            "reason": "..."}}}}}
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.audit import AuditEntry, AuditError, AuditLog, audit_path

STATE_ENV = "CLUSTERCONSOLE_STATE_DIR"
"""Environment variable naming the directory of ``maintenance.json``."""

FILE_NAME = "maintenance.json"
_VERSION = 1


class MaintenanceError(Exception):
    """The maintenance file cannot be written (the message is for the user)."""


@dataclass(frozen=True, slots=True)
class MaintenanceMark:
    """A node taken out on purpose: by whom, since when, and why."""

    node: str
    reason: str
    operator: str
    since: datetime

    def to_json(self) -> dict[str, str]:
        return {
            "node": self.node,
            "reason": self.reason,
            "operator": self.operator,
            "since": _iso(self.since),
        }


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """A problem an operator has seen and silenced until `until`."""

    problem_key: str
    until: datetime
    operator: str
    at: datetime
    reason: str = ""

    def active(self, now: datetime | None = None) -> bool:
        """Whether it still silences its problem at `now`."""
        return (now or datetime.now(UTC)) < self.until

    def to_json(self) -> dict[str, str]:
        return {
            "problem_key": self.problem_key,
            "until": _iso(self.until),
            "operator": self.operator,
            "at": _iso(self.at),
            "reason": self.reason,
        }


def problem_key(code: str, node: str | None) -> str:
    """The key acknowledging one problem: ``code@node``, or ``code`` for a cluster-wide one."""
    return f"{code}@{node}" if node else code


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$CLUSTERCONSOLE_STATE_DIR``, else the directory of the audit log."""
    env = os.environ if env is None else env
    value = env.get(STATE_ENV, "")
    return Path(value) if value else audit_path(env).parent


def maintenance_path(env: Mapping[str, str] | None = None) -> Path:
    """Where marks and acknowledgements are kept."""
    return state_dir(env) / FILE_NAME


# ---------------------------------------------------------------- reading


def load(cluster: str, *, path: Path | None = None) -> dict[str, MaintenanceMark]:
    """The nodes of `cluster` in maintenance, by node name (empty when none or unreadable)."""
    section = _read(path or maintenance_path()).get(cluster, {}).get("maintenance", {})
    marks: dict[str, MaintenanceMark] = {}
    for node, raw in section.items():
        mark_ = _mark_from(node, raw)
        if mark_ is not None:
            marks[node] = mark_
    return marks


def acknowledgements(
    cluster: str, *, now: datetime | None = None, path: Path | None = None
) -> dict[str, Acknowledgement]:
    """The problems of `cluster` acknowledged and not yet expired at `now`, by problem key."""
    now = now or datetime.now(UTC)
    section = _read(path or maintenance_path()).get(cluster, {}).get("acknowledged", {})
    acks: dict[str, Acknowledgement] = {}
    for key, raw in section.items():
        ack = _ack_from(key, raw)
        if ack is not None and ack.active(now):
            acks[key] = ack
    return acks


# ---------------------------------------------------------------- changing


def mark(
    cluster: str,
    node: str,
    reason: str,
    operator: str,
    *,
    audit: AuditLog | None = None,
    wizard: str | None = None,
    path: Path | None = None,
) -> MaintenanceMark:
    """Put `node` in maintenance (replacing an earlier mark)."""
    new = MaintenanceMark(node, reason, operator, datetime.now(UTC))
    raw = {"reason": reason, "operator": operator, "since": _iso(new.since)}
    request = {"action": "maintenance-mark", **raw}
    with _audited(audit, node, "maintenance-mark", request, wizard) as entry:
        with _edit(path or maintenance_path()) as data:
            section = data.setdefault(cluster, {}).setdefault("maintenance", {})
            section[node] = raw
        if entry is not None:
            entry.done({"maintenance": True})
    return new


def clear(
    cluster: str,
    node: str,
    *,
    audit: AuditLog | None = None,
    wizard: str | None = None,
    path: Path | None = None,
) -> bool:
    """Take `node` out of maintenance; False (and nothing audited) when it was not in it."""
    target = path or maintenance_path()
    if node not in load(cluster, path=target):
        return False
    with _audited(audit, node, "maintenance-clear", {"action": "maintenance-clear"}, wizard) as e:
        with _edit(target) as data:
            removed = data.get(cluster, {}).get("maintenance", {}).pop(node, None) is not None
        if e is not None:
            e.done({"maintenance": False})
    return removed


def acknowledge(
    cluster: str,
    problem_key: str,
    until: datetime,
    operator: str,
    *,
    reason: str = "",
    audit: AuditLog | None = None,
    path: Path | None = None,
) -> Acknowledgement:
    """Silence the problem `problem_key` until `until` (an aware datetime); expired ones are
    dropped from the file on the way."""
    if until.tzinfo is None:
        raise ValueError("until must be an aware datetime")
    now = datetime.now(UTC)
    ack = Acknowledgement(problem_key, until, operator, now, reason)
    raw = {"until": _iso(until), "operator": operator, "at": _iso(now), "reason": reason}
    request = {"action": "acknowledge", "problem": problem_key, **raw}
    node = problem_key.partition("@")[2] or None
    with _audited(audit, node, "acknowledge", request, None) as entry:
        with _edit(path or maintenance_path()) as data:
            section = data.setdefault(cluster, {}).setdefault("acknowledged", {})
            for key in [k for k, v in section.items() if _expired(k, v, now)]:
                del section[key]
            section[problem_key] = raw
        if entry is not None:
            entry.done({"acknowledged_until": _iso(until)})
    return ack


def unacknowledge(
    cluster: str, problem_key: str, *, audit: AuditLog | None = None, path: Path | None = None
) -> bool:
    """Withdraw an acknowledgement; False when there was none."""
    target = path or maintenance_path()
    if problem_key not in _read(target).get(cluster, {}).get("acknowledged", {}):
        return False
    node = problem_key.partition("@")[2] or None
    request = {"action": "unacknowledge", "problem": problem_key}
    with _audited(audit, node, "unacknowledge", request, None) as entry:
        with _edit(target) as data:
            removed = data.get(cluster, {}).get("acknowledged", {}).pop(problem_key, None)
        if entry is not None:
            entry.done({"acknowledged": False})
    return removed is not None


# ---------------------------------------------------------------- internals


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _mark_from(node: Any, raw: Any) -> MaintenanceMark | None:
    if not isinstance(node, str) or not isinstance(raw, dict):
        return None
    since = _time(raw.get("since"))
    if since is None:
        return None
    return MaintenanceMark(node, _text(raw.get("reason")), _text(raw.get("operator")), since)


def _ack_from(key: Any, raw: Any) -> Acknowledgement | None:
    if not isinstance(key, str) or not isinstance(raw, dict):
        return None
    until, at = _time(raw.get("until")), _time(raw.get("at"))
    if until is None:
        return None
    return Acknowledgement(
        key, until, _text(raw.get("operator")), at or until, _text(raw.get("reason"))
    )


def _expired(key: Any, raw: Any, now: datetime) -> bool:
    ack = _ack_from(key, raw)
    return ack is None or not ack.active(now)


def _clusters(doc: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """The ``clusters`` table of a parsed file, with anything malformed left out."""
    if not isinstance(doc, dict) or not isinstance(doc.get("clusters"), dict):
        return {}
    clusters: dict[str, dict[str, dict[str, Any]]] = {}
    for name, sections in doc["clusters"].items():
        if isinstance(name, str) and isinstance(sections, dict):
            clusters[name] = {
                key: value
                for key, value in sections.items()
                if key in ("maintenance", "acknowledged") and isinstance(value, dict)
            }
    return clusters


def _read(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    try:
        return _clusters(json.loads(text))
    except ValueError:
        return {}


@contextlib.contextmanager
def _audited(
    audit: AuditLog | None,
    node: str | None,
    step: str,
    request: Mapping[str, Any],
    wizard: str | None,
) -> Iterator[AuditEntry | None]:
    """The ``before`` line (if audited); the ``after`` line records a failure if one escapes."""
    if audit is None:
        yield None
        return
    try:
        entry = audit.begin(node=node, step=step, request=request, wizard=wizard)
    except AuditError as exc:
        raise MaintenanceError(str(exc)) from None
    try:
        yield entry
    except MaintenanceError as exc:
        entry.failed(str(exc))
        raise


@contextlib.contextmanager
def _edit(path: Path) -> Iterator[dict[str, dict[str, dict[str, Any]]]]:
    """The file's clusters, locked, to change in place; written back atomically at the end."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise MaintenanceError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        data = _read(path)
        yield data
        _write(path, {"version": _VERSION, "clusters": data})
    finally:
        os.close(lock_fd)


def _write(path: Path, doc: Mapping[str, Any]) -> None:
    text = json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise MaintenanceError(f"cannot write {path}: {exc.strerror or exc}") from None
