"""XDG base directories for clusterconsole, computed without creating anything.

Kept free of third-party dependencies so the CLI can report where it looks for files even when
the rest of the environment is broken.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "clusterconsole"


def _home(env: Mapping[str, str]) -> Path:
    """The user's home directory, from ``env["HOME"]`` when given there."""
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def _xdg_dir(variable: str, fallback: tuple[str, ...], env: Mapping[str, str] | None) -> Path:
    """``$variable/clusterconsole``, or ``~/<fallback>/clusterconsole`` when unset or relative.

    The XDG spec says relative values must be ignored, so they are.
    """
    env = os.environ if env is None else env
    value = env.get(variable, "")
    base = Path(value) if value and os.path.isabs(value) else _home(env).joinpath(*fallback)
    return base / APP_NAME


def user_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the user's ``cluster.toml`` lives: ``$XDG_CONFIG_HOME`` or ``~/.config``."""
    return _xdg_dir("XDG_CONFIG_HOME", (".config",), env)


def user_state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where runtime state (sandbox, recordings) goes: ``$XDG_STATE_HOME`` or ~/.local/state."""
    return _xdg_dir("XDG_STATE_HOME", (".local", "state"), env)
