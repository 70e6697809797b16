"""What every license adapter returns: a node's license as its product shows it.

An adapter knows one product's page or file format (pure parsing, no I/O): the sandbox's
stand-in page, Joget's license page, frevvo's server configuration page, Liferay DXP's
activation-key XML and the log lines that confirm it. `probes.license.http` reads and submits
the pages; the console's wizard and monitor call both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

Activation = Literal["form", "deploy-file"]
"""How a key reaches the node: posted to its license page, or a file dropped in its deploy/."""


class NotALicensePage(ValueError):
    """The answer is not the product's license page; str() says what it is instead."""


@dataclass(frozen=True, slots=True)
class LicenseReading:
    """One node's license, read from its own page."""

    system_key: str | None
    """The key the vendor issues a license for (None where the product has none)."""
    activated: bool
    reason: str | None = None
    """What the page says about the last activation (a refusal's reason), when it says."""

    @property
    def status(self) -> str:
        return "activated" if self.activated else "not activated"


class LicenseAdapter(Protocol):
    """One product's license page: how to read it, what a key looks like, how to submit it."""

    name: str
    product: str
    tried_for_real: str
    """What was tried against the real product (for the README's table and the code)."""
    activation: Activation
    default_page: str | None

    def parse(self, text: str, http_status: int) -> LicenseReading:
        """The page's reading; NotALicensePage when it is something else."""
        ...

    def key_problem(self, key: str) -> str | None:
        """Why `key` cannot be a license key of this product (None: it may be one)."""
        ...

    def form(self, key: str) -> Mapping[str, str]:
        """The form fields that submit `key` on the page (form activation)."""
        ...


def masked(key: str) -> str:
    """A license key as it may be shown or recorded: its last five characters only."""
    tail = key.strip()[-5:]
    return f"...{tail}" if tail else "(empty)"
