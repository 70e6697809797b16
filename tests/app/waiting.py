"""Waiting on predicates in app tests: the console polls forever, so it never goes idle."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual import events
from textual.app import App


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


async def type_burst(app: App[object], *keys: str) -> None:
    """Send keys the way a terminal delivers a fast typist's keys: all queued at once, none
    handled before the next arrives (`Pilot.press` waits for the app to idle after each key)."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        char = key if len(key) == 1 else {"slash": "/", "space": " "}.get(key)
        event = events.Key(key, char)
        event.set_sender(app)
        driver.send_message(event)
