"""Each product's license adapter on recorded pages and files that follow the real ones
(Joget, frevvo, Liferay: stand-ins of the documented formats; the sandbox's page: its own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.license import ADAPTERS, NotALicensePage, masked
from probes.license.liferay import confirmation, deploy_path, parse_key_file
from probes.license.standin import vendor_key

DATA = Path(__file__).parent / "data" / "license"
STANDIN_PAGE = """<html><body><h1>License</h1>
<p>Node: <span id="node">node1</span></p>
<p>System Key: <span id="system-key">1A2B-3C4D-5E6F-7A8B</span></p>
<p>Status: <span id="status">{status}</span></p>
<p id="message">{message}</p></body></html>"""


def test_standin_reads_key_status_and_the_refusal_reason() -> None:
    adapter = ADAPTERS["standin"]
    fresh = adapter.parse(STANDIN_PAGE.format(status="not activated", message=""), 200)
    assert (fresh.system_key, fresh.activated, fresh.reason) == (
        "1A2B-3C4D-5E6F-7A8B",
        False,
        None,
    )
    refused = adapter.parse(
        STANDIN_PAGE.format(
            status="not activated", message="Invalid license key for this system key."
        ),
        400,
    )
    assert refused.reason == "Invalid license key for this system key."
    assert adapter.parse(STANDIN_PAGE.format(status="activated", message=""), 200).activated


def test_standin_refuses_what_is_not_its_page() -> None:
    with pytest.raises(NotALicensePage, match="not the license page"):
        ADAPTERS["standin"].parse("<html><body>It works!</body></html>", 200)


@pytest.mark.parametrize(
    ("key", "problem"),
    [("", "empty"), ("   ", "empty"), ("ABCDE", "five groups"), ("GGGGG-1-2-3-4", "five groups")],
)
def test_standin_key_shape(key: str, problem: str) -> None:
    found = ADAPTERS["standin"].key_problem(key)
    assert found is not None and problem in found


def test_vendor_key_is_accepted_shape_and_masked_to_five() -> None:
    key = vendor_key("1A2B-3C4D-5E6F-7A8B")
    assert ADAPTERS["standin"].key_problem(key) is None
    assert masked(key) == "..." + key[-5:]
    assert key[:-5] not in masked(key)


def test_joget_pages() -> None:
    adapter = ADAPTERS["joget"]
    fresh = adapter.parse((DATA / "joget-unlicensed.html").read_text(), 200)
    assert (fresh.system_key, fresh.activated) == ("a4021e833fea1224d13fbff6c505780f", False)
    refused = adapter.parse((DATA / "joget-refused.html").read_text(), 200)
    assert (refused.activated, refused.reason) == (False, "Invalid license")
    assert refused.system_key == fresh.system_key
    assert adapter.parse((DATA / "joget-licensed.html").read_text(), 200).activated
    with pytest.raises(NotALicensePage, match="login page"):
        adapter.parse("<html><form id='loginForm'>Login</form></html>", 200)
    assert adapter.form("  k3y-value-1234567890  ") == {"licenseKey": "k3y-value-1234567890"}
    assert adapter.key_problem("two words are not a key") is not None


def test_frevvo_page_has_no_system_key() -> None:
    adapter = ADAPTERS["frevvo"]
    installed = adapter.parse((DATA / "frevvo-config.html").read_text(), 200)
    assert (installed.system_key, installed.activated) == (None, True)
    none = adapter.parse((DATA / "frevvo-none.html").read_text(), 200)
    assert (none.activated, none.reason) == (False, "License key is invalid")
    with pytest.raises(NotALicensePage):
        adapter.parse("<html>Login</html>", 200)


def test_liferay_key_file_and_log_confirmation() -> None:
    key = parse_key_file((DATA / "liferay-activation-key.xml").read_text())
    assert (key.product, key.owner) == ("DXP Development", "Example Corp")
    lines = (DATA / "liferay-activated.log").read_text().splitlines()
    assert confirmation(lines, key.product).activated
    assert not confirmation(lines[:2], key.product).activated
    assert confirmation(lines[:2], key.product).reason == "validation passed, not registered yet"
    assert deploy_path("/opt/liferay/", "x/key.xml") == "/opt/liferay/deploy/key.xml"
    assert ADAPTERS["liferay"].key_problem("<portal/>") is not None
    with pytest.raises(NotALicensePage, match="no license page"):
        ADAPTERS["liferay"].parse("", 200)
