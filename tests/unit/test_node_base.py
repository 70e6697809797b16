"""The new node's CATALINA_BASE from the reference's (add-node step 2): server.xml's route,
addresses and static members, setenv's renamed properties and the Joget javaagent rule, the
peers' member lists, and the archive built from the reference's."""

from __future__ import annotations

import io
import tarfile

import pytest

from console.config.model import Node
from console.operations.wizards.node_base import (
    BaseError,
    Member,
    build_base,
    members,
    server_xml_for,
    setenv_for,
    with_member,
    without_member,
)

SERVER_XML = """<?xml version="1.0" encoding="UTF-8"?>
<!-- node1 -->
<Server port="8005" address="10.0.0.11" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector address="10.0.0.11" port="8080" protocol="HTTP/1.1" />
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="node1">
      <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster">
        <Channel className="org.apache.catalina.tribes.group.GroupChannel">
          <Membership className="org.apache.catalina.tribes.membership.StaticMembershipService">
            <LocalMember className="org.apache.catalina.tribes.membership.StaticMember"
                         uniqueId="{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}" />
            <Member className="org.apache.catalina.tribes.membership.StaticMember"
                    host="10.0.0.12" port="4000" uniqueId="{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2}" />
            <Member className="org.apache.catalina.tribes.membership.StaticMember"
                    host="10.0.0.13" port="4000" uniqueId="{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,3}" />
          </Membership>
          <Receiver className="org.apache.catalina.tribes.transport.nio.NioReceiver"
                    address="10.0.0.11" port="4000" />
        </Channel>
      </Cluster>
    </Engine>
  </Service>
</Server>
"""
MULTICAST_XML = """<Server port="8005">
  <Engine name="Catalina" jvmRoute="node1">
    <Membership className="org.apache.catalina.tribes.membership.McastService"
                address="228.0.0.4" port="45564" />
    <Receiver address="10.0.0.11" port="4000" />
  </Engine>
</Server>
"""


def _node(name: str, host: str, base: str) -> Node:
    return Node(
        name=name,
        host=host,
        ssh_user=None,
        ssh_port=None,
        catalina_base=base,
        logs=(),
        start=f"{base}/bin/start.sh",
        stop=f"{base}/bin/stop.sh",
        jvm_route=name,
    )


REF = _node("node1", "10.0.0.11", "/srv/node1")
NEW = _node("node4", "10.0.0.14", "/srv/node4")


def test_server_xml_gets_route_addresses_and_a_member_list_with_the_reference() -> None:
    text, own = server_xml_for(SERVER_XML, REF, NEW)
    assert 'jvmRoute="node4"' in text and 'jvmRoute="node1"' not in text
    assert 'address="10.0.0.11"' not in text and text.count('address="10.0.0.14"') == 3
    local, listed = members(text)
    assert local == "{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,4}"
    assert [(m.host, m.unique_id[-3:]) for m in listed] == [
        ("10.0.0.12", ",2}"),
        ("10.0.0.13", ",3}"),
        ("10.0.0.11", ",1}"),
    ]
    assert own == Member("10.0.0.14", "4000", "{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,4}")
    assert "<!-- node1 -->" in text  # comments and layout kept


def test_multicast_membership_needs_no_member_list() -> None:
    text, own = server_xml_for(MULTICAST_XML, REF, NEW)
    assert own is None
    assert 'jvmRoute="node4"' in text and 'address="10.0.0.14"' in text
    assert 'address="228.0.0.4"' in text


def test_a_server_xml_without_a_jvm_route_is_refused() -> None:
    with pytest.raises(BaseError, match="jvmRoute"):
        server_xml_for("<Server><Engine name='x'/></Server>", REF, NEW)


def test_peers_gain_the_member_once_and_lose_it_again() -> None:
    member = Member("10.0.0.14", "4000", "{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,4}")
    added = with_member(SERVER_XML, member)
    assert [m.host for m in members(added)[1]] == ["10.0.0.12", "10.0.0.13", "10.0.0.14"]
    assert with_member(added, member) == added
    assert without_member(added, "10.0.0.14", "4000") == SERVER_XML


SETENV = (
    "# node1\n"
    'JAVA_OPTS="$JAVA_OPTS -Xmx1g -javaagent:/opt/other.jar -Dwflow.name=node1 '
    '-javaagent:/opt/joget/wflow-cluster.jar -Dsandbox.node=node1"\n'
    'CATALINA_PID="/srv/node1/temp/catalina.pid"\n'
)


def test_joget_name_goes_right_before_the_cluster_agent_which_is_the_first_agent() -> None:
    text = setenv_for(SETENV, REF, NEW, joget=True)
    opts = text.splitlines()[1].split('"')[1].split()
    assert opts.index("-Dwflow.name=node4") + 1 == opts.index(
        "-javaagent:/opt/joget/wflow-cluster.jar"
    )
    agents = [o for o in opts if o.startswith("-javaagent:")]
    assert agents[0].endswith("wflow-cluster.jar")
    assert "-Dwflow.name=node1" not in text and "-Dsandbox.node=node4" in opts
    assert text.startswith("# node1\n")


def test_joget_without_the_agent_still_gets_its_name() -> None:
    text = setenv_for('JAVA_OPTS="$JAVA_OPTS -Xmx1g"\n', REF, NEW, joget=True)
    assert '-Dwflow.name=node4"' in text


def test_other_profiles_keep_their_setenv_but_for_renamed_properties() -> None:
    text = setenv_for('JAVA_OPTS="-Dapp.node=node1 -Dx=node10"\n', REF, NEW, joget=False)
    assert text == 'JAVA_OPTS="-Dapp.node=node4 -Dx=node10"\n'


def _archive(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo("./" + path)
            info.size, info.mode = len(data), 0o640
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_the_base_moves_paths_skips_logs_and_shows_its_diff() -> None:
    archive = _archive(
        {
            "conf/server.xml": SERVER_XML.encode(),
            "bin/setenv.sh": SETENV.encode(),
            "logs/catalina.out": b"old log",
            "webapps/app/index.jsp": b"/srv/node1 stays in web apps",
        }
    )
    built = build_base(archive, REF, NEW, joget=True)
    assert set(built.files) == {"conf/server.xml", "bin/setenv.sh", "webapps/app/index.jsp"}
    assert set(built.diffs) == {"conf/server.xml", "bin/setenv.sh"}
    assert built.member is not None and built.member.host == "10.0.0.14"
    with tarfile.open(fileobj=io.BytesIO(built.archive)) as tar:
        setenv = tar.extractfile("bin/setenv.sh")
        assert setenv is not None and b"/srv/node4/temp/catalina.pid" in setenv.read()
        app = tar.extractfile("webapps/app/index.jsp")
        assert app is not None and app.read() == b"/srv/node1 stays in web apps"
        names = tar.getnames()
        assert "logs" in names and "logs/catalina.out" not in names


def test_a_base_without_server_xml_is_refused() -> None:
    with pytest.raises(BaseError, match=r"no conf/server\.xml"):
        build_base(_archive({"bin/setenv.sh": b""}), REF, NEW, joget=False)
