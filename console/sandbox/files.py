"""Idempotent file writes for the sandbox: rewrite only what changed.

Tomcat redeploys a context when its descriptor's mtime changes, so rewriting identical files on
every `up` would bounce the running app; comparing first keeps `up` idempotent for real.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from console.sandbox.render import write_file


def write_if_changed(path: Path, content: str, mode: int = 0o644) -> bool:
    """Write `content` to `path` unless it already holds exactly that; True if written."""
    try:
        if path.read_text(encoding="utf-8") == content:
            path.chmod(mode)
            return False
    except (OSError, UnicodeDecodeError):
        pass
    write_file(path, content, mode)
    return True


def copy_package_tree(name: str, dest: Path) -> None:
    """Copy the packaged directory `webapp/<name>` to `dest`, file by file, only what differs."""
    _copy(resources.files("console.sandbox").joinpath("webapp", name), dest)


def _copy(src: Traversable, dest: Path) -> None:
    for entry in src.iterdir():
        target = dest / entry.name
        if entry.is_dir():
            _copy(entry, target)
        else:
            write_if_changed(target, entry.read_text(encoding="utf-8"))
