"""The console alone installs where operators run it: a fresh venv, `pip install REPO` (what
`pipx install .` does), no server package and no dev dependency, then `clusterconsole status` on
the running sandbox from that venv.

Slow (~40 s: pip fetches the dependencies from the package index and builds the optional C
helper); it runs with the sandbox tests because it needs a cluster to look at.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console import exitcodes
from console.sandbox.layout import SandboxLayout

pytestmark = [pytest.mark.sandbox]

ROOT = Path(__file__).resolve().parents[2]


def test_a_fresh_pip_install_runs_status_on_the_sandbox(
    sandbox: SandboxLayout, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    names = {row["name"].lower() for row in json.loads(installed.stdout)}
    assert {"clusterconsole", "textual", "asyncssh", "httpx", "pymysql"} <= names
    assert not names & {"pytest", "mypy", "ruff", "tomli"}  # dev tools and tomli stay out

    env = {**os.environ, "PYTHONPATH": ""}
    result = subprocess.run(
        [str(venv / "bin" / "clusterconsole"), "status", "--sandbox", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,  # not the repository: the installed package, not the source tree
        env=env,
    )
    # The installed console reads the whole cluster. Whether the cluster is healthy right now is
    # not this test's business (a Tomcat's first request may still be compiling a JSP under load):
    # 0 or 1, never a usage error or a crash.
    assert result.returncode in (exitcodes.OK, exitcodes.PROBLEMS), result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert [node["ssh"] for node in report["nodes"]] == ["up"] * len(sandbox.nodes)
    assert [node["tomcat"] for node in report["nodes"]] == ["running"] * len(sandbox.nodes)
    assert [b["reachable"] for b in report["balancers"]] == [True]
    assert report["database"]["reachable"] is True
    assert result.stderr == ""  # no dependency warning reaches the operator
