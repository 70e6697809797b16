"""Several directories in one deploy sync: `[deploy]` with a node alone and `paths`, or the
profile's defaults (WSO2, Liferay), each directory previewed apart and synced in the same run;
bad `[deploy]` tables refused with the field and the reason. rsync, flock and sh are real (the
fake `ssh` of test_deploy runs the remote command here)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.audit import AuditLog
from console.config import ConfigError, load_inventory_text
from console.config.model import Inventory
from console.deploy.lock import DeployLock, LockError, owner_record
from console.deploy.sync import plan_for
from probes.rsync import Endpoint
from tests.unit.test_deploy import Ctx, _plans, _run, _write, fake_ssh  # noqa: F401

NODES = "".join(
    f'[[nodes]]\nname = "node{i}"\nhost = "node{i}"\ncatalina_base = "/opt/n{i}/tomcat"\n'
    'logs = ["logs/catalina.out"]\n'
    for i in (1, 2, 3)
)


def _load(tmp_path: Path, deploy: str, profile: str = "tomcat", nodes: str = NODES) -> Inventory:
    text = f'[cluster]\nname = "t"\nprofile = "{profile}"\n\n{nodes}\n[deploy]\n{deploy}'
    (tmp_path / "cluster.toml").write_text(text)
    return load_inventory_text(text, tmp_path / "cluster.toml")


def _errors(tmp_path: Path, deploy: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, deploy)
    return str(caught.value).splitlines()


@pytest.mark.parametrize(
    ("profile", "source", "node", "sources", "node3"),
    [
        (
            "liferay",
            'source = "node2"\n',
            "node2",
            ["/opt/n2/deploy", "/opt/n2/osgi/modules"],
            ["/opt/n3/deploy", "/opt/n3/osgi/modules"],
        ),
        ("liferay", "", "node1", ["/opt/n1/deploy", "/opt/n1/osgi/modules"], None),
        (
            "wso2",
            "",
            "node1",
            ["/opt/n1/tomcat/repository/deployment/server"],
            ["/opt/n3/tomcat/repository/deployment/server"],
        ),
        ("joget", 'source = "node1"\n', "node1", ["/opt/n1/tomcat/webapps"], None),
    ],
)
def test_the_profile_gives_the_directories_when_the_source_is_a_node_alone_or_none(
    tmp_path: Path,
    profile: str,
    source: str,
    node: str,
    sources: list[str],
    node3: list[str] | None,
) -> None:
    plan = plan_for(_load(tmp_path, source, profile))
    assert plan.source_node == node  # no source: the first node
    assert [p.source_path for p in plan.paths] == sources
    if node3 is not None:
        assert [dict(p.targets)["node3"] for p in plan.paths] == node3
    assert node not in [name for name, _ in plan.targets]


def test_paths_name_the_directories_and_targets_follow_each_node(tmp_path: Path) -> None:
    inventory = _load(tmp_path, 'source = "node1"\npaths = ["deploy/", "osgi/modules/"]\n')
    plan = plan_for(inventory, ["node3"])
    assert [p.label for p in plan.paths] == ["deploy/", "osgi/modules/"]
    assert [p.targets for p in plan.paths] == [
        (("node3", "/opt/n3/tomcat/deploy"),),
        (("node3", "/opt/n3/tomcat/osgi/modules"),),
    ]
    assert plan.several and not plan.webapps


@pytest.mark.parametrize(
    ("deploy", "message"),
    [
        (
            'source = "node1"\npaths = ["deploy/", "deploy/sub/"]\n',
            "deploy.paths: 'deploy/' and 'deploy/sub/' overlap",
        ),
        ('source = "node1"\npaths = ["/opt/x/"]\n', "deploy.paths[0]: must be relative"),
        ('source = "node1"\npaths = []\n', "deploy.paths: must name at least one directory"),
        ('source = "node1"\ntarget = "webapps/"\n', "deploy.target: a target goes with a source"),
        ('source = "node1:webapps/"\npaths = ["a/"]\n', "deploy.paths: paths go with a source"),
        ('source = "node9"\n', "deploy.source: expected NODE:PATH, a node name"),
    ],
)
def test_a_bad_deploy_table_is_refused_with_the_field_and_why(
    tmp_path: Path, deploy: str, message: str
) -> None:
    errors = _errors(tmp_path, deploy)
    assert any(message in error for error in errors), errors


def test_two_directories_are_previewed_apart_and_synced_in_one_run(
    fake_ssh: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    nodes = "".join(
        f'[[nodes]]\nname = "node{i}"\nhost = "node{i}"\ncatalina_base = "{tmp_path}/n{i}/tomcat"\n'
        'logs = ["logs/catalina.out"]\n'
        for i in (1, 2, 3)
    )
    inventory = _load(tmp_path, 'source = "node1"\n', "liferay", nodes)
    for i in (1, 2, 3):
        _write(tmp_path / f"n{i}", {"deploy/keep.lpkg": "k", "osgi/modules/keep.jar": "k"})
        (tmp_path / f"n{i}" / "tomcat").mkdir()
    _write(tmp_path / "n1", {"deploy/portlet.war": "p1", "osgi/modules/new.jar": "n1"})
    _write(tmp_path / "n2", {"osgi/modules/old.jar": "old"})
    audit = AuditLog(tmp_path / "audit.jsonl", "scripted", "t")
    ctx = Ctx(inventory, ("node1", "node2", "node3"), audit)

    outcome, events = _run(ctx, dry_run=True)
    assert outcome.status == "planned", outcome.text
    observed = [e.text for e in events if e.kind == "observed"]
    assert "node2 ../deploy/: 1 added, 0 changed, 0 deleted, 2 bytes" in observed
    assert "node2 ../osgi/modules/: 1 added, 0 changed, 1 deleted (-old.jar), 2 bytes" in observed
    assert "node3 ../osgi/modules/: 1 added, 0 changed, 0 deleted, 2 bytes" in observed
    plans = _plans(events)
    assert plans["node2"]["added"] == ["../deploy/portlet.war", "../osgi/modules/new.jar"]
    assert plans["node2"]["deleted"] == ["../osgi/modules/old.jar"]
    assert (tmp_path / "n2" / "osgi" / "modules" / "old.jar").exists()

    outcome, events = _run(Ctx(inventory, ("node1", "node2", "node3"), audit))
    assert outcome.status == "done", outcome.text
    for i in (2, 3):
        assert (tmp_path / f"n{i}" / "deploy" / "portlet.war").read_text() == "p1"
        assert (tmp_path / f"n{i}" / "osgi" / "modules" / "new.jar").read_text() == "n1"
    assert not (tmp_path / "n2" / "osgi" / "modules" / "old.jar").exists()
    outcome, events = _run(Ctx(inventory, ("node1", "node2", "node3"), audit))
    assert outcome.status == "done" and not _plans(events)


def test_one_emptied_directory_refuses_the_run_though_the_other_keeps_files(
    fake_ssh: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    nodes = "".join(
        f'[[nodes]]\nname = "node{i}"\nhost = "node{i}"\ncatalina_base = "{tmp_path}/n{i}/tomcat"\n'
        'logs = ["logs/catalina.out"]\n'
        for i in (1, 2)
    )
    inventory = _load(tmp_path, 'source = "node1"\n', "liferay", nodes)
    _write(tmp_path / "n1", {"deploy/keep.lpkg": "k", "osgi/modules/a.jar": "a"})
    _write(tmp_path / "n2", {"deploy/keep.lpkg": "k", "osgi/modules/b.jar": "b"})
    for i in (1, 2):
        (tmp_path / f"n{i}" / "tomcat").mkdir()
    audit = AuditLog(tmp_path / "audit.jsonl", "scripted", "t")
    outcome, _ = _run(Ctx(inventory, ("node1", "node2"), audit))
    assert outcome.status == "refused", outcome.text
    assert "node2 ../osgi/modules/" in outcome.text
    assert (tmp_path / "n2" / "osgi" / "modules" / "b.jar").exists()


def test_a_lock_that_does_not_answer_in_time_is_said_in_words(
    fake_ssh: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A node (or a loaded machine) slower than the lock's deadline: a plain LockError naming
    the node, never a bare TimeoutError (which the wizard showed as "TimeoutError")."""
    fake_ssh.write_text("#!/bin/sh\nexec sleep 30\n")
    lock = DeployLock("node1", Endpoint("node1"), str(tmp_path / "deploy.lock"))

    async def scenario() -> None:
        with pytest.raises(LockError) as caught:
            await lock.acquire(owner_record("alice"), timeout=0.5)
        assert "node1 did not answer within 0.5 s while the deploy lock was taken" in str(
            caught.value
        )
        assert not lock.held

    asyncio.run(scenario())
