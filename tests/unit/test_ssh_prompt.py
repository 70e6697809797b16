"""The connect bound that stops while the operator is asked: asyncssh's connect_timeout counted
the time to type a one-time code against the login, so a code typed in more than the connect
timeout (10 s by default) always failed."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from probes.ssh import prompt as ssh_prompt
from probes.ssh.connection import Bastions, NodeSession, SshTarget
from probes.ssh.prompt import ask, asking, set_kbdint_prompt, within
from tests.app.waiting import wait_for
from tests.kbdint_server import CODE, isolate_client, otp_server

NET = os.environ.get("CLUSTERCONSOLE_TEST_NET", "127.0.0")


async def test_time_spent_asking_does_not_count_against_the_connect() -> None:
    answered = asyncio.Event()

    async def slow_operator(
        node: str, name: str, instructions: str, prompts: Sequence[tuple[str, bool]]
    ) -> list[str]:
        await answered.wait()  # typing, for longer than the whole connect may take
        return ["314159"]

    async def login() -> list[str] | None:
        return await ask("n1", "", "", [("code: ", False)])

    set_kbdint_prompt(slow_operator)
    try:
        attempt = asyncio.ensure_future(within(login(), 1.0))
        loop = asyncio.get_running_loop()
        loop.call_later(3.0, answered.set)  # the operator answers after 3 connect timeouts
        assert await attempt == ["314159"]
        assert not asking()
    finally:
        set_kbdint_prompt(None)


async def test_a_connect_that_hangs_without_asking_times_out() -> None:
    never = asyncio.Event()
    with pytest.raises(TimeoutError):
        await within(never.wait(), 0.2)
    assert ssh_prompt.kbdint_prompt() is None


async def test_without_a_prompt_nothing_is_asked_and_the_refusal_is_kept() -> None:
    set_kbdint_prompt(None, why="watch mode never prompts for")
    try:
        assert await ask("n1", "", "", [("code: ", False)]) is None
        assert ssh_prompt.refusal() == "watch mode never prompts for"
    finally:
        set_kbdint_prompt(None)
    assert ssh_prompt.refusal() == ssh_prompt.NO_PROMPT


async def test_a_jump_host_and_its_node_both_asking_for_a_code_are_both_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An MFA bastion (a real keyboard-interactive SSH server forwarding to the node, itself
    asking for a code): the operator is asked for the jump host's code, then the node's."""
    for name, value in isolate_client(tmp_path / "home").items():
        monkeypatch.setenv(name, value)
    asked: list[str] = []

    async def operator(
        node: str, name: str, instructions: str, prompts: Sequence[tuple[str, bool]]
    ) -> list[str]:
        asked.append(node)
        return [CODE]

    async with otp_server(NET, tmp_path, 78) as jump, otp_server(NET, tmp_path, 79) as node:
        known = tmp_path / "known_hosts-both"
        known.write_text(jump.known_hosts.read_text() + node.known_hosts.read_text())
        config = tmp_path / "ssh_config"
        config.write_text(
            f"Host bastion\n  HostName {jump.host}\n  Port {jump.port}\n  User ops\n"
            f"Host n1\n  HostName {node.host}\n  Port {node.port}\n  User ops\n"
            "  ProxyJump bastion\n"
            f"Host *\n  UserKnownHostsFile {known}\n  GlobalKnownHostsFile /dev/null\n"
        )
        target = SshTarget("n1", "n1", ssh_config=(str(config),), listener_interval=None)
        session = NodeSession(target, jump_hosts=Bastions())
        set_kbdint_prompt(operator)
        task = asyncio.create_task(session.run())
        try:
            await wait_for(lambda: session.status.state == "up", 60)
        finally:
            set_kbdint_prompt(None)
            await session.close()
            await asyncio.wait_for(task, 30)
    assert asked == ["jump host bastion", "n1"]
    assert (jump.seen.logins, node.seen.logins) == (1, 1)
