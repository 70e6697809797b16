"""The console's one memory of license activations: per cluster, node -> the system key the
node had when its license was last seen activated (by the license wizard or the doctor).

The doctor, the license wizard and the monitor's license poll all read and write this one
file in the console's state directory, so a key that changes after activation shows in each.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from console.paths import user_state_dir


def memory_file() -> Path:
    """Where the console remembers each node's system key at activation."""
    return user_state_dir() / "doctor-licenses.json"


def _load(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remembered(cluster: str, path: Path | None = None) -> dict[str, str]:
    """node -> system key at activation, for `cluster` (empty when nothing is remembered or
    the file cannot be read)."""
    keys = _load(path or memory_file()).get(cluster, {})
    if not isinstance(keys, dict):
        return {}
    return {str(node): str(key) for node, key in keys.items()}


def remember(cluster: str, keys: Mapping[str, str], path: Path | None = None) -> None:
    """Record `keys` (node -> system key at activation) for `cluster`, replacing the file
    atomically; OSError when it cannot be written."""
    if not keys:
        return
    target = path or memory_file()
    data = _load(target)
    known = data.get(cluster)
    merged = dict(known) if isinstance(known, dict) else {}
    merged.update(keys)
    data[cluster] = merged
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(target)
