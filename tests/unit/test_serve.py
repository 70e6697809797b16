"""`--watch --serve ADDR:PORT`: the read-only wall in a browser through textual-serve, on
loopback unless --serve-public; refused and usage errors at the command line."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from console import exitcodes
from console.commands import serve
from console.config import load_inventory
from tests.app import recorded
from tests.nets import worker_net

ROOT = Path(__file__).resolve().parents[2]
NET = worker_net("127.0.9")
WALL = re.compile(rb"C R I T I C A L|R U N N I N G")
"""The wall's own spaced-out state words (the terminal's interactive session has none)."""
ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def cluster_toml(tmp_path: Path) -> Path:
    path = tmp_path / "cluster.toml"
    path.write_text(recorded.inventory_text().replace("127.0.9.", f"{NET}."))
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_addresses_and_loopback() -> None:
    assert serve.parse_address("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert serve.parse_address(":9000") == ("127.0.0.1", 9000)
    assert serve.parse_address("[::1]:8080") == ("::1", 8080)
    for bad in ("8080", "host:", "host:http", "127.0.0.1:70000"):
        with pytest.raises(ValueError):
            serve.parse_address(bad)
    assert serve.is_loopback("127.0.6.1") and serve.is_loopback("::1")
    assert serve.is_loopback("localhost")
    assert not serve.is_loopback("0.0.0.0") and not serve.is_loopback("10.1.2.3")
    assert not serve.is_loopback("wall.example.com")


def test_the_served_command_is_always_the_read_only_wall(tmp_path: Path) -> None:
    inventory = load_inventory(cluster_toml(tmp_path))
    command = serve.wall_command(inventory, theme="wall", cycle=5.0)
    assert command[1:] == [
        "-m",
        "console",
        "--config",
        str(inventory.path),
        "--watch",
        "--theme",
        "wall",
        "--cycle",
        "5",
    ]


def test_command_line_refusals(tmp_path: Path) -> None:
    config = str(cluster_toml(tmp_path))
    public = cli("--config", config, "--watch", "--serve", "0.0.0.0:8080")
    assert public.returncode == exitcodes.REFUSED
    assert "refused" in public.stderr and "--serve-public" in public.stderr
    assert "Traceback" not in public.stderr
    no_watch = cli("--config", config, "--serve", "127.0.0.1:8080")
    assert no_watch.returncode == exitcodes.USAGE and "--watch" in no_watch.stderr
    alone = cli("--config", config, "--watch", "--serve-public")
    assert alone.returncode == exitcodes.USAGE
    bad = cli("--config", config, "--watch", "--serve", "nowhere")
    assert bad.returncode == exitcodes.USAGE and "ADDR:PORT" in bad.stderr


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def test_the_wall_is_served_to_a_browser_read_only(tmp_path: Path) -> None:
    host = f"{NET}.1"
    port = free_port(host)
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    config = str(cluster_toml(tmp_path))
    command = [sys.executable, "-m", "console", "--config", config, "--watch", "--serve"]
    command.append(f"{host}:{port}")
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        async with aiohttp.ClientSession() as session:
            page = ""
            for _ in range(300):  # the server starts (wait on it answering, 30 s at most)
                try:
                    async with session.get(f"http://{host}:{port}/") as response:
                        page = await response.text()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            assert "clusterconsole --watch" in page and "/ws" in page
            url = f"ws://{host}:{port}/ws?width=120&height=30"
            screen = b""
            async with session.ws_connect(url) as ws:
                await ws.send_json(["resize", {"width": 120, "height": 30}])
                async with asyncio.timeout(60):
                    while not WALL.search(ESCAPES.sub(b"", screen)):
                        message = await ws.receive()
                        if message.type == aiohttp.WSMsgType.BINARY:
                            screen += message.data
                        elif message.type != aiohttp.WSMsgType.TEXT:
                            raise AssertionError(f"the session ended: {message.type}")
                # A viewer's keys reach only the wall: d (drain on the terminal's operator
                # dashboard) does nothing there, and no audit log is ever written.
                await ws.send_json(["stdin", "d"])
                await ws.send_json(["ping", "after-d"])
                async with asyncio.timeout(30):
                    while True:
                        message = await ws.receive()
                        if message.type == aiohttp.WSMsgType.TEXT and "after-d" in message.data:
                            break
        assert not list((tmp_path / "state").rglob("audit*"))
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        output = server.stdout.read().decode() if server.stdout else ""
        assert "Traceback" not in output
