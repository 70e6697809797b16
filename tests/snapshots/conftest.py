"""Pinned conditions for screenshots: UTC, a frozen wall clock, colour on, no animations, no
blinking cursor."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from tests.app.recorded import T0

FROZEN_NOW = T0 + 60.0


@pytest.fixture(autouse=True)
def pinned_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("CLUSTERCONSOLE_AUDIT_LOG", os.devnull)
    time.tzset()
    # Views that say "read 3 s ago" compare with the wall clock: pin it after the recording.
    monkeypatch.setattr(time, "time", lambda: FROZEN_NOW)
    yield
    monkeypatch.undo()
    time.tzset()
