"""balancer_conf: a member added to / removed from httpd and HAProxy configuration text."""

from __future__ import annotations

import pytest

from console.balancer.conf import BEGIN, END, ConfEditError, Member, add_member, remove_member

HTTPD = """\
ServerName front
<Proxy "balancer://cluster">
  BalancerMember "http://10.0.0.1:8080" route=node1 retry=5 ttl=10
  BalancerMember "http://10.0.0.2:8080" route=node2 retry=5 ttl=10
  # growth: room for runtime members
  ProxySet stickysession=JSESSIONID|jsessionid growth=4
</Proxy>
ProxyPass "/app/" "balancer://cluster/app/"
"""

HAPROXY = """\
global
    maxconn 2048

backend cluster
    balance roundrobin
    acl route_node1 req.cook(JSESSIONID) -m end .node1
    use-server node1 if route_node1
    acl route_node2 req.cook(JSESSIONID) -m end .node2
    use-server node2 if route_node2
    server node1 10.0.0.1:8080 check inter 1s fall 2 rise 2
    server node2 10.0.0.2:8080 cookie n2 check inter 1s fall 2 rise 2

frontend web
    default_backend cluster
"""

NODE3 = Member("node3", "http://10.0.0.3:8080")


def test_httpd_member_goes_into_the_consoles_block_with_its_peers_options() -> None:
    text, lines = add_member(HTTPD, "apache", "cluster", NODE3)
    assert lines == ['BalancerMember "http://10.0.0.3:8080" route=node3 retry=5 ttl=10']
    assert (
        "route=node2 retry=5 ttl=10\n"
        f"  {BEGIN}\n"
        '  BalancerMember "http://10.0.0.3:8080" route=node3 retry=5 ttl=10\n'
        f"  {END}\n"
        "  # growth"
    ) in text
    again, none = add_member(text, "apache", "cluster", NODE3)
    assert (again, none) == (text, [])
    node4, _ = add_member(text, "apache", "cluster", Member("node4", "http://10.0.0.4:8080"))
    assert 'route=node3 retry=5 ttl=10\n  BalancerMember "http://10.0.0.4:8080"' in node4
    assert node4.count(BEGIN) == 1


def test_httpd_add_then_remove_gives_back_the_text_and_a_listed_member_goes_by_its_line() -> None:
    text, _ = add_member(HTTPD, "apache", "cluster", NODE3)
    back, removed = remove_member(text, "apache", "cluster", NODE3)
    assert back == HTTPD
    assert removed == ['BalancerMember "http://10.0.0.3:8080" route=node3 retry=5 ttl=10']
    without2, removed = remove_member(HTTPD, "apache", "cluster", Member("node2", "http://x:1"))
    assert "node2" not in without2 and len(removed) == 1
    assert without2.count("BalancerMember") == 1


def test_haproxy_server_copies_options_but_not_the_cookie_and_removal_takes_its_rules() -> None:
    text, lines = add_member(HAPROXY, "haproxy", "cluster", NODE3)
    assert lines == ["server node3 10.0.0.3:8080 check inter 1s fall 2 rise 2"]
    assert text.index("server node3") < text.index("frontend web")
    without, removed = remove_member(HAPROXY, "haproxy", "cluster", Member("node2", "x"))
    assert removed == [
        "use-server node2 if route_node2",
        "server node2 10.0.0.2:8080 cookie n2 check inter 1s fall 2 rise 2",
    ]
    assert "server node2" not in without and "server node1" in without


def test_a_missing_pool_is_named() -> None:
    with pytest.raises(ConfEditError, match=r'no <Proxy "balancer://other"> section'):
        add_member(HTTPD, "apache", "other", NODE3)
    with pytest.raises(ConfEditError, match="no backend other section"):
        remove_member(HAPROXY, "haproxy", "other", NODE3)
