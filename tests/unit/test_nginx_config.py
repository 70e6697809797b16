"""The inventory fields of the nginx and nginx-plus balancer kinds: read, and refused with the
field's line when wrong."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_config import NODE, errors, load

HEAD = f'[cluster]\nname = "c"\nprofile = "wso2"\n{NODE}[[balancers]]\nname = "lb"\n'


def test_an_nginx_balancer_reads_its_host_conf_include_and_stub_status(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        HEAD + 'kind = "nginx"\nhost = "node1"\nconf = "/etc/nginx/nginx.conf"\n'
        'include = "/etc/nginx/cluster-servers.conf"\nurl = "http://10.0.0.1:8001/nginx_status"\n'
        'balancer = "wso2ei"\n',
    )
    (balancer,) = inventory.balancers
    assert (balancer.kind, balancer.host, balancer.conf, balancer.include) == (
        "nginx",
        "node1",
        "/etc/nginx/nginx.conf",
        "/etc/nginx/cluster-servers.conf",
    )
    assert (balancer.url, balancer.balancer) == ("http://10.0.0.1:8001/nginx_status", "wso2ei")


def test_wrong_nginx_fields_are_named_with_their_line(tmp_path: Path) -> None:
    assert errors(tmp_path, HEAD + 'kind = "nginx"\n') == [
        'cluster.toml:8: balancers[0].host: missing: kind = "nginx" needs the node nginx runs on'
    ]
    assert errors(tmp_path, HEAD + 'kind = "nginx"\nhost = "lb9"\ninclude = "servers.conf"\n') == [
        "cluster.toml:11: balancers[0].host: unknown node 'lb9' (nodes: node1)",
        "cluster.toml:12: balancers[0].include: 'servers.conf': write an absolute path on lb9",
    ]
    assert errors(
        tmp_path, HEAD + 'kind = "apache"\nurl = "http://lb/balancer-manager"\nhost = "node1"\n'
    ) == ['cluster.toml:12: balancers[0].host: only used with kind = "nginx"']
    assert errors(tmp_path, HEAD + 'kind = "nginx-plus"\n') == [
        'cluster.toml:8: balancers[0].url: missing: kind = "nginx-plus" needs its API URL'
    ]
