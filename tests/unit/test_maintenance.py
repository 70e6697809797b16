"""Maintenance marks and acknowledgements: per cluster, private, audited, never crash on read."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.audit import AuditLog, read_entries
from console.cluster import maintenance


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "maintenance.json"


def test_mark_load_clear_per_cluster(path: Path) -> None:
    maintenance.mark("prod", "node2", "drained and stopped", "ops", path=path)
    maintenance.mark("test", "node1", "disk swap", "ops", path=path)

    marks = maintenance.load("prod", path=path)
    assert list(marks) == ["node2"]
    assert marks["node2"].reason == "drained and stopped"
    assert marks["node2"].operator == "ops"
    assert marks["node2"].since.tzinfo is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    assert maintenance.clear("prod", "node2", path=path) is True
    assert maintenance.load("prod", path=path) == {}
    assert maintenance.clear("prod", "node2", path=path) is False
    assert list(maintenance.load("test", path=path)) == ["node1"]


def test_missing_or_corrupt_file_reads_as_empty(path: Path) -> None:
    assert maintenance.load("prod", path=path) == {}
    path.parent.mkdir(parents=True)
    for junk in (
        "{not json",
        '{"clusters": []}',
        '{"clusters": {"prod": {"maintenance": 3}}}',
        '{"clusters": {"prod": {"maintenance": {"n": {"since": "yesterday"}}}}}',
    ):
        path.write_text(junk)
        assert maintenance.load("prod", path=path) == {}
        assert maintenance.acknowledgements("prod", path=path) == {}
    maintenance.mark("prod", "node1", "r", "ops", path=path)  # a corrupt file is replaced
    assert list(maintenance.load("prod", path=path)) == ["node1"]


def test_acknowledgements_expire(path: Path) -> None:
    now = datetime.now(UTC)
    key = maintenance.problem_key("ssh-down", "node3")
    assert key == "ssh-down@node3"
    assert maintenance.problem_key("no-redundancy", None) == "no-redundancy"
    maintenance.acknowledge("prod", key, now + timedelta(hours=1), "ops", reason="swap", path=path)
    maintenance.acknowledge("prod", "split-brain", now + timedelta(minutes=5), "ops", path=path)

    acks = maintenance.acknowledgements("prod", path=path)
    assert set(acks) == {key, "split-brain"}
    assert acks[key].reason == "swap"
    later = maintenance.acknowledgements("prod", now=now + timedelta(minutes=10), path=path)
    assert set(later) == {key}
    assert maintenance.unacknowledge("prod", key, path=path) is True
    assert maintenance.unacknowledge("prod", key, path=path) is False


def test_changes_are_audited(path: Path, tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl", "interactive", "prod")
    maintenance.mark("prod", "node2", "drained", "ops", audit=audit, wizard="drain", path=path)
    maintenance.clear("prod", "node2", audit=audit, wizard="rejoin", path=path)
    until = datetime.now(UTC) + timedelta(hours=1)
    maintenance.acknowledge("prod", "ssh-down@node3", until, "ops", audit=audit, path=path)

    lines = read_entries(audit.path)
    steps = [(line["phase"], line["step"], line["node"]) for line in lines]
    assert steps == [
        ("before", "maintenance-mark", "node2"),
        ("after", "maintenance-mark", "node2"),
        ("before", "maintenance-clear", "node2"),
        ("after", "maintenance-clear", "node2"),
        ("before", "acknowledge", "node3"),
        ("after", "acknowledge", "node3"),
    ]
    assert all(line["result"]["ok"] for line in lines if line["phase"] == "after")


def test_unwritable_state_dir_is_an_error_for_the_user(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(maintenance.MaintenanceError, match="cannot write"):
        maintenance.mark("prod", "node1", "r", "ops", path=blocker / "maintenance.json")


def test_default_path_follows_env(tmp_path: Path) -> None:
    env = {maintenance.STATE_ENV: str(tmp_path / "s")}
    assert maintenance.maintenance_path(env) == tmp_path / "s" / "maintenance.json"
    env = {"CLUSTERCONSOLE_AUDIT_LOG": str(tmp_path / "a" / "audit.jsonl")}
    assert maintenance.maintenance_path(env) == tmp_path / "a" / "maintenance.json"
