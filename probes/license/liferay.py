"""Liferay DXP's activation key: an XML file dropped in each node's ``deploy/`` folder.

What the public sources say (docs/facts.md, "Liferay DXP"): the key is a ``<license>`` XML
document; the auto-deploy scanner picks it up from ``${liferay.home}/deploy`` and the node logs
``Processing activation-key...``, then ``<product> license validation passed`` and
``License registered for <product>`` (Liferay's own image tests wait for that last line). There
is no per-node page and no system key to read. NOT TRIED FOR REAL: Liferay DXP cannot run here;
this module parses the key file and the log lines, tested on recorded stand-ins
(tests/unit/data/license/liferay-*). The wizard copies the file over SSH and waits for these
lines (console/operations/wizards/license_file.py), proven on the sandbox against a stand-in
of the auto-deploy scanner, never against Liferay itself.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from xml.etree import ElementTree

from probes.license.model import Activation, LicenseReading, NotALicensePage

_REGISTERED = re.compile(r"License registered for (.+?)\s*$")
_PASSED = re.compile(r"(.+?) license validation passed")
_FAILED = re.compile(r"(license (?:validation failed|is invalid|has expired)[^\n]*)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ActivationKey:
    """What an activation key file says about itself."""

    product: str
    owner: str | None
    expires: str | None


def parse_key_file(text: str) -> ActivationKey:
    """The key file's product, owner and expiry; NotALicensePage when it is not one."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise NotALicensePage(f"not XML ({exc})") from None
    if root.tag != "license":
        raise NotALicensePage(f"its root element is <{root.tag}>, not <license>")
    product = (root.findtext("product-name") or "").strip()
    if not product:
        raise NotALicensePage("it has no <product-name>")
    return ActivationKey(
        product,
        (root.findtext("owner") or "").strip() or None,
        (root.findtext("expiration-date") or "").strip() or None,
    )


def deploy_path(liferay_home: str, file_name: str) -> str:
    """Where the key file goes on the node (the auto-deploy folder's default)."""
    return posixpath.join(liferay_home.rstrip("/"), "deploy", posixpath.basename(file_name))


def confirmation(lines: Iterable[str], product: str) -> LicenseReading:
    """What the node's log says after the drop: registered, refused (with the line), or not
    yet (activated False, no reason)."""
    passed = False
    for line in lines:
        registered = _REGISTERED.search(line)
        if registered and registered[1].strip() == product:
            return LicenseReading(None, True, None)
        found = _PASSED.search(line)
        if found and found[1].strip().endswith(product):
            passed = True
        failed = _FAILED.search(line)
        if failed:
            return LicenseReading(None, False, failed[1].strip())
    return LicenseReading(None, False, "validation passed, not registered yet" if passed else None)


class LiferayAdapter:
    name = "liferay"
    product = "Liferay DXP"
    tried_for_real = "no: recorded key file and log lines"
    activation: Activation = "deploy-file"
    default_page: str | None = None

    def parse(self, text: str, http_status: int) -> LicenseReading:
        raise NotALicensePage(
            "Liferay DXP has no license page: its activation key is a file in deploy/"
        )

    def key_problem(self, key: str) -> str | None:
        try:
            parse_key_file(key)
        except NotALicensePage as exc:
            return f"not a Liferay activation key file: {exc}"
        return None

    def form(self, key: str) -> Mapping[str, str]:
        return {}
