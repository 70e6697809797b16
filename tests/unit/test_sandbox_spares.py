"""Spare hosts of the sandbox (`sandbox up --spare N`, `sandbox spares`): where they live, that
they are in known_hosts but not in the inventory, and the command line around them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console import exitcodes
from console.config import load_inventory_text
from console.sandbox import sshd
from console.sandbox.inventory import inventory_text
from console.sandbox.layout import SSH_PORT, SandboxLayout, recorded_layout


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "XDG_CONFIG_HOME": str(cwd / "config"),
        "XDG_STATE_HOME": str(cwd / "state"),
        "CLUSTERCONSOLE_SANDBOX_DIR": str(cwd / "sandbox"),
    }
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_spares_take_the_addresses_after_the_nodes(tmp_path: Path) -> None:
    layout = SandboxLayout(tmp_path, 3, "127.0.5", spares=2)
    assert [(s.name, s.address) for s in layout.spare_hosts] == [
        ("spare1", "127.0.5.14"),
        ("spare2", "127.0.5.15"),
    ]
    assert [h.name for h in layout.ssh_hosts] == ["node1", "node2", "node3", "spare1", "spare2"]
    assert len({h.ssh_dir for h in layout.ssh_hosts}) == 5
    assert SandboxLayout(tmp_path, 3, "127.0.5").spare_hosts == ()


def test_spares_are_not_in_the_inventory(tmp_path: Path) -> None:
    layout = SandboxLayout(tmp_path, 3, "127.0.5", spares=1)
    layout.secrets.mkdir(parents=True)
    for secret in (layout.db_password_file, layout.manager_password_file):
        secret.write_text("pw\n")
        secret.chmod(0o600)
    inventory = load_inventory_text(inventory_text(layout), layout.inventory)
    assert [n.name for n in inventory.nodes] == ["node1", "node2", "node3"]
    assert "127.0.5.14" not in inventory_text(layout)


def test_recorded_layout_remembers_the_spares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTERCONSOLE_SANDBOX_DIR", str(tmp_path))
    state = {"nodes": 3, "net": "127.0.5", "variant": "joget", "spares": 2}
    (tmp_path / "sandbox.json").write_text(json.dumps(state))
    recorded = recorded_layout()
    assert recorded is not None and recorded.spares == 2
    (tmp_path / "sandbox.json").write_text(json.dumps({"nodes": 3, "net": "127.0.5"}))
    recorded = recorded_layout()
    assert recorded is not None and recorded.spares == 0  # a sandbox from before spares


@pytest.mark.skipif(not Path(sshd.SSH_KEYGEN).exists(), reason="needs ssh-keygen")
def test_a_spares_host_key_is_known_and_it_has_its_own_sshd_config(tmp_path: Path) -> None:
    layout = SandboxLayout(tmp_path, 2, "127.0.5", spares=1)
    sshd.prepare(layout)
    spare = layout.spare(1)
    known = layout.known_hosts.read_text().splitlines()
    key = spare.host_key.with_suffix(".pub").read_text().split()[1]
    assert f"[{spare.address}]:{SSH_PORT} ssh-ed25519 {key}" in known
    assert len(known) == 3
    config = spare.sshd_config.read_text()
    assert f"ListenAddress {spare.address}:{SSH_PORT}" in config
    assert "CLUSTERCONSOLE_HOSTNAME=spare1" in config
    assert sshd.hosts_file(spare).read_text() == f"127.0.0.1 localhost\n{spare.address} spare1\n"


def test_sandbox_spares_without_a_sandbox_lists_none(tmp_path: Path) -> None:
    result = run("sandbox", "spares", "--json", cwd=tmp_path)
    assert result.returncode == exitcodes.OK, result.stderr
    assert json.loads(result.stdout)["spares"] == []
    text = run("sandbox", "spares", cwd=tmp_path)
    assert text.returncode == exitcodes.OK
    assert "--spare N" in text.stdout


def test_sandbox_spares_lists_name_address_and_ssh_port(tmp_path: Path) -> None:
    root = tmp_path / "sandbox"
    root.mkdir()
    state = {"nodes": 3, "net": "127.0.5", "variant": "joget", "spares": 2}
    (root / "sandbox.json").write_text(json.dumps(state))
    result = run("sandbox", "spares", "--json", cwd=tmp_path)
    assert result.returncode == exitcodes.PROBLEMS  # recorded but not running
    rows = json.loads(result.stdout)["spares"]
    assert [(r["name"], r["address"], r["ssh_port"], r["running"]) for r in rows] == [
        ("spare1", "127.0.5.14", SSH_PORT, False),
        ("spare2", "127.0.5.15", SSH_PORT, False),
    ]
    text = run("sandbox", "spares", cwd=tmp_path)
    assert "spare2" in text.stdout and "127.0.5.15" in text.stdout and "stopped" in text.stdout
    status = json.loads(run("sandbox", "status", "--json", cwd=tmp_path).stdout)
    assert {"spare1-sshd", "spare2-sshd"} <= {c["name"] for c in status["components"]}


@pytest.mark.parametrize("count", ["6", "-1", "two"])
def test_sandbox_up_spare_out_of_range_is_a_usage_error(tmp_path: Path, count: str) -> None:
    result = run("sandbox", "up", "--spare", count, cwd=tmp_path)
    assert result.returncode == exitcodes.USAGE
    assert "--spare" in result.stderr
    assert "Traceback" not in result.stderr
