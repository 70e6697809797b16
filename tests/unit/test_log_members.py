"""Member identities: the reducer can only match a node across logs if every spelling agrees."""

from __future__ import annotations

import pytest

from probes.logs.members import is_graceful, normalise_member, tomcat_member


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tcp://{127, 0, 0, 12}:4000", "127.0.0.12:4000"),
        ("/10.0.0.1:4001", "10.0.0.1:4001"),
        ("wso2-node2/10.100.0.47:4001", "10.100.0.47:4001"),
        ("Member [10.0.0.1]:5701", "10.0.0.1:5701"),
        ("Member [10.0.0.1]:5701 - 170f6924-7888-442a-9875-ad4d25659a8a this", "10.0.0.1:5701"),
        (
            "MemberImpl[tcp://ip-172-31-13-12:4000,ip-172-31-13-12,4000, alive=0",
            "ip-172-31-13-12:4000",
        ),
        ("tcp://{-64, -88, 1, 12}:4000", "192.168.1.12:4000"),
        ("tcp://{-2, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}:4000", "[fe80::1]:4000"),
        ("[::1]:5701", "[::1]:5701"),
        ("[0:0:0:0:0:0:0:1]:5701", "[::1]:5701"),
        ("Host:10.100.0.47, Remote Host:null, Port: 4001, HTTP:9763", "10.100.0.47:4001"),
        ("  keycloak-demo-1-mvrfg  ", "keycloak-demo-1-mvrfg"),
        ("node-a:7800", "node-a:7800"),
        ("node-b(v=2)", "node-b(v=2)"),
        ("host:a:b", "host:a:b"),
        ("", None),
        ("   ", None),
    ],
)
def test_normalise_member(text: str, expected: str | None) -> None:
    assert normalise_member(text) == expected


def test_same_node_spelled_by_tomcat_hazelcast_and_wso2_is_one_identity() -> None:
    spellings = ["tcp://{10, 0, 0, 1}:4000", "Member [10.0.0.1]:4000", "/10.0.0.1:4000"]
    assert {normalise_member(text) for text in spellings} == {"10.0.0.1:4000"}


def test_tomcat_member_finds_the_member_inside_a_message() -> None:
    message = (
        "Received member disappeared:[org.apache.catalina.tribes.membership.StaticMember"
        "[tcp://{127, 0, 0, 13}:4000,{127, 0, 0, 13},4000, alive=15488, command={66 65 66 89 45}]]"
    )
    assert tomcat_member(message) == "127.0.0.13:4000"
    assert is_graceful(message)
    assert not is_graceful(message.replace("{66 65 66 89 45}", "{}"))
    assert tomcat_member("Manager [localhost#/app]: skipping state transfer.") is None
