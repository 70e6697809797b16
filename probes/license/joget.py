"""Joget DX's license page (Enterprise/Professional: one license per node).

What the documentation says (docs/facts.md, "Joget"): the page opens from the console footer or
Settings > General Settings; it shows the system key, a 32-character hexadecimal string bound to
the MAC address, the database profile name, the major version and the edition, and a field
for the license the vendor mails back. NOT TRIED FOR REAL: Joget's enterprise page is not
public source and cannot run here; the markup read here (a "System Key" label followed by
the key, a ``licenseKey`` field, "Licensed To" once activated) follows the documented page and
is tested on a recorded stand-in (tests/unit/data/license/joget-*.html). The default page path
(`default_page`) is not verified either: set `[license] page` to where the node shows it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from probes.license.model import Activation, LicenseReading, NotALicensePage

_SYSTEM_KEY = re.compile(r"System\s*Key\s*(?:</[^>]+>|<[^>]+>|:|\s)*([0-9a-fA-F]{32})\b")
_LICENSED_TO = re.compile(r"Licensed\s*To\s*(?:</[^>]+>|<[^>]+>|:|\s)*([^<\s][^<]*)<")
_ERROR = re.compile(r'class="[^"]*\berror\b[^"]*"[^>]*>\s*([^<]+?)\s*<')
_TAGS = re.compile(r"<[^>]+>")


class JogetAdapter:
    name = "joget"
    product = "Joget DX (Enterprise, Professional)"
    tried_for_real = "no: recorded stand-in of the documented page"
    activation: Activation = "form"
    default_page: str | None = "/jw/web/console/setting/license"

    def parse(self, text: str, http_status: int) -> LicenseReading:
        found = _SYSTEM_KEY.search(text)
        if found is None:
            raise NotALicensePage(
                f"no 32-character system key after a 'System Key' label (HTTP {http_status}): "
                "not Joget's license page (a login page when not signed in as admin)"
            )
        licensed = _LICENSED_TO.search(text)
        error = _ERROR.search(text)
        reason = _TAGS.sub("", error[1]).strip() if error else None
        return LicenseReading(found[1].lower(), licensed is not None, reason or None)

    def key_problem(self, key: str) -> str | None:
        value = key.strip()
        if not value:
            return "the key is empty"
        if any(c.isspace() for c in value) or len(value) < 16:
            return "a Joget license is one unbroken string of at least 16 characters"
        return None

    def form(self, key: str) -> Mapping[str, str]:
        return {"licenseKey": key.strip()}
