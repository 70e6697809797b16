"""The sandbox's stand-in license page (`console/sandbox/webapp/license/index.jsp`).

Modelled on Joget's per-node page: a system key unique to the node, an activation form with
one field ``license``, ``activated``/``not activated``. Tried for real: in every sandbox.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from probes.license.model import Activation, LicenseReading, NotALicensePage

_SYSTEM_KEY = re.compile(r'<span id="system-key">([^<]*)</span>')
_STATUS = re.compile(r'<span id="status">([^<]*)</span>')
_MESSAGE = re.compile(r'<p id="message">([^<]*)</p>')
_KEY = re.compile(r"[0-9A-F]{5}(-[0-9A-F]{5}){4}", re.IGNORECASE)
VENDOR_SALT = "clusterconsole-sandbox-license|"


def vendor_key(system_key: str) -> str:
    """The key the sandbox's stand-in vendor issues for `system_key` (the page checks it)."""
    digest = hashlib.sha256(f"{VENDOR_SALT}{system_key.strip()}".encode()).hexdigest()
    hex25 = digest.upper()[:25]
    return "-".join(hex25[i : i + 5] for i in range(0, 25, 5))


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


class StandinAdapter:
    name = "standin"
    product = "the sandbox's stand-in page"
    tried_for_real = "yes (the sandbox's own page)"
    activation: Activation = "form"
    default_page: str | None = "/license/"

    def parse(self, text: str, http_status: int) -> LicenseReading:
        key, status = _SYSTEM_KEY.search(text), _STATUS.search(text)
        if key is None or status is None:
            raise NotALicensePage(
                f"no system key and status on it (HTTP {http_status}): not the license page"
            )
        message = _MESSAGE.search(text)
        reason = _unescape(message[1]).strip() if message else ""
        value = status[1].strip().lower()
        if value not in ("activated", "not activated"):
            raise NotALicensePage(f"its status {value!r} is neither activated nor not activated")
        return LicenseReading(key[1].strip(), value == "activated", reason or None)

    def key_problem(self, key: str) -> str | None:
        if not key.strip():
            return "the key is empty"
        if not _KEY.fullmatch(key.strip()):
            return "the key is not five groups of five hexadecimal digits (XXXXX-XXXXX-...)"
        return None

    def form(self, key: str) -> Mapping[str, str]:
        return {"license": key.strip()}
