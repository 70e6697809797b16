"""Render the sandbox's configuration templates (files under templates/ with @@name fields)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from string import Template


class _AtTemplate(Template):
    """`@@name` placeholders, so `${catalina.base}` and `$VAR` in the files stay as they are."""

    delimiter = "@@"


def render(template: str, **fields: object) -> str:
    """The named template with every `@@field` replaced; a missing field is a KeyError."""
    text = resources.files("console.sandbox").joinpath("templates", template).read_text("utf-8")
    return _AtTemplate(text).substitute({k: str(v) for k, v in fields.items()})


def write_file(path: Path, content: str, mode: int = 0o644) -> None:
    """Write `content` atomically (temp file + rename) with `mode`, creating parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(content, encoding="utf-8")
    os.chmod(tmp, mode)
    tmp.replace(path)
