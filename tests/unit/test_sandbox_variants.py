"""Sandbox variants (issue 20): each writes its own balancer and inventory, and only its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config import load_inventory_text
from console.sandbox import haproxy, httpd
from console.sandbox.errors import SandboxError
from console.sandbox.frevvo import unload_delay_ms
from console.sandbox.inventory import inventory_text
from console.sandbox.layout import SandboxLayout, check_variant, recorded_layout
from console.sandbox.render import render


def _layout(tmp_path: Path, variant: str) -> SandboxLayout:
    layout = SandboxLayout(tmp_path, 2, "127.0.5", variant)
    layout.secrets.mkdir(parents=True)
    for secret in (layout.db_password_file, layout.manager_password_file):
        secret.write_text("pw\n")
        secret.chmod(0o600)
    return layout


def test_liferay_inventory_has_a_haproxy_balancer_with_its_socket(tmp_path: Path) -> None:
    layout = _layout(tmp_path, "liferay")
    inventory = load_inventory_text(inventory_text(layout), layout.inventory)
    assert inventory.profile.name == "liferay"
    (balancer,) = inventory.balancers
    assert (balancer.kind, balancer.balancer) == ("haproxy", "cluster")
    assert balancer.url == "http://127.0.5.1:8001/stats"
    assert balancer.socket is not None and balancer.socket.node is None
    assert balancer.socket.path == str(layout.run / "haproxy.sock")


@pytest.mark.parametrize(("variant", "profile"), [("joget", "tomcat"), ("frevvo", "frevvo")])
def test_httpd_variants_keep_the_apache_balancer(
    tmp_path: Path, variant: str, profile: str
) -> None:
    layout = _layout(tmp_path, variant)
    inventory = load_inventory_text(inventory_text(layout), layout.inventory)
    assert inventory.profile.name == profile
    (balancer,) = inventory.balancers
    assert (balancer.kind, balancer.url) == ("apache", "http://127.0.5.1:8000/balancer-manager")


def test_haproxy_config_sticks_on_the_route_and_checks_every_node(tmp_path: Path) -> None:
    layout = _layout(tmp_path, "liferay")
    try:
        haproxy.prepare(layout)
    except SandboxError:
        pytest.skip("haproxy is not installed")
    config = layout.haproxy_cfg.read_text()
    assert f"stats socket {layout.haproxy_socket} mode 600 level admin" in config
    assert "bind 127.0.5.1:8000" in config and "bind 127.0.5.1:8001" in config
    for index in (1, 2):
        assert f"acl route_node{index} req.cook(JSESSIONID) -m end .node{index}" in config
        assert f"use-server node{index} if route_node{index}" in config
        assert f"server node{index} 127.0.5.1{index}:8080 check" in config


@pytest.mark.parametrize(
    ("variant", "scheme", "port"), [("joget", "http", 8080), ("frevvo", "ajp", 8009)]
)
def test_frevvo_balances_over_ajp(tmp_path: Path, variant: str, scheme: str, port: int) -> None:
    layout = _layout(tmp_path, variant)
    try:
        httpd.prepare(layout)
    except SandboxError:
        pytest.skip("apache2 is not installed")
    config = layout.httpd_conf.read_text()
    for index in (1, 2):
        assert f'BalancerMember "{scheme}://127.0.5.1{index}:{port}" route=node{index}' in config
    assert "mod_proxy_ajp.so" in config


def test_only_frevvo_waits_40_s_to_unload(tmp_path: Path) -> None:
    delays = {
        v: unload_delay_ms(SandboxLayout(tmp_path, 2, "127.0.5", v))
        for v in ("joget", "liferay", "frevvo")
    }
    assert delays == {"joget": 3000, "liferay": 3000, "frevvo": 40000}
    assert 'unloadDelay="40000"' in render("app-context.xml", unload_delay=40000)


def test_the_variant_is_recorded_and_unknown_ones_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTERCONSOLE_SANDBOX_DIR", str(tmp_path))
    (tmp_path / "sandbox.json").write_text('{"nodes": 2, "net": "127.0.5", "variant": "liferay"}')
    recorded = recorded_layout()
    assert recorded is not None and recorded.variant == "liferay"
    assert recorded.balancer_kind == "haproxy"
    (tmp_path / "sandbox.json").write_text('{"nodes": 3, "net": "127.0.5"}')  # before variants
    recorded = recorded_layout()
    assert recorded is not None and (recorded.variant, recorded.balancer_kind) == ("joget", "httpd")
    with pytest.raises(SandboxError, match="unknown sandbox variant 'jboss'"):
        check_variant("jboss")
