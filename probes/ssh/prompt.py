"""Keyboard-interactive logins (one-time codes): who answers them, and time spent asking.

A node (or a jump host) may ask for a keyboard-interactive login: a one-time code, a PAM
challenge. Only someone at the console can answer: the interactive session pushes a masked
prompt, a command run on a terminal asks on it; watch mode and scripts have no one to ask and
refuse with a reason saying so (`set_kbdint_prompt(None, why=...)`).

While the operator is being asked, no connect times out: asyncssh's ``connect_timeout`` covers
the whole login (the code typed included), so connects are bounded here instead, by `within`,
on a clock that stops while a question is open (`operator_seconds`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

KbdintPrompt = Callable[
    [str, str, str, Sequence[tuple[str, bool]]], Awaitable[Sequence[str] | None]
]
"""Asks the operator a keyboard-interactive challenge: (node, name, instructions, [(prompt, echo)])
-> the answers, or None to give up. The texts come from the node: show them as text only."""

NO_PROMPT = "only the interactive console or a command run on a terminal can prompt for"
"""Why a keyboard-interactive login is refused when no one was set to answer it."""

_prompt: KbdintPrompt | None = None
_why = NO_PROMPT
_asking = 0
_asked = 0.0
_since = 0.0

T = TypeVar("T")


def set_kbdint_prompt(prompt: KbdintPrompt | None, *, why: str = NO_PROMPT) -> None:
    """Let ``prompt`` answer keyboard-interactive logins; None refuses them, ``why`` ending the
    sentence "the node asks for a keyboard-interactive login (a one-time code?), which ..."."""
    global _prompt, _why
    _prompt = prompt
    _why = why


def kbdint_prompt() -> KbdintPrompt | None:
    return _prompt


def refusal() -> str:
    return _why


async def ask(
    node: str, name: str, instructions: str, prompts: Sequence[tuple[str, bool]]
) -> list[str] | None:
    """The operator's answers (None: no one to ask, or they declined), the clock stopped."""
    global _asking, _asked, _since
    prompt = _prompt
    if prompt is None:
        return None
    if _asking == 0:
        _since = time.monotonic()
    _asking += 1
    try:
        answers = await prompt(node, name, instructions, prompts)
    finally:
        _asking -= 1
        if _asking == 0:
            _asked += time.monotonic() - _since
    return None if answers is None else list(answers)


def asking() -> bool:
    """Whether a keyboard-interactive question is open (or waiting its turn)."""
    return _asking > 0


def operator_seconds() -> float:
    """Seconds spent so far with a question open to the operator (a monotonic total)."""
    return _asked + (time.monotonic() - _since if _asking else 0.0)


def working_seconds(since: float) -> float:
    """Seconds since ``since`` (a value of `working_clock`), not counting time spent asking."""
    return working_clock() - since


def working_clock() -> float:
    return time.monotonic() - operator_seconds()


async def within(attempt: Awaitable[T], timeout: float | None) -> T:
    """``attempt`` bounded by ``timeout`` seconds of its own time: time spent waiting on the
    operator's answer does not count. TimeoutError (the attempt cancelled) when it is spent."""
    task = asyncio.ensure_future(attempt)
    if timeout is None:
        return await task
    start = working_clock()
    try:
        while True:
            left = timeout - working_seconds(start)
            if left <= 0 and not asking():
                raise TimeoutError
            done, _ = await asyncio.wait({task}, timeout=timeout if asking() else left)
            if done:
                return task.result()
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        elif not task.cancelled():
            # it failed as the caller stopped waiting (a refused connect while the session
            # closes): its error is read here, else asyncio prints it as a lost traceback
            task.exception()
