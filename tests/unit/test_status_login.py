"""`clusterconsole status` and a node that asks for a one-time code (a real asyncssh server
asking keyboard-interactive): on a terminal the code is asked on stderr with the echo off and the
node logs in; without a terminal nothing is asked and the node's reason says why."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import subprocess
import sys
import termios
from pathlib import Path

from tests.kbdint_server import CODE, QUESTION, OtpHost, isolate_client, otp_server

NET = os.environ.get("CLUSTERCONSOLE_TEST_NET", "127.0.0")
ROOT = Path(__file__).resolve().parents[2]


def _command(tmp_path: Path, otp: OtpHost) -> tuple[list[str], dict[str, str]]:
    config = tmp_path / "cluster.toml"
    config.write_text(otp.inventory_text())
    env = {**os.environ, **isolate_client(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    env["PYTHONWARNINGS"] = "ignore"
    return [sys.executable, "-m", "console", "--config", str(config), "status", "--json"], env


def _otp1(stdout: bytes) -> dict[str, object]:
    document = json.loads(stdout)
    (node,) = [node for node in document["nodes"] if node["name"] == "otp1"]
    assert isinstance(node, dict)
    return node


async def test_status_on_a_terminal_asks_for_the_code_without_echo(tmp_path: Path) -> None:
    async with otp_server(NET, tmp_path) as otp:
        command, env = _command(tmp_path, otp)
        master, slave = pty.openpty()
        try:
            process = await asyncio.create_subprocess_exec(
                *command, stdin=slave, stdout=subprocess.PIPE, stderr=slave, env=env, cwd=tmp_path
            )
            seen = b""
            while QUESTION.encode() not in seen:  # the question, on the terminal (stderr)
                chunk = await asyncio.wait_for(asyncio.to_thread(os.read, master, 4096), 60)
                assert chunk, seen
                seen += chunk
            assert b"otp1: keyboard-interactive login" in seen
            assert b"\\x1b[31m" in seen and b"\x1b[31m" not in seen  # the server's escape, inert
            assert not termios.tcgetattr(slave)[3] & termios.ECHO  # the code will not be echoed
            os.write(master, f"{CODE}\n".encode())
            stdout, _ = await asyncio.wait_for(process.communicate(), 90)
            os.set_blocking(master, False)
            rest = b""
            with contextlib.suppress(BlockingIOError, OSError):  # what the terminal showed since
                while chunk := os.read(master, 4096):
                    rest += chunk
            assert CODE.encode() not in seen + rest
            assert termios.tcgetattr(slave)[3] & termios.ECHO  # the echo is back
        finally:
            os.close(master)
            os.close(slave)
    assert otp.seen.answers == [[CODE]] and otp.seen.logins == 1
    assert _otp1(stdout)["ssh"] == "up"


async def test_status_without_a_terminal_asks_nothing_and_says_why(tmp_path: Path) -> None:
    async with otp_server(NET, tmp_path) as otp:
        command, env = _command(tmp_path, otp)
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp_path,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode == 1  # a problem found, not a crash
    node = _otp1(stdout)
    assert node["ssh"] == "auth-failed"
    reason = str(node["ssh_reason"])
    assert "keyboard-interactive" in reason and "needs a terminal to prompt on" in reason
    assert otp.seen.answers == [] and b"Traceback" not in stderr
