"""Probe tasks that outlive their own bugs: restarted after a pause, never left dead."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

PROBE_RESTART = 5.0
"""Seconds before a probe that ended on an unexpected error is started again."""


async def keep_running(probe: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
    """Run a probe until it returns; if a bug ends it, log it and start it again after a pause,
    so one unexpected answer never leaves a part of the cluster unwatched for the rest of the
    run."""
    while True:
        try:
            await probe()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("probe %s failed; restarting it in %.0f s", name, PROBE_RESTART)
        await asyncio.sleep(PROBE_RESTART)
