"""Balancer settings and workers read from balancer-manager pages saved by someone else.

The two pages are the test pages of smithk86/balancer_manager (MIT), saved from httpd 2.4.20 and
2.4.41 (docs/sources.md): five balancers, 2 to 10 members, hot standbys and disabled members. That
project reads the same settings table; these are the values its pages show."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.balancer.httpd_html import parse_html
from probes.balancer.model import BalancerPage

DATA = Path(__file__).parent / "data" / "balancer"

# name: (members, failover attempts, statuses of the members in page order)
EXPECTED = {
    "cluster0": (2, 1, ["Init Ok"] * 2),
    "cluster1": (2, 1, ["Init Ok"] * 2),
    "cluster2": (4, 3, ["Init Ok"] * 2 + ["Init Stby Ok"] * 2),
    "cluster3": (10, 9, ["Init Ok"] * 2 + ["Init Dis Stby"] * 8),
    "cluster4": (10, 9, ["Init Ok"] + ["Init Stby Ok"] * 4 + ["Init Ok"] + ["Init Stby Ok"] * 4),
}


def page(version: str) -> BalancerPage:
    text = (DATA / f"smithk86_balancer-manager-{version}.html").read_text(encoding="cp1252")
    return parse_html(text, "http://localhost:8080/balancer-manager")


@pytest.mark.parametrize("version", ["2.4.20", "2.4.41"])
def test_every_balancer_with_its_settings_and_members(version: str) -> None:
    read = page(version)
    assert read.server_version is not None
    assert read.server_version.startswith(f"Apache/{version} (Unix)")
    assert [balancer.name for balancer in read.balancers] == list(EXPECTED)
    for name, (members, attempts, statuses) in EXPECTED.items():
        balancer = read.balancer(name)
        assert balancer is not None and balancer.settings is not None
        settings = balancer.settings
        assert settings.max_members == members and settings.members_used == members
        assert settings.free_slots == 0  # no `growth`: add-node would have no room here
        assert settings.failover_attempts == attempts
        assert settings.lbmethod == "byrequests" and settings.path == "/"
        assert settings.sticky_session is None  # the page shows "(None)"
        assert settings.timeout == 0 and settings.disable_failover is False
        assert settings.active is True
        assert [worker.status for worker in balancer.workers] == statuses
        assert all(worker.url.startswith("http://route") for worker in balancer.workers)
        assert balancer.nonce


def test_route_and_set_of_each_member() -> None:
    cluster4 = page("2.4.41").balancer("cluster4")
    assert cluster4 is not None
    assert [worker.route for worker in cluster4.workers] == [f"route4{i}" for i in range(10)]
    assert [worker.lbset for worker in cluster4.workers] == [0] * 5 + [1] * 5
