"""The balancer-manager XML view: real captures, agreement with the HTML page, hostile XML."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.balancer.httpd_html import parse_html
from probes.balancer.httpd_xml import parse_xml
from probes.balancer.model import BalancerError, BalancerPage

DATA = Path(__file__).parent / "data" / "balancer"
SAME: tuple[str, ...] = ("url", "route", "redirect", "factor", "lbset", "status", "flags")
SAME += ("usable", "draining", "disabled", "standby", "elected", "busy", "load")


def xml(name: str) -> BalancerPage:
    return parse_xml((DATA / name).read_bytes(), f"file:{name}")


def html(name: str) -> BalancerPage:
    return parse_html((DATA / name).read_text(encoding="latin-1"), f"file:{name}")


def test_real_xml_view_from_the_sandbox() -> None:
    found = xml("real_2471_xml.xml")
    assert [b.name for b in found.balancers] == ["cluster"]
    cluster = found.balancers[0]
    assert cluster.nonce == "13cf696e-7218-d8dc-b224-cf513dc9c80f"
    assert [(w.url, w.route, w.status) for w in cluster.workers] == [
        ("http://127.0.5.11:8080", "node1", "Init Ok"),
        ("http://127.0.5.12:8080", "node2", "Init Ok"),
        ("http://127.0.5.13:8080", "node3", "Init Ok"),
    ]
    first = cluster.workers[0]
    assert (first.factor, first.lbset, first.elected, first.busy, first.load) == (1.0, 0, 0, 0, 0)
    assert (first.usable, first.redirect, first.to_bytes, first.from_bytes) == (True, None, 0, 0)


@pytest.mark.parametrize(
    ("page", "view"),
    [
        ("real_2471_page.html", "real_2471_xml.xml"),
        ("real_2471_states.html", "real_2471_states_xml.xml"),
        ("real_2471_hcheck.html", "real_2471_hcheck_xml.xml"),
    ],
)
def test_xml_view_agrees_with_the_page_captured_with_it(page: str, view: str) -> None:
    from_html, from_xml = html(page), xml(view)
    assert [(b.name, b.nonce) for b in from_html.balancers] == [
        (b.name, b.nonce) for b in from_xml.balancers
    ]
    for left, right in zip(from_html.balancers, from_xml.balancers, strict=True):
        assert len(left.workers) == len(right.workers)
        for a, b in zip(left.workers, right.workers, strict=True):
            for name in SAME:
                assert getattr(a, name) == getattr(b, name), (a.url, name)
            # The page rounds bytes for people (1.0K); the XML view counts them.
            for name in ("to_bytes", "from_bytes"):
                exact, rounded = getattr(b, name), getattr(a, name)
                assert exact is not None and rounded is not None
                assert abs(exact - rounded) <= max(0.06 * exact, 1), (a.url, name)


def test_states_in_the_xml_view() -> None:
    node1, node2, node3 = xml("real_2471_states_xml.xml").balancers[0].workers
    assert (node1.standby, node1.factor, node1.lbset, node1.to_bytes) == (True, 2.5, 1, 1000)
    assert (node2.draining, node2.usable) == (True, True)
    assert (node3.disabled, node3.usable, node3.flags) == (True, False, ("Init", "Dis", "Stop"))


def test_an_old_xml_view_leaves_missing_fields_empty() -> None:
    old = b"""<?xml version='1.0' encoding='UTF-8' ?>
<httpd:manager xmlns:httpd='http://httpd.apache.org'>
  <httpd:balancers>
    <httpd:balancer>
      <httpd:name>balancer://mycluster</httpd:name>
      <httpd:workers>
        <httpd:worker>
          <httpd:scheme>ajp</httpd:scheme>
          <httpd:hostname>10.0.0.2</httpd:hostname>
          <httpd:loadfactor>1</httpd:loadfactor>
          <httpd:name>ajp://10.0.0.2:8009</httpd:name>
        </httpd:worker>
        <httpd:worker><httpd:scheme>ajp</httpd:scheme></httpd:worker>
      </httpd:workers>
    </httpd:balancer>
  </httpd:balancers>
</httpd:manager>"""
    balancer = parse_xml(old, "u").balancers[0]
    assert (balancer.name, balancer.nonce) == ("mycluster", None)
    (only,) = balancer.workers
    assert (only.url, only.factor) == ("ajp://10.0.0.2:8009", 1.0)
    for name in ("route", "status", "usable", "elected", "busy", "load", "to_bytes", "lbset"):
        assert getattr(only, name) is None, name
    assert only.flags == ()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<httpd:manager xmlns:httpd='http://httpd.apache.org'><httpd:balancers><httpd:balancer>
<httpd:name>&lol3;</httpd:name></httpd:balancer></httpd:balancers></httpd:manager>"""


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (BILLION_LAUGHS, "DOCTYPE"),
        (b'<!doctype x SYSTEM "file:///etc/passwd"><httpd:manager/>', "DOCTYPE"),
        (b"<x><!ENTITY y 'z'></x>", "DOCTYPE"),
        ("<httpd:manager xmlns:httpd='h'/>".encode("utf-16"), "not UTF-8"),
        (b"", "empty"),
        (b"<httpd:manager xmlns:httpd='h'><unclosed>", "well-formed"),
        (b"<html><body>Balancer Manager</body></html>", "<html>"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
    ],
)
def test_hostile_or_wrong_xml_is_refused(data: bytes, words: str) -> None:
    with pytest.raises(BalancerError) as caught:
        parse_xml(data, "http://127.0.5.1:8000/balancer-manager")
    message = str(caught.value)
    assert words in message and "http://127.0.5.1:8000/balancer-manager" in message
    assert "\n" not in message


def test_xml_json_matches_the_contract() -> None:
    document = xml("real_2471_xml.xml").to_json()
    assert set(document) == {"url", "balancers", "server_version"}  # server_version: issue 12
    assert document["balancers"][0]["workers"][0]["flags"] == ["Init", "Ok"]
