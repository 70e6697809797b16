"""The command line as a user meets it: help, exit codes, and clear errors without tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console import exitcodes
from console.commands import cli
from console.config.model import Inventory
from tests.inventories import three_nodes_text

GOOD = """\
[cluster]
name = "test"

[[nodes]]
name = "node1"
host = "127.0.9.1"
catalina_base = "/opt/tomcat"
"""


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m console ARGS` in a clean environment rooted at `cwd`."""
    base = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "XDG_CONFIG_HOME": str(cwd / "config"),
        "XDG_STATE_HOME": str(cwd / "state"),
        "CLUSTERCONSOLE_SANDBOX_DIR": str(cwd / "sandbox"),
    }
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_documents_every_mode_and_exit_code(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    for text in (
        "--watch",
        "--wizard",
        "--node",
        "--answers",
        "--yes",
        "--dry-run",
        "--json",
        "status",
        "events",
        "balancer",
        "sandbox",
        "exit codes",
        "refused by a safety check",
        "CLUSTERCONSOLE_CONFIG",
    ):
        assert text in result.stdout, text


def test_sandbox_help_lists_its_actions(tmp_path: Path) -> None:
    result = run("sandbox", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for action in ("up", "down", "status", "inventory"):
        assert action in result.stdout


def test_broken_config_names_file_line_and_field_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "cluster.toml"
    config.write_text('[cluster]\nname = "x"\n\n[[nodes]]\nname = "node1"\ncatalina_base = "/t"\n')
    result = run("--config", str(config), cwd=tmp_path)
    assert result.returncode == exitcodes.USAGE
    assert f"{config}:4: nodes[0].host: missing" in result.stderr
    assert "nothing was done" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_no_config_found_says_how_to_write_one_and_start_the_sandbox(tmp_path: Path) -> None:
    result = run(cwd=tmp_path)
    assert result.returncode == exitcodes.USAGE
    assert "[[nodes]]" in result.stderr
    assert "clusterconsole sandbox up" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_explicit_config_is_named(tmp_path: Path) -> None:
    result = run("--config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert result.returncode == exitcodes.USAGE
    assert "nope.toml" in result.stderr


def test_sandbox_flag_without_a_sandbox_explains(tmp_path: Path) -> None:
    result = run("--sandbox", cwd=tmp_path)
    assert result.returncode == exitcodes.USAGE
    assert "sandbox up" in result.stderr


def test_watch_with_wizard_is_refused_with_exit_3(tmp_path: Path) -> None:
    (tmp_path / "cluster.toml").write_text(GOOD)
    result = run("--watch", "--wizard", "drain", "--node", "node1", cwd=tmp_path)
    assert result.returncode == exitcodes.REFUSED
    assert "read-only" in result.stderr


def test_the_license_wizard_acts_on_nodes_not_one_node(tmp_path: Path) -> None:
    (tmp_path / "cluster.toml").write_text(GOOD)
    result = run("--wizard", "license", "--node", "node1", cwd=tmp_path)
    assert result.returncode == exitcodes.USAGE
    assert "--nodes" in result.stderr and "Traceback" not in result.stderr


def test_add_node_without_a_host_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "cluster.toml").write_text(GOOD)
    result = run("--wizard", "add-node", "--node", "node9", "--dry-run", cwd=tmp_path)
    assert result.returncode == exitcodes.USAGE
    assert "needs the new node's host" in result.stderr
    assert "Traceback" not in result.stderr


def test_sandbox_nodes_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    result = run("sandbox", "up", "--nodes", "0", cwd=tmp_path)
    assert result.returncode == exitcodes.USAGE
    assert "between 1 and" in result.stderr


def test_sandbox_inventory_and_status_without_a_sandbox(tmp_path: Path) -> None:
    inventory = run("sandbox", "inventory", cwd=tmp_path)
    assert inventory.returncode == exitcodes.PROBLEMS
    assert "sandbox up" in inventory.stderr
    status = run("sandbox", "status", cwd=tmp_path)
    assert status.returncode == exitcodes.PROBLEMS
    assert "stopped" in status.stdout


def test_internal_error_is_one_line_and_a_crash_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))

    def explode(_args: object, _screen: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_dispatch", explode)
    assert cli.main([]) == exitcodes.PROBLEMS
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err
    assert "Traceback" not in err
    crash_files = list((tmp_path / "clusterconsole").glob("crash-*.txt"))
    assert len(crash_files) == 1
    assert "Traceback" in crash_files[0].read_text()


def test_the_screen_comes_from_the_entry_point_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`console.commands.cli` never starts Textual itself: without the entry point's screen runner
    the
    interactive modes are refused with a sentence; with it, the runner gets the mode asked for."""
    config = tmp_path / "cluster.toml"
    config.write_text(three_nodes_text(), encoding="utf-8")
    assert cli.main(["--config", str(config)]) == exitcodes.USAGE
    assert "draws no screen" in capsys.readouterr().err
    seen: list[tuple[bool, float | None]] = []

    def screen(
        inventory: Inventory, *, theme: str | None, read_only: bool, cycle: float | None
    ) -> int:
        seen.append((read_only, cycle))
        return exitcodes.OK

    assert cli.main(["--config", str(config)], screen=screen) == exitcodes.OK
    assert cli.main(["--watch", "--cycle", "7", "--config", str(config)], screen=screen) == 0
    assert seen == [(False, None), (True, 7.0)]
