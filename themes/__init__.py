"""The console's Textual themes: a dark and a light default, a high-contrast wall theme, and
per-cluster accent variants (like k9s's per-context skins) so production never looks like staging.

Themes are plain `textual.theme.Theme` objects; the app registers them with ``register_theme``.
Nothing here imports the rest of the console.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

CSS_PATH = Path(__file__).with_name("console.tcss")
"""The app's stylesheet (layout only; colours come from the theme variables)."""

DARK = Theme(
    name="clusterconsole-dark",
    primary="#3f8fd2",
    secondary="#5f87af",
    accent="#3f8fd2",
    warning="#e5b800",
    error="#ff5f5f",
    success="#5fd75f",
    foreground="#e4e4e4",
    background="#121212",
    surface="#1c1c1c",
    panel="#262626",
    dark=True,
)

LIGHT = Theme(
    name="clusterconsole-light",
    primary="#005f87",
    secondary="#5f5f87",
    accent="#005f87",
    warning="#875f00",
    error="#c00000",
    success="#006f00",
    foreground="#1c1c1c",
    background="#fafafa",
    surface="#eeeeee",
    panel="#e4e4e4",
    dark=False,
)

WALL = Theme(
    name="clusterconsole-wall",
    primary="#00afff",
    secondary="#ffffff",
    accent="#00afff",
    warning="#ffd700",
    error="#ff2020",
    success="#00ff5f",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1a1a1a",
    dark=True,
    luminosity_spread=0.25,
    text_alpha=1.0,
)
"""High contrast, pure black and white with saturated state colours: legible across a room."""

THEMES: dict[str, Theme] = {theme.name: theme for theme in (DARK, LIGHT, WALL)}

ALIASES: dict[str, str] = {"dark": DARK.name, "light": LIGHT.name, "wall": WALL.name}
"""Short names accepted by ``--theme``."""


def resolve(name: str | None, *, watch: bool) -> str:
    """The theme name for ``--theme NAME`` (a short alias or any theme name); the default is the
    wall theme in watch mode and the dark theme otherwise."""
    if not name:
        return WALL.name if watch else DARK.name
    return ALIASES.get(name, name)


def valid_color(text: str | None) -> str | None:
    """``text`` as a CSS colour string if Textual can parse it, else None."""
    if not text:
        return None
    try:
        return Color.parse(text).hex
    except ColorParseError:
        return None


def accent_theme(base: Theme, color: str, cluster: str) -> Theme:
    """``base`` with the cluster's accent colour as primary and accent (title bar, cursor)."""
    slug = re.sub(r"[^a-z0-9]+", "-", cluster.lower()).strip("-") or "cluster"
    return replace(base, name=f"{base.name}+{slug}", primary=color, accent=color)


__all__ = [
    "ALIASES",
    "CSS_PATH",
    "DARK",
    "LIGHT",
    "THEMES",
    "WALL",
    "accent_theme",
    "resolve",
    "valid_color",
]
