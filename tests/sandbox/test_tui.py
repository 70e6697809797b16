"""The console on the real sandbox: in a real terminal (tmux), and in watch mode under a storm of
keystrokes that must not change anything."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import string
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from console.config import load_inventory
from console.sandbox.layout import SandboxLayout
from probes.balancer.httpd_client import BalancerReader
from screens.app import ClusterConsoleApp
from screens.dashboard import DashboardScreen

pytestmark = pytest.mark.sandbox

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / ".venv" / "bin" / "clusterconsole"


def wait_until(
    condition: Callable[[], object], timeout: float, what: str, show: Callable[[], str] = str
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{show()}"
        time.sleep(0.1)


class Tmux:
    """One detached tmux session running one command."""

    def __init__(self, name: str, command: str, env: dict[str, str], status: Path) -> None:
        self.name = name
        self.status = status
        exports = " ".join(f"{key}={value}" for key, value in env.items())
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "160",
                "-y",
                "45",
                # The shell records the exit status itself: tmux sometimes leaves an exited
                # pane's process unreaped for a long while, and then never shows its status.
                f"env {exports} {command}; echo $? > {shlex.quote(str(status))}",
            ],
            check=True,
        )
        subprocess.run(["tmux", "set-option", "-t", name, "remain-on-exit", "on"], check=True)

    def screen(self) -> str:
        result = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return result.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def dead(self) -> bool:
        """The command has exited (its shell wrote the exit status)."""
        return self.exit_status() != ""

    def exit_status(self) -> str:
        try:
            return self.status.read_text().strip()
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def tmux_console(sandbox: SandboxLayout, tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is needed (make test installs it)", pytrace=False)
    env = {
        "CLUSTERCONSOLE_SANDBOX_DIR": os.environ["CLUSTERCONSOLE_SANDBOX_DIR"],
        "CLUSTERCONSOLE_SANDBOX_NET": os.environ["CLUSTERCONSOLE_SANDBOX_NET"],
        "CLUSTERCONSOLE_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
        "TERM": "xterm-256color",
    }
    session = Tmux(f"cc-tui-{os.getpid()}", f"{CONSOLE} --sandbox", env, tmp_path / "status")
    try:
        yield session
    finally:
        session.kill()


def test_real_terminal_nodes_log_help_quit(sandbox: SandboxLayout, tmux_console: Tmux) -> None:
    names = [node.name for node in sandbox.nodes]
    wait_until(
        lambda: (
            all(name in tmux_console.screen() for name in names)
            and tmux_console.screen().count("running") >= len(names)
        ),
        60,
        "every node running on the dashboard",
    )
    tmux_console.keys("Enter")  # the cursor is on the first node
    wait_until(
        lambda: "peers" in tmux_console.screen() and "problems:" not in tmux_console.screen(),
        20,
        "the node view",
    )
    tmux_console.keys("Escape")
    wait_until(lambda: "problems:" in tmux_console.screen(), 20, "the dashboard again")
    tmux_console.keys("?")
    wait_until(lambda: "app.quit" in tmux_console.screen(), 20, "the help", tmux_console.screen)
    tmux_console.keys("Escape")
    wait_until(lambda: "app.quit" not in tmux_console.screen(), 20, "the help to close")
    tmux_console.keys("q")
    wait_until(tmux_console.dead, 20, "the console to quit")
    assert tmux_console.exit_status() == "0"
    assert "Traceback" not in tmux_console.screen()


def _access_posts(sandbox: SandboxLayout) -> int:
    logs = list(sandbox.root.rglob("access.log"))
    assert logs, "httpd's access log not found"
    return sum(text.count('"POST ') for text in (log.read_text(errors="replace") for log in logs))


async def _workers(url: str) -> list[tuple[str, str | None, str | None]]:
    reader = BalancerReader(url)
    try:
        page = await reader.read()
    finally:
        await reader.aclose()
    return [
        (worker.url, worker.status, worker.route)
        for balancer in page.balancers
        for worker in balancer.workers
    ]


STORM = [
    *(c for c in string.ascii_lowercase if c != "q"),  # q quits (tested in tmux)
    *string.digits,
    "question_mark",
    "escape",
    "slash",
    "escape",
    "enter",
    "escape",
    "colon",
    "escape",
    "ctrl+p",
    *"drain",
    "enter",
    "escape",
    "escape",
    "ctrl+p",
    *"rejoin",
    "enter",
    "escape",
    "escape",
    "space",
    "delete",
    "backspace",
    "tab",
    "shift+tab",
    "up",
    "down",
    "enter",
    "escape",
    "d",
    "j",
    "D",
    "J",
    "ctrl+d",
    "ctrl+s",
    "ctrl+r",
    "f1",
    "f5",
    "plus",
    "minus",
]


async def test_keystroke_storm_in_watch_mode_changes_nothing(
    sandbox: SandboxLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit = tmp_path / "audit.jsonl"
    monkeypatch.setenv("CLUSTERCONSOLE_AUDIT_LOG", str(audit))
    inventory = load_inventory(sandbox.inventory)
    before_workers = await _workers(sandbox.balancer_url)
    before_posts = _access_posts(sandbox)
    app = ClusterConsoleApp(inventory, read_only=True, theme=None)
    async with app.run_test(size=(160, 45)) as pilot:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while not all(view.tomcat == "running" for view in app.state.nodes) or not all(
            view.page is not None for view in app.state.balancers
        ):
            assert loop.time() < deadline, "the monitor never saw the sandbox"
            await asyncio.sleep(0.1)
        assert app.audit is None and app.worker_actions is None
        for _ in range(3):
            for key in STORM:
                await pilot.press(key)
        # back to a known place, still alive, still read-only
        while len(app.screen_stack) > 1:
            app.pop_screen()
            await asyncio.sleep(0)
        await app.action_view("dashboard")
        assert isinstance(app.screen, DashboardScreen)
        assert app.monitor is not None and app.monitor.options.read_only
        stormed = time.time()
        deadline = loop.time() + 30
        while not all(view.at > stormed for view in app.state.balancers):
            assert loop.time() < deadline, "no balancer poll after the storm"
            await asyncio.sleep(0.1)  # a balancer read after the storm, so any change shows
    assert await _workers(sandbox.balancer_url) == before_workers
    assert _access_posts(sandbox) == before_posts
    assert not audit.exists()
