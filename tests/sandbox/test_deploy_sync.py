"""The proof of issue 14: `--wizard deploy` on the real sandbox.

A file changed, one added and one deleted in node1's web application are previewed exactly, per
target; under the sandbox's sticky load the sync fails no request; afterwards every node serves
the new file over its own HTTP and no longer the deleted one; a second run has nothing to do; a
run while another console holds the lock is refused with who holds it, and the lock of a
SIGKILLed holder is taken over. A new web application is seen deployed by Tomcat (its log line
and its context answering). A source that does not exist is refused before anything changes.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from console import exitcodes
from console.audit import AUDIT_ENV
from console.sandbox.layout import SandboxLayout
from console.sandbox.load import LoadGenerator
from tests.bench.drain_proof import CLIENTS, REQUEST_TIMEOUT, audit_pairs, warm_nodes

from .helpers import wait_for

pytestmark = [pytest.mark.sandbox]

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ("node2", "node3")
HOLDER = """
import asyncio, sys
from console.config import load_inventory
from console.deploy.lock import DeployLock, LOCK_NAME, owner_record
from console.deploy.sync import endpoint
async def main():
    inventory = load_inventory(__import__("pathlib").Path(sys.argv[1]))
    node = inventory.node("node1")
    lock = DeployLock("node1", endpoint(inventory, node), node.catalina_base + "/" + LOCK_NAME)
    await lock.acquire(owner_record("holder-console"))
    print("held", flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        AUDIT_ENV: str(tmp_path / "audit.jsonl"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PYTHONPATH": str(ROOT),
    }


def _wizard(
    sandbox: SandboxLayout,
    tmp_path: Path,
    *extra: str,
    inventory: Path | None = None,
    wizard: str = "deploy",
) -> tuple[int, list[dict[str, Any]], str]:
    command = [
        sys.executable,
        "-m",
        "console",
        "--wizard",
        wizard,
        "--json",
        "--config",
        str(inventory or sandbox.inventory),
        *extra,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, env=_env(tmp_path), cwd=ROOT, timeout=600
    )
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, events, done.stderr


def _plans(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        change["request"]["node"]: change["request"]
        for event in events
        if event.get("event") == "plan"
        for change in event.get("changes", [])
    }


def _finished(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next(e for e in reversed(events) if e.get("event") == "finished")


def _app(sandbox: SandboxLayout, name: str) -> Path:
    return next(node for node in sandbox.nodes if node.name == name).base / "webapps" / "app"


def _get(url: str) -> httpx.Response:
    with httpx.Client(timeout=10.0) as client:
        return client.get(url)


def test_deploy_sync_previews_syncs_under_load_verifies_and_locks(
    sandbox: SandboxLayout, tmp_path: Path
) -> None:
    # every node holds the two files the test then changes and deletes on the source
    for node in sandbox.nodes:
        app = _app(sandbox, node.name)
        (app / "deploy-changed.txt").write_text("version 1\n")
        (app / "deploy-gone.txt").write_text("to be deleted\n")
    # start from a cluster in step (whatever an earlier test left)
    code, events, err = _wizard(sandbox, tmp_path, "--yes")
    assert code == exitcodes.OK, (err, events[-5:])

    source = _app(sandbox, "node1")
    (source / "deploy-changed.txt").write_text("version 2, longer\n")
    (source / "deploy-new.txt").write_text("new in this deploy\n")
    (source / "deploy-gone.txt").unlink()

    # the preview: exactly those three, per target, and nothing changed by a dry run
    code, events, err = _wizard(sandbox, tmp_path, "--dry-run")
    assert code == exitcodes.OK, (err, events[-5:])
    plans = _plans(events)
    assert sorted(plans) == list(TARGETS)
    for plan in plans.values():
        assert plan["added"] == ["app/deploy-new.txt"], plan
        assert plan["changed"] == ["app/deploy-changed.txt"], plan
        assert plan["deleted"] == ["app/deploy-gone.txt"], plan
    assert (_app(sandbox, "node2") / "deploy-gone.txt").exists()

    # the sync, under the sticky load through the balancer
    audit = tmp_path / "audit.jsonl"

    async def under_load() -> tuple[Any, tuple[int, list[dict[str, Any]], str]]:
        await warm_nodes(sandbox)
        routes = tuple(node.jvm_route for node in sandbox.nodes)
        load = LoadGenerator(sandbox.app_url, CLIENTS, 100.0, REQUEST_TIMEOUT, routes=routes)
        await load.start()
        try:
            await asyncio.sleep(2.0)
            ran = await asyncio.to_thread(_wizard, sandbox, tmp_path, "--yes")
            await asyncio.sleep(2.0)
        finally:
            report = await load.stop()
        return report, ran

    report, (code, events, err) = asyncio.run(under_load())
    assert code == exitcodes.OK, (err, events[-6:])
    assert report.ok > 0 and report.failures == 0, report.to_json()["failure_samples"]
    state = str(_finished(events).get("state"))
    assert "in step: node2, node3" in state, state
    for node in sandbox.nodes:
        base = node.http_url + "/app/"
        assert _get(base + "deploy-new.txt").text == "new in this deploy\n"
        assert _get(base + "deploy-changed.txt").text == "version 2, longer\n"
        assert _get(base + "deploy-gone.txt").status_code == 404
    pairs, unpaired, failed = audit_pairs(audit)
    assert not unpaired and not failed, (unpaired, failed)
    synced = [p for p in pairs.values() if p["before"].get("step") == "sync"]
    assert sorted(p["before"]["node"] for p in synced[-2:]) == list(TARGETS)
    assert all(p["after"]["result"]["itemized"]["deleted"] for p in synced[-2:])

    # a second run has nothing to do
    code, events, err = _wizard(sandbox, tmp_path, "--yes")
    assert code == exitcodes.OK, (err, events[-5:])
    assert _plans(events) == {}
    assert any("nothing to do" in str(e.get("text")) for e in events)

    # another console holds the lock: refused, naming it; SIGKILLed, its lock is taken over
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(sandbox.inventory)],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code, events, err = _wizard(sandbox, tmp_path, "--yes")
        assert code == exitcodes.REFUSED, (err, events[-3:])
        assert "holder-console@" in err and "since" in err, err
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    (source / "deploy-new.txt").write_text("changed once more\n")
    code, events, err = _wizard(sandbox, tmp_path, "--yes")
    assert code == exitcodes.OK, (err, events[-5:])
    warnings = [str(e.get("text")) for e in events if e.get("event") == "warning"]
    assert any("took over the deploy lock left by holder-console" in w for w in warnings)
    assert _get(sandbox.nodes[2].http_url + "/app/deploy-new.txt").text == "changed once more\n"

    # drift: a node changed by hand is named by `deploy --check`, which changes nothing
    hand = _app(sandbox, "node3") / "deploy-changed.txt"
    hand.write_text("edited by hand on node3\n")
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "deploy",
            "--check",
            "--json",
            "--config",
            str(sandbox.inventory),
        ],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=ROOT,
        timeout=300,
    )
    assert check.returncode == exitcodes.PROBLEMS, check.stderr
    drift = {n["node"]: n for n in json.loads(check.stdout)["nodes"]}
    assert drift["node2"]["status"] == "in-step"
    assert drift["node3"]["status"] == "differs"
    assert drift["node3"]["differences"]["changed"] == ["app/deploy-changed.txt"]
    assert hand.read_text() == "edited by hand on node3\n"

    # cleanup: the test's files off every node
    for name in ("deploy-new.txt", "deploy-changed.txt"):
        (source / name).unlink()
    code, events, err = _wizard(sandbox, tmp_path, "--yes")
    assert code == exitcodes.OK, (err, events[-5:])


def test_a_new_web_application_is_seen_deployed_then_removed(
    sandbox: SandboxLayout, tmp_path: Path
) -> None:
    webapps = next(node for node in sandbox.nodes if node.name == "node1").base / "webapps"
    (webapps / "deploytest").mkdir(exist_ok=True)
    (webapps / "deploytest" / "index.html").write_text("deployed\n")
    began = time.monotonic()
    code, events, err = _wizard(sandbox, tmp_path, "--yes")
    assert code == exitcodes.OK, (err, events[-6:])
    # the verify step waited for Tomcat's "Deployment of web application directory" line
    assert time.monotonic() - began < 300
    for node in sandbox.nodes[1:]:
        assert _get(node.http_url + "/deploytest/").text == "deployed\n"
    (webapps / "deploytest" / "index.html").unlink()
    (webapps / "deploytest").rmdir()
    code, events, err = _wizard(sandbox, tmp_path, "--yes")
    assert code == exitcodes.OK, (err, events[-6:])
    for node in sandbox.nodes[1:]:
        url = node.http_url + "/deploytest/"

        def gone(url: str = url) -> bool:
            return _get(url).status_code == 404

        wait_for(gone, 60, f"{node.name} to undeploy /deploytest")


def test_a_source_that_does_not_exist_is_refused(sandbox: SandboxLayout, tmp_path: Path) -> None:
    text = sandbox.inventory.read_text().replace(
        'source = "node1:webapps/"', 'source = "node1:webapps-nope/"'
    )
    inventory = sandbox.inventory.parent / "cluster-bad-deploy.toml"
    inventory.write_text(text)
    try:
        code, events, err = _wizard(sandbox, tmp_path, "--yes", inventory=inventory)
    finally:
        inventory.unlink()
    assert code == exitcodes.REFUSED, (err, events[-3:])
    assert "the source directory does not exist" in err, err
    assert not [e for e in events if e.get("event") == "change"]


@pytest.mark.disruptive
def test_a_rolling_deploy_restarts_only_the_nodes_it_syncs_under_load(
    sandbox: SandboxLayout, tmp_path: Path
) -> None:
    source = _app(sandbox, "node1")
    (source / "deploy-rolling.txt").write_text("needs a restart\n")
    code, events, err = _wizard(sandbox, tmp_path, "--yes", "--nodes", "node2")
    assert code == exitcodes.OK, (err, events[-6:])  # node2 in step: left alone below

    async def under_load() -> tuple[Any, tuple[int, list[dict[str, Any]], str]]:
        await warm_nodes(sandbox)
        routes = tuple(node.jvm_route for node in sandbox.nodes)
        load = LoadGenerator(sandbox.app_url, CLIENTS, 100.0, REQUEST_TIMEOUT, routes=routes)
        await load.start()
        try:
            await asyncio.sleep(2.0)
            ran = await asyncio.to_thread(
                _wizard, sandbox, tmp_path, "--yes", wizard="deploy-rolling"
            )
        finally:
            report = await load.stop()
        return report, ran

    report, (code, events, err) = asyncio.run(under_load())
    assert code == exitcodes.OK, (err, events[-8:])
    assert report.ok > 0 and report.failures == 0, report.to_json()["failure_samples"]
    done = [str(e.get("step")) for e in events if e.get("event") == "done"]
    assert done.index("node3/stop") < done.index("node3/sync") < done.index("node3/start")
    skipped = {str(e.get("step")) for e in events if e.get("event") == "skipped"}
    assert {"node1/stop", "node2/stop", "node2/sync"} <= skipped
    for node in sandbox.nodes:
        answer = _get(node.http_url + "/app/deploy-rolling.txt").text
        assert answer == "needs a restart\n", (node.name, answer)
    (source / "deploy-rolling.txt").unlink()
    code, events, err = _wizard(sandbox, tmp_path, "--yes")
    assert code == exitcodes.OK, (err, events[-5:])


PAIR = ("liferay-home/deploy", "liferay-home/osgi/modules")
"""The Liferay pair (hot deploy folder and OSGi modules), under each node's base here: the
sandbox runs no Liferay, and no Tomcat deploys these directories."""


def test_two_directories_are_previewed_apart_and_synced_in_one_run(
    sandbox: SandboxLayout, tmp_path: Path
) -> None:
    bases = {node.name: node.base for node in sandbox.nodes}
    for name, base in bases.items():
        for folder in PAIR:
            shutil.rmtree(base / folder, ignore_errors=True)
            (base / folder).mkdir(parents=True)
        if name != "node1":  # a stale module the sync must delete
            (base / PAIR[1] / "old-module.jar").write_text("old\n")
        for folder in PAIR:  # a file already in step in each (a sync never empties a target)
            (base / folder / "same.lpkg").write_text("same\n")
    (bases["node1"] / PAIR[0] / "portlet.war").write_text("portlet v1\n")
    (bases["node1"] / PAIR[1] / "new-module.jar").write_text("module v1\n")
    text = sandbox.inventory.read_text().replace(
        'source = "node1:webapps/"',
        'source = "node1"\npaths = ["liferay-home/deploy/", "liferay-home/osgi/modules/"]',
    )
    inventory = sandbox.inventory.parent / "cluster-two-paths.toml"
    inventory.write_text(text)
    try:
        code, events, err = _wizard(sandbox, tmp_path, "--dry-run", inventory=inventory)
        assert code == exitcodes.OK, (err, events[-5:])
        observed = [str(e.get("text")) for e in events if e.get("event") == "observed"]
        for target in TARGETS:
            # the preview per directory: one line each
            assert f"{target} liferay-home/deploy/: 1 added, 0 changed, 0 deleted, 11 bytes" in (
                observed
            ), observed
            assert any(
                line.startswith(
                    f"{target} liferay-home/osgi/modules/: 1 added, 0 changed, 1 deleted"
                )
                for line in observed
            ), observed
            request = _plans(events)[target]
            assert request["paths"] == list(f"{p}/" for p in PAIR)
            assert request["added"] == [f"{PAIR[0]}/portlet.war", f"{PAIR[1]}/new-module.jar"]
            assert request["deleted"] == [f"{PAIR[1]}/old-module.jar"]
            assert (bases[target] / PAIR[1] / "old-module.jar").exists()  # a dry run

        code, events, err = _wizard(sandbox, tmp_path, "--yes", inventory=inventory)
        assert code == exitcodes.OK, (err, events[-5:])
        for target in TARGETS:
            assert (bases[target] / PAIR[0] / "portlet.war").read_text() == "portlet v1\n"
            assert (bases[target] / PAIR[1] / "new-module.jar").read_text() == "module v1\n"
            assert not (bases[target] / PAIR[1] / "old-module.jar").exists()
        state = str(_finished(events).get("state"))
        assert "in step: node2, node3" in state, state

        code, events, err = _wizard(sandbox, tmp_path, "--yes", inventory=inventory)
        assert code == exitcodes.OK, (err, events[-5:])
        assert not _plans(events)  # nothing left to do in either directory

        (bases["node3"] / PAIR[1] / "hand-copied.jar").write_text("x\n")
        check = subprocess.run(
            [
                sys.executable,
                "-m",
                "console",
                "deploy",
                "--check",
                "--json",
                "--config",
                str(inventory),
            ],
            capture_output=True,
            text=True,
            env=_env(tmp_path),
            cwd=ROOT,
            timeout=300,
        )
        report = json.loads(check.stdout)
        assert check.returncode == exitcodes.PROBLEMS, check.stderr
        by_node = {n["node"]: n for n in report["nodes"]}
        assert by_node["node2"]["status"] == "in-step"
        assert by_node["node3"]["status"] == "differs"
        assert by_node["node3"]["differences"]["deleted"] == [f"{PAIR[1]}/hand-copied.jar"]
    finally:
        inventory.unlink()
        for base in bases.values():
            shutil.rmtree(base / "liferay-home", ignore_errors=True)
