"""Waiting on predicates in app tests: the console polls forever, so it never goes idle."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_for(condition: Callable[[], object], timeout: float = 30.0) -> None:
    """Return once ``condition()`` is truthy; fail the test after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            if condition():
                return
        except Exception:  # a widget not mounted yet, a row not added yet
            pass
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
