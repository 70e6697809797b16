"""The deploy sync: rsync's commands and itemized output, the cluster lock, and the wizard's
steps end to end on local directories (a fake `ssh` on PATH runs the remote command here, so
rsync, flock and sh are the real ones)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from console.audit import AuditLog
from console.config import load_inventory_text
from console.config.model import Inventory
from console.deploy.lock import DeployLock, LockHeld, owner_record
from console.operations.engine import Progress, Runner
from console.operations.wizards import deploy
from probes import rsync
from probes.rsync import Endpoint, SyncSpec

FAKE_SSH = r"""#!/bin/sh
# A stand-in for ssh: skips the options, then runs the remote command here with sh.
while [ $# -gt 0 ]; do
  case "$1" in
    -o|-i|-p|-l) shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
host=$1; shift
case "$host" in
  down*) echo "ssh: connect to host $host port 22: Connection refused" >&2; exit 255 ;;
  norsync*) echo "sh: 1: rsync: not found" >&2; exit 127 ;;
esac
exec sh -c "$*"
"""


@pytest.fixture
def fake_ssh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ssh = bin_dir / "ssh"
    ssh.write_text(FAKE_SSH)
    ssh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return ssh


# --- rsync commands and output --------------------------------------------------------------


def test_commands_verify_host_keys_and_keep_every_argument_whole(tmp_path: Path) -> None:
    at = Endpoint(
        "10.0.0.2",
        user="tomcat",
        port=2222,
        identity_file=tmp_path / "my key",
        known_hosts=tmp_path / "known hosts",
    )
    spec = SyncSpec("/src/$(touch x) dir", "/opt/t/webapps", target_at=at, exclude=("*.log",))
    command = spec.command(dry_run=True)
    rsh = command[command.index("-e") + 1]
    assert "StrictHostKeyChecking=yes" in rsh and "=no" not in rsh
    assert f"'UserKnownHostsFile={tmp_path}/known hosts'" in rsh
    assert f"-i '{tmp_path}/my key'" in rsh and "-p 2222" in rsh and "-l tomcat" in rsh
    assert command[-2:] == ["/src/$(touch x) dir/", "10.0.0.2:/opt/t/webapps/"]
    assert "--dry-run" in command and "--delete" in command and "--exclude=*.log" in command
    assert "-s" in command  # remote paths are not split by the remote shell
    accept = Endpoint("h", accept_new=True).rsh()
    assert "StrictHostKeyChecking=accept-new" in accept


def test_itemized_lines_are_parsed_into_added_changed_deleted() -> None:
    text = textwrap.dedent(
        """\
        *deleting   0 app/gone.txt
        .d          4096 ./
        .d          4096 app/
        >f..t...... 2 app/a.txt
        >fc.t...... 7 app/index.jsp
        cd+++++++++ 4096 app/sub/
        >f+++++++++ 12 app/sub/b.txt
        .f          5 app/same.txt
        sent 238 bytes  received 105 bytes
        """
    )
    summary = rsync.summarize(rsync.parse(text))
    assert summary.added == ("app/sub/", "app/sub/b.txt")
    assert summary.changed == ("app/a.txt", "app/index.jsp")
    assert summary.deleted == ("app/gone.txt",)
    assert summary.bytes == 2 + 7 + 12
    assert summary.unchanged == 2  # app/ (times only) and same.txt
    assert summary.apps() == ["app"]


@pytest.mark.parametrize(
    ("code", "stderr", "words"),
    [
        (127, "sh: 1: rsync: not found", "rsync is not installed"),
        (255, "ssh: connect to host x port 22: Connection refused", "unreachable"),
        (255, "Host key verification failed.", "host key"),
        (23, 'rsync: [sender] change_dir "/nope" failed: No such file or directory (2)', "source"),
        (23, 'rsync: mkstemp "/t/.a" failed: Permission denied (13)', "permission denied"),
    ],
)
def test_errors_are_said_in_plain_words(code: int, stderr: str, words: str) -> None:
    assert words in rsync.explain(code, stderr, "node2")


# --- the lock --------------------------------------------------------------------------------


def test_a_second_run_is_refused_with_who_and_since(fake_ssh: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "deploy.lock")

    async def scenario() -> None:
        first = DeployLock("node1", Endpoint("node1"), path)
        await first.acquire({**owner_record("alice"), "host": "console-a"})
        second = DeployLock("node1", Endpoint("node1"), path)
        with pytest.raises(LockHeld) as held:
            await second.acquire(owner_record("bob"))
        assert "alice@console-a" in str(held.value) and "since" in str(held.value)
        await first.release()
        await second.acquire(owner_record("bob"))
        assert second.taken_over is None  # released cleanly: nothing to take over
        await second.release()

    asyncio.run(scenario())


HOLDER = """
import asyncio, sys
from console.deploy.lock import DeployLock, owner_record
from probes.rsync import Endpoint
async def main():
    lock = DeployLock("node1", Endpoint("node1"), sys.argv[1])
    await lock.acquire(owner_record("carol"))
    print("held", flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""


def test_a_sigkilled_runs_lock_is_taken_over(fake_ssh: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "deploy.lock")
    root = Path(__file__).resolve().parents[2]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"

    async def refused_then_taken() -> dict[str, Any] | None:
        lock = DeployLock("node1", Endpoint("node1"), path)
        with pytest.raises(LockHeld, match="carol"):
            await lock.acquire(owner_record("dave"))
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        deadline = asyncio.get_running_loop().time() + 20
        while True:
            try:
                await lock.acquire(owner_record("dave"))
                break
            except LockHeld:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.1)
        taken = lock.taken_over
        await lock.release()
        return taken

    taken = asyncio.run(refused_then_taken())
    assert taken is not None and taken["operator"] == "carol" and taken["pid"] == holder.pid


# --- the wizard on local directories -------------------------------------------------------


@dataclass
class Ctx:
    """What the deploy steps use of a ClusterContext."""

    inventory: Inventory
    nodes: tuple[str, ...]
    audit: AuditLog
    answers: dict[str, Any] = field(default_factory=lambda: {"redeploy_wait": 0})
    facts: dict[str, Any] = field(default_factory=dict)
    wizard: str = "deploy"

    def answer(self, name: str, default: Any) -> Any:
        return self.answers.get(name, default)


def _inventory(tmp_path: Path, hosts: dict[str, str], exclude: str = '["*.log"]') -> Inventory:
    nodes = []
    for name, host in hosts.items():
        base = tmp_path / name
        (base / "webapps").mkdir(parents=True, exist_ok=True)
        nodes.append(
            f'[[nodes]]\nname = "{name}"\nhost = "{host}"\ncatalina_base = "{base}"\n'
            'logs = ["logs/catalina.out"]\n'
        )
    text = (
        '[cluster]\nname = "t"\n\n'
        + "\n".join(nodes)
        + f'\n[deploy]\nsource = "node1:webapps/"\nexclude = {exclude}\n'
    )
    (tmp_path / "cluster.toml").write_text(text)
    return load_inventory_text(text, tmp_path / "cluster.toml")


def _write(base: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _run(ctx: Ctx, *, dry_run: bool = False, force: bool = False) -> tuple[Any, list[Progress]]:
    events: list[Progress] = []

    async def yes(step: Any, changes: Any) -> bool:
        return True

    async def main() -> Any:
        runner: Runner[Any] = Runner(
            deploy.build(ctx.nodes),
            ctx,
            node=",".join(ctx.nodes),
            on_progress=events.append,
            confirm=yes,
            dry_run=dry_run,
            force=force,
        )
        return await runner.run()

    return asyncio.run(main()), events


@pytest.fixture
def three(fake_ssh: Path, tmp_path: Path) -> Iterator[tuple[Ctx, Path]]:
    inventory = _inventory(tmp_path, {"node1": "node1", "node2": "node2", "node3": "node3"})
    app = {"app/index.jsp": "v1", "app/old.jsp": "old", "app/WEB-INF/web.xml": "<web-app/>"}
    for name in ("node1", "node2", "node3"):
        _write(tmp_path / name / "webapps", app)
    _write(tmp_path / "node1" / "webapps", {"app/index.jsp": "v2", "app/new.jsp": "new"})
    (tmp_path / "node1" / "webapps" / "app" / "old.jsp").unlink()
    later = (tmp_path / "node1" / "webapps" / "app" / "index.jsp").stat().st_mtime + 60
    os.utime(tmp_path / "node1" / "webapps" / "app" / "index.jsp", (later, later))
    audit = AuditLog(tmp_path / "audit.jsonl", "scripted", "t")
    yield Ctx(inventory, ("node1", "node2", "node3"), audit), tmp_path


def _plans(events: list[Progress]) -> dict[str, dict[str, Any]]:
    return {
        change.request["node"]: dict(change.request)
        for event in events
        if event.kind == "plan"
        for change in event.changes
    }


def test_preview_shows_exactly_the_changes_and_a_dry_run_changes_nothing(
    three: tuple[Ctx, Path],
) -> None:
    ctx, root = three
    outcome, events = _run(ctx, dry_run=True)
    assert outcome.status == "planned", outcome.text
    plans = _plans(events)
    assert sorted(plans) == ["node2", "node3"]  # the source is not a target
    for plan in plans.values():
        assert (plan["added"], plan["changed"], plan["deleted"]) == (
            ["app/new.jsp"],
            ["app/index.jsp"],
            ["app/old.jsp"],
        )
    assert (root / "node2" / "webapps" / "app" / "old.jsp").exists()
    assert (root / "node2" / "webapps" / "app" / "index.jsp").read_text() == "v1"


def test_sync_puts_every_target_in_step_audited_and_a_second_run_has_nothing_to_do(
    three: tuple[Ctx, Path],
) -> None:
    ctx, root = three
    _write(root / "node2" / "webapps", {"app/debug.log": "kept: excluded"})
    outcome, events = _run(ctx)
    assert outcome.status == "done", outcome.text
    assert "in step: node2, node3" in outcome.state
    for name in ("node2", "node3"):
        app = root / name / "webapps" / "app"
        assert (app / "index.jsp").read_text() == "v2"
        assert (app / "new.jsp").read_text() == "new"
        assert not (app / "old.jsp").exists()
    assert (root / "node2" / "webapps" / "app" / "debug.log").exists()
    audited = (root / "audit.jsonl").read_text()
    assert audited.count('"step": "sync"') == 4  # before and after, per node
    assert '"deleted": ["app/old.jsp"]' in audited
    # the lock was given back: the next run takes it, and finds nothing to do
    again, events = _run(Ctx(ctx.inventory, ctx.nodes, ctx.audit))
    assert again.status == "done", again.text
    assert _plans(events) == {}
    assert any("nothing to do" in event.text for event in events)


def test_an_empty_source_is_refused_before_anything_changes(three: tuple[Ctx, Path]) -> None:
    ctx, root = three
    for path in sorted((root / "node1" / "webapps").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    outcome, _ = _run(ctx)
    assert outcome.status == "refused"
    assert "holds no file" in outcome.text
    assert (root / "node2" / "webapps" / "app" / "index.jsp").read_text() == "v1"


def test_a_source_that_does_not_exist_is_refused(fake_ssh: Path, tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, {"node1": "node1", "node2": "node2"})
    (tmp_path / "node1" / "webapps").rmdir()
    ctx = Ctx(inventory, ("node1", "node2"), AuditLog(tmp_path / "a.jsonl", "scripted"))
    outcome, _ = _run(ctx)
    assert outcome.status == "refused"
    assert "source" in outcome.text and "does not exist" in outcome.text


def test_a_sync_that_would_empty_a_target_is_refused_unless_forced(
    fake_ssh: Path, tmp_path: Path
) -> None:
    inventory = _inventory(tmp_path, {"node1": "node1", "node2": "node2"})
    _write(tmp_path / "node1" / "webapps", {"other/x.txt": "x"})
    _write(tmp_path / "node2" / "webapps", {"app/a.jsp": "a", "app/b.jsp": "b"})
    ctx = Ctx(inventory, ("node1", "node2"), AuditLog(tmp_path / "a.jsonl", "scripted"))
    outcome, _ = _run(ctx)
    assert outcome.status == "refused"
    assert "delete everything node2 holds" in outcome.text
    assert (tmp_path / "node2" / "webapps" / "app" / "a.jsp").exists()


def test_unreachable_and_rsync_less_targets_do_not_stop_the_others(
    fake_ssh: Path, tmp_path: Path
) -> None:
    hosts = {"node1": "node1", "node2": "node2", "node3": "down3", "node4": "norsync4"}
    inventory = _inventory(tmp_path, hosts)
    _write(tmp_path / "node1" / "webapps", {"app/a.jsp": "new"})
    ctx = Ctx(inventory, tuple(hosts), AuditLog(tmp_path / "a.jsonl", "scripted"))
    outcome, _ = _run(ctx)
    assert outcome.status == "failed"
    assert (tmp_path / "node2" / "webapps" / "app" / "a.jsp").read_text() == "new"
    assert "in step: node2" in outcome.state
    assert "node3 (not synced: node3: unreachable over SSH" in outcome.state
    assert "node4 (not synced: node4: rsync is not installed there)" in outcome.state


def test_the_lock_refuses_a_concurrent_wizard_run(three: tuple[Ctx, Path]) -> None:
    ctx, root = three
    node1 = ctx.inventory.node("node1")
    path = node1.catalina_base + "/.clusterconsole-deploy.lock"

    async def held_run() -> Any:
        lock = DeployLock("node1", Endpoint("node1"), path)
        await lock.acquire({**owner_record("erin"), "host": "other-console"})
        try:
            runner: Runner[Any] = Runner(
                deploy.build(ctx.nodes), ctx, node="all", on_progress=lambda e: None
            )
            return await runner.run()
        finally:
            await lock.release()

    outcome = asyncio.run(held_run())
    assert outcome.status == "refused"
    assert "erin@other-console" in outcome.text
    assert (root / "node2" / "webapps" / "app" / "index.jsp").read_text() == "v1"


# --- drift ------------------------------------------------------------------------------------


def test_drift_names_the_node_that_missed_a_sync_and_changes_nothing(
    three: tuple[Ctx, Path],
) -> None:
    from console.commands import deploy as deploy_command
    from console.deploy import drift

    ctx, root = three
    outcome, _ = _run(ctx)
    assert outcome.status == "done", outcome.text
    (root / "node3" / "webapps" / "app" / "index.jsp").write_text("v1 again, by hand")
    report = asyncio.run(drift.check(ctx.inventory))
    assert [(n.node, n.status) for n in report.nodes] == [
        ("node2", "in-step"),
        ("node3", "differs"),
    ]
    assert report.nodes[1].summary is not None
    assert report.nodes[1].summary.changed == ("app/index.jsp",)
    assert (root / "node3" / "webapps" / "app" / "index.jsp").read_text() == "v1 again, by hand"
    out = io.StringIO()
    assert deploy_command.run(ctx.inventory, as_json=False, out=out) == 1
    assert "node3: differs (1 file(s)" in out.getvalue()
    assert "node2: in step" in out.getvalue()


def test_deploy_check_on_the_command_line(fake_ssh: Path, tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, {"node1": "node1", "node2": "node2"})
    _write(tmp_path / "node1" / "webapps", {"app/a.jsp": "a"})
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "console", "deploy", "--check", "--config"]
    done = subprocess.run(
        [*command, str(inventory.path), "--json"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert document["nodes"][0]["status"] == "differs"
    assert document["nodes"][0]["differences"]["added"] == ["app/", "app/a.jsp"]
    unknown = subprocess.run(
        [*command, str(inventory.path), "--nodes", "node9"], capture_output=True, text=True, env=env
    )
    assert unknown.returncode == 2 and "no node node9" in unknown.stderr
    assert "Traceback" not in unknown.stderr + done.stderr


def test_the_rolling_deploy_syncs_each_node_between_its_stop_and_its_start() -> None:
    from console.operations import registry
    from console.operations.catalog import PLANNED
    from console.operations.wizards import deploy_rolling

    wizard = deploy_rolling.build(("node1", "node2"))
    names = [step.name for step in wizard.steps]
    assert names[:4] == ["check", "cluster", "lock", "preview"] and names[-1] == "verify"
    node2 = [name.partition("/")[2] for name in names if name.startswith("node2/")]
    assert node2.index("stop") < node2.index("sync") < node2.index("start")
    assert node2[-1] == "rebalance"
    assert registry.spec_named("deploy-rolling").scope == "cluster"
    assert "deploy" not in PLANNED


def test_the_rolling_deploy_leaves_a_node_in_step_alone(three: tuple[Ctx, Path]) -> None:
    from console.operations.engine import Skip, StepRun
    from console.operations.wizards import deploy_rolling

    ctx, _ = three
    ctx.facts["previews"] = {"node2": rsync.Summary(), "node3": rsync.Summary(added=("a",))}
    wizard = deploy_rolling.build(("node1", "node2", "node3"))
    runner: Runner[Any] = Runner(wizard, ctx, node="all", on_progress=lambda e: None)

    def skipped(name: str) -> bool:
        step = next(step for step in wizard.steps if step.name == name)
        check = step.check
        assert check is not None

        async def call() -> None:
            await check(StepRun(runner, step, 1))

        try:
            asyncio.run(call())
        except Skip:
            return True
        except Exception:
            return False
        return False

    assert skipped("node1/drain") and skipped("node2/drain") and skipped("node2/sync")
    assert not skipped("node3/sync")


def test_tomcats_redeploy_lines_and_errors_are_read_per_application() -> None:
    from console.deploy.redeploy import needs_redeploy, redeploy_errors, redeployed_apps

    log = textwrap.dedent(
        """\
        06-Dec-2026 10:00:01.000 INFO [Catalina-utility-1] org.apache.catalina.startup.HostConfig.deployDirectory Deployment of web application directory [/opt/t/webapps/shop] has finished in [120] ms
        06-Dec-2026 10:00:02.000 INFO [Catalina-utility-2] org.apache.catalina.core.StandardContext.reload Reloading Context with name [/app] is completed
        06-Dec-2026 10:00:03.000 SEVERE [Catalina-utility-1] org.apache.catalina.core.StandardContext.startInternal One or more listeners failed to start. Full details will be found in the appropriate container log file
        06-Dec-2026 10:00:03.100 SEVERE [Catalina-utility-1] org.apache.catalina.core.StandardContext.startInternal Context [/shop] startup failed due to previous errors
        """  # noqa: E501
    )
    assert redeployed_apps(log) == {"shop", "app"}
    assert redeploy_errors(log, "shop") == [log.splitlines()[3].strip()]
    assert redeploy_errors(log, "app") == []
    summary = rsync.Summary(
        added=("shop/", "shop/index.html", "app/new.jsp"),
        changed=("app/WEB-INF/web.xml", "static/logo.png"),
    )
    assert needs_redeploy(summary) == ["shop", "app"]  # a new application, a changed web.xml
