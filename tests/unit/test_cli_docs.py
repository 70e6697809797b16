"""Shell completion scripts that load in bash and complete commands, options and the names in
cluster.toml; a man page generated from the parser that names every option."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from console.commands.cli import build_parser
from console.commands.docs import _commands

from .test_cli import GOOD, run

TWO_NODES = GOOD + '\n[[nodes]]\nname = "node_b"\nhost = "127.0.9.2"\ncatalina_base = "/t"\n'


def complete(script: Path, cwd: Path, *words: str) -> list[str]:
    """What bash's completion gives for the command line ``words`` (the last being typed)."""
    line = " ".join(f"'{word}'" for word in words)
    program = (
        f"source {script}\n"
        f"COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}\n"
        "_clusterconsole_complete\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    bin_dir = str(Path(sys.executable).parent)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(cwd),
        "XDG_CONFIG_HOME": str(cwd / "config"),
    }
    result = subprocess.run(
        ["bash", "--norc", "-c", program],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()


def test_bash_completion_loads_and_completes_from_the_parser_and_cluster_toml(
    tmp_path: Path,
) -> None:
    (tmp_path / "cluster.toml").write_text(TWO_NODES)
    made = run("completion", "bash", cwd=tmp_path)
    assert made.returncode == 0 and made.stderr == ""
    script = tmp_path / "clusterconsole.bash"
    script.write_text(made.stdout)
    assert complete(script, tmp_path, "clusterconsole", "st") == ["status"]
    assert "--nagios" in complete(script, tmp_path, "clusterconsole", "status", "--")
    assert complete(script, tmp_path, "clusterconsole", "sandbox", "") == [
        "-h",
        "--help",
        "up",
        "down",
        "status",
        "spares",
        "inventory",
        "license-key",
    ]
    assert complete(script, tmp_path, "clusterconsole", "--node", "") == ["node1", "node_b"]
    wizards = complete(script, tmp_path, "clusterconsole", "--wizard", "")
    assert "drain" in wizards and "rejoin" in wizards and "license" in wizards


def test_zsh_and_fish_scripts_name_every_command(tmp_path: Path) -> None:
    zsh = run("completion", "zsh", cwd=tmp_path).stdout
    assert zsh.startswith("#compdef clusterconsole") and "bashcompinit" in zsh
    fish = run("completion", "fish", cwd=tmp_path).stdout
    for command in ("status", "doctor", "events", "balancer", "sandbox", "config"):
        assert f"-a {command} " in fish
    assert "(clusterconsole completion --names nodes)" in fish
    if shutil.which("fish"):
        subprocess.run(["fish", "--no-execute", "-c", fish], check=True, timeout=30)
    if shutil.which("zsh"):
        subprocess.run(["zsh", "-n", "-c", zsh], check=True, timeout=30)


def test_names_print_nothing_without_a_config(tmp_path: Path) -> None:
    result = run("completion", "--names", "nodes", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_man_page_documents_every_option_of_every_command(tmp_path: Path) -> None:
    page = run("man", cwd=tmp_path).stdout
    assert page.startswith(".TH CLUSTERCONSOLE 1 ")
    parser = build_parser()
    options = {o for action in parser._actions for o in action.option_strings}
    for option in options:
        assert f"\\fB{option.replace('-', chr(92) + '-')}\\fR" in page
    for section in (".SS clusterconsole status", ".SS clusterconsole config check"):
        assert section in page
    if shutil.which("groff"):
        text = subprocess.run(
            ["groff", "-man", "-Tutf8"], input=page, capture_output=True, text=True, check=True
        ).stdout
        plain = re.sub(".\x08", "", text).replace("\u2010", "-")  # no overstrike, ASCII dashes
        assert "--accept-new-host-keys" in plain


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_shell_is_generated(tmp_path: Path, shell: str) -> None:
    assert run("completion", shell, cwd=tmp_path).returncode == 0


def test_every_option_and_argument_has_help() -> None:
    """`--help` of every command explains each of its options and arguments."""
    missing = []
    for path, parser in _commands(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{path} {c.dest}" for c in action._choices_actions if not c.help]
            elif not action.help:
                missing.append(f"{path} {action.option_strings or action.dest}")
    assert missing == []
