"""The dependency rules of docs/design.md, checked on the source: the import contracts, and what
they cannot see (a module named in a string, what the first frame loads)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_the_import_contracts_hold() -> None:
    """The layers (probes and themes import nothing of ours, probes never Textual, console never
    screens but for the app shell) are import-linter contracts in pyproject.toml; `make lint`
    runs them, and so does this test for whoever runs pytest alone."""
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_screens_do_not_reach_into_the_sandbox_or_cli() -> None:
    for path in sources("screens"):
        text = path.read_text(encoding="utf-8")
        assert "console.commands.cli" not in text and "console.sandbox" not in text, path


def test_the_first_frame_does_not_wait_for_the_network_libraries() -> None:
    """asyncssh, httpx and pymysql load after the dashboard's first frame, not before it.

    What is loaded is read at the first frame itself: the app's first after-refresh callback
    (`deliver_now`, scheduled by its mount). Read at the end of the run instead, the answer
    depended on how fast the machine was: the worker actions, built after the first frame on
    purpose, load asyncssh and httpx when the run lasts long enough."""
    code = (
        "import asyncio, sys, tempfile\n"
        "from pathlib import Path\n"
        "from screens.app import ClusterConsoleApp\n"
        "from tests.app import recorded\n"
        "NETWORK = ('asyncssh', 'httpx', 'pymysql')\n"
        "seen = []\n"
        "class App(ClusterConsoleApp):\n"
        "    def deliver_now(self):\n"
        "        if not seen:\n"
        "            seen.append(sorted(m for m in NETWORK if m in sys.modules))\n"
        "        super().deliver_now()\n"
        "async def first_frame():\n"
        "    app = App(recorded.inventory(Path(tempfile.mkdtemp())), monitor=False)\n"
        "    async with app.run_test(size=(120, 40)) as pilot:\n"
        "        while not seen:\n"
        "            await pilot.pause()\n"
        "asyncio.run(first_frame())\n"
        "print(seen[0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
