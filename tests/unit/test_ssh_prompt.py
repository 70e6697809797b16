"""The connect bound that stops while the operator is asked: asyncssh's connect_timeout counted
the time to type a one-time code against the login, so a code typed in more than the connect
timeout (10 s by default) always failed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from probes import ssh_prompt
from probes.ssh_prompt import ask, asking, set_kbdint_prompt, within


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
        attempt = asyncio.ensure_future(within(login(), 0.2))
        loop = asyncio.get_running_loop()
        loop.call_later(0.6, answered.set)  # the operator answers after 3 connect timeouts
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
