"""The clusters `--context NAME` and `:context` know: NAME.toml files in the config directory."""

from __future__ import annotations

from pathlib import Path

from console.config.errors import ConfigNotFound
from console.paths import user_config_dir

CONTEXTS_DIR = "clusters"


def contexts_dir() -> Path:
    return user_config_dir() / CONTEXTS_DIR


def context_names() -> list[str]:
    """The clusters ``--context`` knows: the NAME.toml files of the contexts directory."""
    directory = contexts_dir()
    if not directory.is_dir():
        return []
    return sorted(path.stem for path in directory.glob("*.toml") if path.is_file())


def context_path(name: str) -> Path:
    """The inventory of context ``name``; ConfigNotFound naming the known ones otherwise."""
    if not name or "/" in name or name.startswith("."):
        raise ConfigNotFound(f"--context {name!r}: a context is a file name without '/'", [])
    path = contexts_dir() / f"{name}.toml"
    if path.is_file():
        return path
    known = ", ".join(context_names()) or "none"
    raise ConfigNotFound(
        f"no context {name!r}: {path} does not exist (contexts in {contexts_dir()}: {known})",
        [path],
    )
