"""frevvo's Server Configuration page (in-house: one license per server installation).

What the documentation says (docs/facts.md, "frevvo"): the superuser admin (``admin@d``) opens
Server Configuration, which shows the installed license's details; the new key replaces the
string in the License Key area and Update applies it at once. The license is per server, not
bound to a system key, so the reading has none. NOT TRIED FOR REAL: frevvo cannot run here;
the markup read here (a ``licenseKey`` text area, the license's expiry shown once installed)
follows the documented page and is tested on a recorded stand-in
(tests/unit/data/license/frevvo-*.html).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from probes.license.model import Activation, LicenseReading, NotALicensePage

_AREA = re.compile(r'<textarea[^>]*name="licenseKey"[^>]*>([^<]*)</textarea>', re.IGNORECASE)
_EXPIRES = re.compile(r"Expir(?:y|es|ation)\s*(?:Date)?\s*(?:</[^>]+>|<[^>]+>|:|\s)*([0-9][^<]*)<")
_ERROR = re.compile(r'class="[^"]*\berror\b[^"]*"[^>]*>\s*([^<]+?)\s*<')


class FrevvoAdapter:
    name = "frevvo"
    product = "frevvo (in-house)"
    tried_for_real = "no: recorded stand-in of the documented page"
    activation: Activation = "form"
    default_page: str | None = "/frevvo/web/admin/server/config"

    def parse(self, text: str, http_status: int) -> LicenseReading:
        area = _AREA.search(text)
        if area is None:
            raise NotALicensePage(
                f"no License Key area on it (HTTP {http_status}): not frevvo's Server "
                "Configuration page (a login page when not signed in as admin@d)"
            )
        error = _ERROR.search(text)
        activated = bool(area[1].strip()) and _EXPIRES.search(text) is not None
        return LicenseReading(None, activated, error[1] if error else None)

    def key_problem(self, key: str) -> str | None:
        value = key.strip()
        if not value:
            return "the key is empty"
        if len(value) < 16 or not value.isprintable():
            return "a frevvo license key is one string of at least 16 printable characters"
        return None

    def form(self, key: str) -> Mapping[str, str]:
        return {"licenseKey": key.strip()}
