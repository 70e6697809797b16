"""Every membership message the products print, recognised with its member as `host:port`; the
lines that only mention a member are no event.

`membership_messages_synthetic.log` holds one line per message as the products' sources write
it (see tests/unit/data/logs/README.md); the public samples are checked in test_log_corpus.py.
"""

from __future__ import annotations

from pathlib import Path

from probes.logs.hazelcast import classify as hazelcast_classify
from probes.logs.jgroups import node, suspect, view
from probes.logs.members import normalise_member
from probes.logs.scanner import scan_file

DATA = Path(__file__).parent / "data" / "logs"
SYNTHETIC = DATA / "membership_messages_synthetic.log"


def test_each_message_gives_its_event_and_the_mentions_give_none() -> None:
    found = [
        (event.line, event.kind, event.source, event.member, event.detail)
        for event in scan_file(SYNTHETIC)
    ]
    assert found == [
        (1, "member-joined", "wso2", "10.0.0.5:4000", None),  # axis2 Tribes (Carbon 3.x-4.1)
        (2, "member-left", "wso2", "10.0.0.5:4000", None),
        (3, "member-joined", "wso2", "10.0.0.7:4100", None),  # group management (WKA / LB)
        (4, "member-joined", "wso2", "[fe80::1]:4000", None),  # Java 8 IPv6 socket address
        # 5: the local member, no change
        # 6: "Suspecting ...", then 7 "is suspected ... for reason: Suspecting ...": one departure
        (7, "member-left", "hazelcast", "10.0.0.2:5701", "heartbeat"),  # 8: the same departure
        # 9-12: a heartbeat received, ignored, a connection removed, a view "with suspected members"
        (13, "member-left", "hazelcast", "10.0.0.3:5701", "suspect"),  # 3.x Address[...]
        (14, "member-joined", "jgroups", "node-2", None),  # ISPN100000
        # 15: a rebalance naming members
        (16, "member-joined", "tomcat", "10.0.0.4:4000", "unnotified"),
        # 17, 18: "confirmed alive", "still alive"; 19: refused by the domain filter
    ]


def test_one_departure_told_three_ways_is_one_event_with_its_observer() -> None:
    left = [event for event in scan_file(SYNTHETIC) if event.member == "10.0.0.2:5701"]
    assert [(event.line, event.observer) for event in left] == [(7, "10.0.0.1:5701")]


def test_hazelcast_member_forms_of_every_version() -> None:
    cases = {
        "[h]:5701 [dev] [3.5] Removing Member [10.0.0.2]:5701": "10.0.0.2:5701",
        "[h]:5701 [dev] [3.8] Removing Member [10.0.0.2]:5701 - 0a-1b this": "10.0.0.2:5701",
        "[h]:5701 [dev] [3.6] Address[10.0.0.2]:5701 is suspected to be dead": "10.0.0.2:5701",
        "[h]:5701 [dev] [4.2] [fd00::2]:5701 is suspected to be dead, reason: x": "[fd00::2]:5701",
        "[h]:5701 [dev] [5.4] Member [node-b.svc]:5701 - 9f is suspected to be dead for reason: "
        "No connection": "node-b.svc:5701",
    }
    for message, member in cases.items():
        draft = hazelcast_classify(message)
        assert draft is not None and draft.kind == "member-left", message
        assert draft.member == member and draft.observer == "h:5701"
    for quiet in (
        "[h]:5701 [dev] [5.4] Removing connection to endpoint [10.0.0.2]:5701 Cause => x",
        "[h]:5701 [dev] [5.4] Removing Member [10.0.0.2]:5701 - 9f from the split-brain list",
        "[h]:5701 [dev] [5.4] Member [10.0.0.2]:5701 - 9f has left cluster!",
        "[h]:5701 [dev] [5.4] ... with suspected members: [Member [10.0.0.2]:5701 - 9f]",
    ):
        assert hazelcast_classify(quiet) is None, quiet


def test_infinispan_node_lines_and_socket_addresses() -> None:
    joined, left = (
        node("ISPN100000: Node a-1 joined the cluster"),
        node("ISPN100001: Node a-1 left the cluster"),
    )
    assert joined is not None and (joined.kind, joined.member) == ("member-joined", "a-1")
    assert left is not None and (left.kind, left.member) == ("member-left", "a-1")
    assert node("ISPN100008: Updating cache members list [a-1], topology id 21") is None
    assert normalise_member("/0:0:0:0:0:0:0:1:4000") == "[::1]:4000"
    assert normalise_member("host/fe80:0:0:0:0:0:0:1%eth0:4000") == "[fe80::1]:4000"


def test_jgroups_suspicions_of_every_version_are_departures_and_mentions_are_none() -> None:
    lines = {
        "diff=1500, mbr vm-34711 is dead (passing up SUSPECT event)": ("vm-34711", "suspect"),
        "5f7daed5d167-29951 is dead (passing up SUSPECT event)": ("5f7daed5d167-29951", "suspect"),
        "[node2, node3] are dead (passing up SUSPECT event)": ("node2", "suspect"),
        "node1(v=16.0.0): sending up SUSPECT([node2])": ("node2", "suspect"),
        "suspecting vm-34711 (own address is vm-5408)": ("vm-34711", "suspect"),
        "edg-perf01-10536: suspecting [edg-perf05-51639]": ("edg-perf05-51639", "suspect"),
        "haven't received a heartbeat from a-1 for 10992 ms, adding it to suspect list": (
            "a-1",
            "heartbeat",
        ),
        "b-2: haven't received a heartbeat from a-1 in timeout period (40000 ms), adding it to "
        "suspect list": ("a-1", "heartbeat"),
    }
    for message, (member, detail) in lines.items():
        draft = suspect(message)
        assert draft is not None and draft.kind == "member-left", message
        assert (draft.member, draft.detail, draft.source) == (member, detail, "jgroups"), message
    assert suspect("[node2, node3] are dead (passing up SUSPECT event)").members == (  # type: ignore[union-attr]
        "node2",
        "node3",
    )
    for mention in (
        "verifying that [node1] is dead",
        "received SUSPECT message from vm-5408: suspects=[vm-34711]",
        "79e078919f2e-55593: suspect is 5f7daed5d167-29951, completed false",
        "suspect=5f7daed5d167-29951",
        "new=[], suspected=[], leaving=[], installing view",
        "adjusted suspected_mbrs: []",
        "Suspected member list is empty, suspecting nobody today",
        "[] are dead (passing up SUSPECT event)",
    ):
        assert suspect(mention) is None, mention


def test_jgroups_2x_views_have_no_size() -> None:
    for message, members in (
        ("** view: [vm-5408|2] [vm-5408]", ("vm-5408",)),
        ("Received new cluster view: [10.0.0.1:7800|3] [10.0.0.1:7800, 10.0.0.2:7800]",
         ("10.0.0.1:7800", "10.0.0.2:7800")),
        ("new=[], suspected=[b], leaving=[], new view: [a|4] [a]", ("a",)),
    ):  # fmt: skip
        draft = view(message)
        assert draft is not None and draft.members == members, message
    assert view("join_rsp=view: [vm-5408|1] [vm-5408, vm-34711], digest: vm-5408") is None
    assert view("** viewed: [a|1] [a]") is None
