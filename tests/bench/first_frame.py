"""First frame: from starting `clusterconsole --sandbox` to its first dashboard frame.

The console runs in a pseudo-terminal of 160x45 (what a terminal emulator gives it); the clock
stops when the bytes it has written hold every node's name and the problems panel, i.e. when the
first dashboard frame has been written to the terminal. Whole process: interpreter start, imports,
inventory, Textual start-up, compose, layout and render.

References measured in the same run, through the same harness:
- the smallest Textual app (one `Static` showing the same words): Textual's own floor;
- `python -c "import textual.app"` (import alone).

Our sources are byte-compiled first, as an installed copy would be: this workplace sets
PYTHONDONTWRITEBYTECODE=1, which would otherwise make every start compile them again.

An earlier version of this benchmark ran the console in tmux and polled `capture-pane` every
10 ms; that harness added 0.2-0.4 s of its own (tmux server start, polling) and is kept as a
second figure for comparison.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUNS = 11
COLUMNS, LINES = 160, 45
_SMALLEST_APP = """\
from textual.app import App
from textual.widgets import Static
class Smallest(App):
    def compose(self):
        yield Static({words!r})
Smallest().run()
"""


def pty_first_frame(argv: list[str], words: list[str], env: dict[str, str]) -> float:
    """Seconds from fork to the moment the program's output holds every one of `words`."""
    began = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: size the terminal, become the program
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    seen = b""
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 30)
            if not ready:
                raise RuntimeError(f"no frame within 30 s: {argv}")
            try:
                seen += os.read(fd, 1 << 20)
            except OSError as error:  # EIO: the program ended
                raise RuntimeError(f"{argv} ended before its frame: {seen[-300:]!r}") from error
            text = seen.decode("utf-8", "replace")
            if all(word in text for word in words):
                return time.perf_counter() - began
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)


def _tmux_first_frame(env: dict[str, str], words: list[str]) -> float:
    """The older harness: tmux, polling capture-pane every 10 ms."""
    session = f"cc-bench-ff-{os.getpid()}"
    exports = " ".join(f"{key}={value}" for key, value in env.items() if key.startswith("CLUSTER"))
    console = ROOT / ".venv" / "bin" / "clusterconsole"
    began = time.perf_counter()
    command = f"env {exports} {console} --sandbox"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", str(COLUMNS), "-y", str(LINES), command],
        check=True,
    )
    try:
        while time.perf_counter() < began + 30:
            shown = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout
            if all(word in shown for word in words):
                return time.perf_counter() - began
            time.sleep(0.01)
        raise RuntimeError("no dashboard frame within 30 s")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def _compile_sources() -> None:
    packages = [str(ROOT / name) for name in ("console", "screens", "probes", "themes")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True)


def run(net: str = "127.0.4") -> dict[str, Any]:
    from console.sandbox import manager

    _compile_sources()
    python = str(ROOT / ".venv" / "bin" / "python")
    console = str(ROOT / ".venv" / "bin" / "clusterconsole")
    with tempfile.TemporaryDirectory(prefix="cc-bench-ff-") as root:
        os.environ["CLUSTERCONSOLE_SANDBOX_DIR"] = root
        os.environ["CLUSTERCONSOLE_SANDBOX_NET"] = net
        env = dict(
            os.environ,
            CLUSTERCONSOLE_SANDBOX_DIR=root,
            CLUSTERCONSOLE_SANDBOX_NET=net,
            CLUSTERCONSOLE_AUDIT_LOG=os.devnull,
            TERM="xterm-256color",
        )
        smallest = Path(root) / "smallest.py"
        try:
            layout = manager.up(3, report=lambda line: None)
            words = [node.name for node in layout.nodes] + ["problems"]
            smallest.write_text(_SMALLEST_APP.format(words=" ".join(words)))
            console_s: list[float] = []
            smallest_s: list[float] = []
            for _ in range(RUNS):  # interleaved, so both see the same machine
                console_s.append(pty_first_frame([console, "--sandbox"], words, env))
                smallest_s.append(pty_first_frame([python, str(smallest)], words, env))
            tmux_s = [_tmux_first_frame(env, words) for _ in range(3)]
        finally:
            manager.down(report=lambda line: None)
    imports: list[float] = []
    for _ in range(5):
        began = time.perf_counter()
        subprocess.run([python, "-c", "import textual.app"], check=True)
        imports.append(time.perf_counter() - began)
    first = statistics.median(console_s)
    return {
        "name": "first_frame",
        "harness": f"pty {COLUMNS}x{LINES}, {RUNS} runs interleaved with the reference",
        "runs_s": [round(t, 3) for t in console_s],
        "median_s": round(first, 3),
        "min_s": round(min(console_s), 3),
        "reference_smallest_textual_app_median_s": round(statistics.median(smallest_s), 3),
        "reference_python_import_textual_median_s": round(statistics.median(imports), 3),
        "tmux_harness_runs_s": [round(t, 3) for t in tmux_s],
        "target": "<= 0.6 s from start to the first dashboard frame",
        "met": first <= 0.6,
    }
