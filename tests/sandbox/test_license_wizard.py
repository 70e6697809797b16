"""The license wizard on the sandbox's three nodes and their stand-in license pages.

Three unlicensed nodes: the wizard lists three system keys in its request, takes three keys
(one wrong), activates two and reports the third failed with the page's reason; a second run
with the right key finishes it and leaves the two others alone. A node whose system key changes
(as a new MAC address would change it: the page folds ``license/machine-id`` into its key) shows
on the dashboard's problems and in the doctor within one poll. Bad input is refused with its
reason and activates nothing.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from console import exitcodes
from console.audit import AUDIT_ENV
from console.cluster.crosschecks import problems
from console.cluster.state import ClusterState
from console.config import load_inventory
from console.doctor.run import run_doctor
from console.license import memory as license_memory
from console.monitor.runner import Monitor, MonitorOptions
from console.sandbox.layout import NodeLayout, SandboxLayout
from probes.license.standin import StandinAdapter

from .helpers import HTTP_TIMEOUT

pytestmark = pytest.mark.sandbox
ROOT = Path(__file__).resolve().parents[2]
PAGE = StandinAdapter()
REASON = "Invalid license key for this system key."


def _license_dir(node: NodeLayout) -> Path:
    return node.base / "license"


def _reset(layout: SandboxLayout) -> None:
    for node in layout.nodes:
        (_license_dir(node) / "license.key").unlink(missing_ok=True)
        (_license_dir(node) / "machine-id").unlink(missing_ok=True)


@pytest.fixture
def clean(sandbox: SandboxLayout) -> Iterator[SandboxLayout]:
    """Every node starts and ends unlicensed, with its own system key."""
    _reset(sandbox)
    try:
        yield sandbox
    finally:
        _reset(sandbox)


def _page(node: NodeLayout) -> tuple[str, bool]:
    response = httpx.get(f"{node.http_url}/license/", timeout=HTTP_TIMEOUT)
    reading = PAGE.parse(response.text, response.status_code)
    assert reading.system_key is not None
    return reading.system_key, reading.activated


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        AUDIT_ENV: str(tmp_path / "audit.jsonl"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PYTHONPATH": str(ROOT),
    }


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=ROOT,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _vendor(tmp_path: Path, system_key: str) -> str:
    """The key, as a newcomer rehearsing gets it: `clusterconsole sandbox license-key`."""
    done = _cli(tmp_path, "sandbox", "license-key", system_key)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _answers(tmp_path: Path, keys: dict[str, str], name: str = "answers.toml") -> Path:
    path = tmp_path / name
    lines = [f"request_file = {json.dumps(str(tmp_path / 'request'))}", "[keys]"]
    lines += [f"{node} = {json.dumps(key)}" for node, key in keys.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _wizard(
    tmp_path: Path, inventory: Path, answers: Path, *extra: str
) -> tuple[int, list[dict[str, Any]], str, str]:
    done = _cli(
        tmp_path,
        "--config",
        str(inventory),
        "--wizard",
        "license",
        "--yes",
        "--json",
        "--answers",
        str(answers),
        *extra,
    )
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, events, done.stdout, done.stderr


def _texts(events: list[dict[str, Any]], kind: str) -> list[str]:
    return [str(event["text"]) for event in events if event["event"] == kind]


def test_three_keys_one_wrong_then_the_second_run_finishes(
    clean: SandboxLayout, tmp_path: Path
) -> None:
    nodes = clean.nodes
    system_keys = {node.name: _page(node)[0] for node in nodes}
    assert len(set(system_keys.values())) == 3
    right = {name: _vendor(tmp_path, key) for name, key in system_keys.items()}
    wrong = right["node1"]  # well formed, but issued for node1's system key
    answers = _answers(tmp_path, {"node1": right["node1"], "node2": right["node2"], "node3": wrong})

    code, events, stdout, stderr = _wizard(tmp_path, clean.inventory, answers)

    assert code == exitcodes.PROBLEMS, stdout + stderr
    observed = "\n".join(_texts(events, "observed"))
    for name, key in system_keys.items():
        assert f"{name}: system key {key}: to activate" in observed
    with (tmp_path / "request.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["node"], r["system_key"], r["status"]) for r in rows] == [
        (name, key, "to activate") for name, key in system_keys.items()
    ]
    document = json.loads((tmp_path / "request.json").read_text(encoding="utf-8"))
    assert [item["system_key"] for item in document] == list(system_keys.values())
    assert [_page(node)[1] for node in nodes] == [True, True, False]
    warnings = _texts(events, "warning")
    assert any(w.startswith("node3: not activated") and REASON in w for w in warnings), warnings
    finished = events[-1]
    assert "node1 activated" in finished["state"] and "node3 failed" in finished["state"]
    assert REASON in finished["state"]
    audit = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    for key in right.values():
        assert key not in stdout + stderr + audit, "a license key was shown in full"
    assert f"...{right['node1'][-5:]}" in audit
    memory = tmp_path / "state" / "clusterconsole" / license_memory.memory_file().name
    remembered = json.loads(memory.read_text(encoding="utf-8"))["sandbox"]
    assert remembered == {"node1": system_keys["node1"], "node2": system_keys["node2"]}

    again = _answers(tmp_path, {"node3": right["node3"]}, "again.toml")
    code, events, stdout, stderr = _wizard(tmp_path, clean.inventory, again)

    assert code == exitcodes.OK, stdout + stderr
    skipped = _texts(events, "skipped")
    assert any(s.startswith("node1: already activated") for s in skipped), skipped
    assert any(s.startswith("node2: already activated") for s in skipped), skipped
    assert [_page(node)[1] for node in nodes] == [True, True, True]
    assert "node3 activated" in events[-1]["state"]


def _read_since(state: ClusterState, node: str, moment: float) -> float:
    """When the node's license page was last read, if after `moment` (else 0)."""
    seen = state.node(node).license
    return seen.at if seen is not None and seen.at > moment else 0.0


def _run_monitor_until_changed(inventory_path: Path, node: NodeLayout) -> tuple[bool, bool]:
    """(no license problem before the change, the problem on the first read after it)."""

    async def main() -> tuple[bool, bool]:
        inventory = load_inventory(inventory_path)
        monitor = Monitor(inventory, MonitorOptions(read_only=True))
        await monitor.start()
        try:
            state = await monitor.wait_for(lambda s: s.node(node.name).license is not None, 60.0)
            before = not any(p.code == "license-changed" for p in problems(state))
            (_license_dir(node) / "machine-id").write_text("02:00:5e:10:00:99\n")
            written = os.stat(_license_dir(node) / "machine-id").st_mtime
            # The first read that began after the change: the one after the first to end
            # after it (a read under way while the file was written may show the old key).
            state = await monitor.wait_for(lambda s: _read_since(s, node.name, written) > 0, 60.0)
            ended = _read_since(state, node.name, written)
            state = await monitor.wait_for(lambda s: _read_since(s, node.name, ended) > 0, 60.0)
            found = [p for p in problems(state) if p.code == "license-changed"]
            return before, [p.node for p in found] == [node.name]
        finally:
            await monitor.stop()

    return asyncio.run(main())


def test_a_changed_system_key_shows_on_the_dashboard_and_in_the_doctor(
    clean: SandboxLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = clean.nodes[1]
    system_key, _ = _page(target)
    answers = _answers(tmp_path, {target.name: _vendor(tmp_path, system_key)})
    code, _, stdout, stderr = _wizard(tmp_path, clean.inventory, answers, "--nodes", target.name)
    assert code == exitcodes.OK, stdout + stderr
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    quiet_before, shown_after = _run_monitor_until_changed(clean.inventory, target)

    assert quiet_before, "an activated node with its key unchanged is no problem"
    assert shown_after, "the first read after the key changed did not show the problem"
    new_key, activated = _page(target)
    assert new_key != system_key and not activated
    status = _cli(tmp_path, "--config", str(clean.inventory), "status", "--json")
    found = json.loads(status.stdout)["problems"]
    assert [p["node"] for p in found if p["code"] == "license-changed"] == [target.name], found
    report = asyncio.run(
        run_doctor(load_inventory(clean.inventory), memory=license_memory.memory_file())
    )
    license = next(r for r in report.results if r.check.id == "license")
    changed = [f for f in license.findings if f.node == target.name]
    assert changed and changed[0].severity == "critical"
    assert f"was {system_key}, now {new_key}" in changed[0].text


def _variant(clean: SandboxLayout, tmp_path: Path, old: str, new: str) -> Path:
    text = clean.inventory.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "cluster.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    for relative in ("secrets", "ssh"):  # the inventory's relative paths
        link = tmp_path / relative
        if not link.exists():
            link.symlink_to(clean.inventory.parent / relative)
    return path


def _nothing_activated(layout: SandboxLayout) -> None:
    for node in layout.nodes:
        assert not (_license_dir(node) / "license.key").exists(), node.name
        assert _page(node)[1] is False


def test_bad_input_is_refused_with_its_reason_and_activates_nothing(
    clean: SandboxLayout, tmp_path: Path
) -> None:
    keys = {node.name: _vendor(tmp_path, _page(node)[0]) for node in clean.nodes}
    good = _answers(tmp_path, keys)

    not_a_page = _variant(clean, tmp_path, 'page = "/license/"', 'page = "/app/"')
    code, _, stdout, stderr = _wizard(tmp_path, not_a_page, good)
    assert code == exitcodes.REFUSED, stdout + stderr
    assert "is not a license page" in stderr and "Traceback" not in stderr
    _nothing_activated(clean)

    node1 = clean.nodes[0]
    front = urlsplit(clean.balancer_url).netloc
    through = _variant(
        clean, tmp_path, f'http = "{node1.http_url}/app/"', f'http = "http://{front}/app/"'
    )
    code, _, stdout, stderr = _wizard(tmp_path, through, good)
    assert code == exitcodes.REFUSED, stdout + stderr
    assert "never through the balancer" in stderr
    _nothing_activated(clean)

    for bad, reason in (("", "the key is empty"), ("ABCDE-12345", "five groups")):
        answers = _answers(tmp_path, {**keys, "node2": bad}, "bad.toml")
        code, _, stdout, stderr = _wizard(tmp_path, clean.inventory, answers)
        assert code == exitcodes.REFUSED, stdout + stderr
        assert "refused: node2: " in stderr and reason in stderr, stderr
        assert "no node was activated" in stderr
        _nothing_activated(clean)

    unknown = _answers(tmp_path, {**keys, "node9": keys["node1"]}, "unknown.toml")
    code, _, stdout, stderr = _wizard(tmp_path, clean.inventory, unknown)
    assert code == exitcodes.REFUSED, stdout + stderr
    assert "names node9, not in the inventory" in stderr
    _nothing_activated(clean)
