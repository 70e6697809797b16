"""Live reload of cluster.toml: watch the file, re-validate it on every change.

`watch_inventory` yields a new `Inventory` when an edit is valid and differs from the last one,
or the `ConfigError` when it is not (the caller keeps its last good inventory). It watches the
file's directory, because editors often save by writing a new file and renaming it over the old.
No Textual here: the app decides what to do with each result.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from watchfiles import Change, awatch

from console.config import load_inventory
from console.config.errors import ConfigError
from console.config.model import Inventory

DEBOUNCE_MS = 300
"""Changes closer together than this are read once (an editor's write, chmod, rename)."""


def _same(a: Inventory, b: Inventory) -> bool:
    return a == b


async def watch_inventory(
    inventory: Inventory,
    *,
    stop: asyncio.Event | None = None,
    debounce_ms: int = DEBOUNCE_MS,
    force_polling: bool = False,
) -> AsyncIterator[Inventory | ConfigError]:
    """Yield each valid new inventory (or the error of a broken edit) of ``inventory.path``."""
    path = Path(inventory.path).resolve()
    last: Inventory | ConfigError = inventory

    def ours(_change: Change, changed: str) -> bool:
        return Path(changed).name == path.name

    async for _changes in awatch(
        path.parent,
        watch_filter=ours,
        stop_event=stop,
        debounce=debounce_ms,
        step=50,
        force_polling=force_polling,
        recursive=False,
    ):
        try:
            result: Inventory | ConfigError = await asyncio.to_thread(
                load_inventory, path, display_name=str(inventory.path)
            )
        except ConfigError as exc:
            result = exc
        if isinstance(result, ConfigError):
            if isinstance(last, ConfigError) and str(last) == str(result):
                continue
        elif isinstance(last, Inventory) and _same(last, result):
            continue
        last = result
        yield result


__all__ = ["DEBOUNCE_MS", "watch_inventory"]
