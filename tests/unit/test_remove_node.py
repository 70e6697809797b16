"""remove-node's pure parts: the node's StaticMember cut from a peer's server.xml."""

from __future__ import annotations

from console.operations.wizards.remove_node import _edit

SERVER_XML = """\
<Server>
  <Membership className="org.apache.catalina.tribes.membership.StaticMembershipService">
    <LocalMember className="org.apache.catalina.tribes.membership.StaticMember"
                 uniqueId="{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}" />
    <Member className="StaticMember" host="10.0.0.2" port="4000" uniqueId="{2}" />
    <Member className="StaticMember" host="10.0.0.3" port="4000" uniqueId="{3}" />
    <Member className="StaticMember" host="10.0.0.3" port="4001" uniqueId="{4}" />
  </Membership>
</Server>
"""


def test_the_nodes_member_on_its_port_goes_and_nothing_else() -> None:
    text = _edit(SERVER_XML, "10.0.0.3", "4000")
    assert 'host="10.0.0.3" port="4000"' not in text
    assert 'host="10.0.0.3" port="4001"' in text and 'host="10.0.0.2"' in text
    assert text.count("\n") == SERVER_XML.count("\n") - 1


def test_an_unknown_port_takes_every_member_on_the_host_and_other_files_stay() -> None:
    text = _edit(SERVER_XML, "10.0.0.3", None)
    assert 'host="10.0.0.3"' not in text and 'host="10.0.0.2"' in text
    assert _edit(SERVER_XML, "10.0.0.9", "4000") == SERVER_XML
    multicast = "<Server><Cluster/></Server>\n"
    assert _edit(multicast, "10.0.0.3", "4000") == multicast
