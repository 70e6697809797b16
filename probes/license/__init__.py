"""License adapters: one per product, pure parsing (`model`), plus the page reader (`http`)."""

from __future__ import annotations

from collections.abc import Mapping

from probes.license.frevvo import FrevvoAdapter
from probes.license.joget import JogetAdapter
from probes.license.liferay import LiferayAdapter
from probes.license.model import LicenseAdapter, LicenseReading, NotALicensePage, masked
from probes.license.standin import StandinAdapter

ADAPTERS: Mapping[str, LicenseAdapter] = {
    adapter.name: adapter
    for adapter in (StandinAdapter(), JogetAdapter(), LiferayAdapter(), FrevvoAdapter())
}
"""Every adapter by its ``[license] adapter`` name."""

__all__ = ["ADAPTERS", "LicenseAdapter", "LicenseReading", "NotALicensePage", "masked"]
