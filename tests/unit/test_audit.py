"""The audit log: before and after lines for every change, appended and flushed, never rewritten."""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

import pytest

from console.audit import (
    AUDIT_ENV,
    AuditError,
    AuditLog,
    audit_path,
    operator_identity,
    read_entries,
)


def test_path_from_env_else_state_dir(tmp_path: Path) -> None:
    assert audit_path({AUDIT_ENV: str(tmp_path / "a.jsonl")}) == tmp_path / "a.jsonl"
    default = audit_path({"XDG_STATE_HOME": str(tmp_path)})
    assert default.name == "audit.jsonl" and str(tmp_path) in str(default)


def test_before_and_after_share_an_id_and_carry_who_what_where(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", "scripted", "prod")
    entry = log.begin(
        node="node2", step="drain", request={"method": "POST", "body": "b=x"}, wizard="drain"
    )
    assert [e["phase"] for e in read_entries(log.path)] == ["before"]
    entry.done({"status": "Init Drn Ok"})
    entry.done({"status": "again"})  # closing twice writes nothing more
    before, after = read_entries(log.path)
    assert before["id"] == after["id"]
    assert after["phase"] == "after" and after["result"]["ok"] is True
    for key in ("time", "operator", "host", "mode", "wizard", "node", "step", "request"):
        assert key in before and before[key] is not None
    assert before["mode"] == "scripted" and before["request"]["method"] == "POST"


def test_lines_are_only_appended(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"earlier": true}\n', encoding="utf-8")
    log = AuditLog(path, "interactive")
    log.begin(node=None, step="x", request={}).failed("HTTP 403")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == '{"earlier": true}' and len(lines) == 3
    assert read_entries(path)[-1]["result"] == {"ok": False, "error": "HTTP 403"}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # made private on first use


def test_an_unwritable_log_refuses_the_change(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    log = AuditLog(blocker / "audit.jsonl", "scripted")
    with pytest.raises(AuditError, match="cannot write the audit log"):
        log.check_writable()
    with pytest.raises(AuditError):
        log.begin(node="n", step="s", request={})


def test_a_new_log_is_private_from_its_creation(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        log = AuditLog(tmp_path / "new" / "audit.jsonl", "scripted")
        log.check_writable()
        assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
        log.begin(node="n", step="s", request={"nonce": "13cf696e"})
        assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_a_world_readable_log_is_made_private_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text("", encoding="utf-8")
    path.chmod(0o644)
    AuditLog(path, "scripted").check_writable()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_operator_is_the_login_of_the_uid_not_what_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pwd.getpwuid(os.getuid()).pw_name
    monkeypatch.setenv("LOGNAME", "somebody-else")
    monkeypatch.setenv("USER", "somebody-else")
    assert operator_identity() == (real, "somebody-else")
    log = AuditLog(tmp_path / "audit.jsonl", "scripted")
    log.begin(node="n", step="s", request={}).done({})
    for line in read_entries(log.path):
        assert line["operator"] == real
        assert line["operator_claimed"] == "somebody-else"
    monkeypatch.setenv("LOGNAME", real)
    assert operator_identity() == (real, None)


def test_the_before_line_holds_the_state_before_the_change(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", "scripted")
    entry = log.begin(
        node="node2", step="drain", request={}, state_before={"worker": {"status": "Init Ok"}}
    )
    entry.done({"worker": {"status": "Init Drn Ok"}})
    before, after = read_entries(log.path)
    assert before["state_before"] == {"worker": {"status": "Init Ok"}}
    assert "state_before" not in after
