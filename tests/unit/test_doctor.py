"""The doctor's checks on recorded configuration (tests/unit/data/doctor/, products' documented
formats): each misconfiguration is found on the right node, file and line; a good cluster gives
nothing. WSO2 and frevvo were not tried for real: their checks are tested on these files only."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from console.config import load_inventory_text
from console.config.model import Inventory
from console.doctor.facts import BalancerFacts, ClusterFacts, LicenseFacts, node_facts, paths_for
from console.doctor.model import DoctorReport, Finding, Verdict, registry
from console.doctor.run import run_checks
from probes.balancer.model import Balancer, BalancerPage, Worker
from probes.database import DatabaseHealth
from probes.doctor.remote import RawNode
from probes.files import SharedDirHealth

DATA = Path(__file__).parent / "data" / "doctor"
BASE = "/opt/tomcat"


def data(path: str) -> str:
    return (DATA / path).read_text(encoding="utf-8")


def inventory(
    profile: str = "tomcat", hosts: tuple[str, ...] = ("10.0.0.1", "10.0.0.2"), extra: str = ""
) -> Inventory:
    lines = ["[cluster]", 'name = "t"', f'profile = "{profile}"']
    for index, host in enumerate(hosts, 1):
        lines += [
            "[[nodes]]",
            f'name = "node{index}"',
            f'host = "{host}"',
            f'catalina_base = "{BASE}"',
            f'http = "http://{host}:8080/jw"',
        ]
    return load_inventory_text("\n".join(lines) + "\n" + extra, Path("/tmp/cluster.toml"))


def static_server(route: str, address: str, port: int, members: list[tuple[str, int]]) -> str:
    text = data("tomcat/server-static.xml")
    member_lines = "\n".join(
        '            <Member className="org.apache.catalina.tribes.membership.StaticMember"'
        f' host="{host}" port="{p}" uniqueId="{{0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,{i}}}"/>'
        for i, (host, p) in enumerate(members)
    )
    return (
        text.replace("@@route", route)
        .replace("@@address", address)
        .replace("@@port", str(port))
        .replace("@@members", member_lines)
    )


def healthy_files(index: int) -> dict[str, str]:
    return {
        "server": data("tomcat/server-multicast.xml").replace("node01", f"node0{index}"),
        "web": data("tomcat/web-distributable.xml"),
    }


def facts(
    inv: Inventory,
    files: dict[str, dict[str, str]] | None = None,
    sections: dict[str, dict[str, str]] | None = None,
    **cluster: object,
) -> ClusterFacts:
    """ClusterFacts as a live run builds them, from files given by role (server, web, ...) or
    by absolute path, per node; the nodes not given get the healthy files."""
    nodes = []
    for index, node in enumerate(inv.nodes, 1):
        paths = paths_for(inv, node)
        given = (files or {}).get(node.name, healthy_files(index))
        raw = RawNode(
            {paths.get(role, role): text for role, text in given.items()},
            {"hostname": node.name, "resolves": f"via getent\n{node.host}"}
            | (sections or {}).get(node.name, {}),
        )
        nodes.append(node_facts(inv, node, raw, frozenset({node.host})))
    return ClusterFacts(inv, nodes, **cluster)  # type: ignore[arg-type]


def findings(cluster: ClusterFacts, check: str | None = None) -> list[Finding]:
    found = [f for result in run_checks(cluster) for f in result.findings]
    return [f for f in found if check is None or f.check == check]


def where(found: list[Finding]) -> list[tuple[str | None, str | None, int | None]]:
    return [(f.node, f.file, f.line) for f in found]


def test_a_good_cluster_gives_no_finding_and_lists_every_check() -> None:
    results = run_checks(facts(inventory()))
    assert [f for r in results for f in r.findings] == []
    assert [r.check.id for r in results] == [c.id for c in registry()]
    assert len(results) >= 15
    assert {r.outcome for r in results} <= {"pass", "skipped"}


def test_a_duplicate_jvm_route_is_found_on_the_second_node_with_its_line() -> None:
    server = data("tomcat/server-multicast.xml")  # jvmRoute node01 on both
    cluster = facts(inventory(), {"node1": {"server": server}, "node2": {"server": server}})
    assert where(findings(cluster, "jvm-route")) == [("node2", f"{BASE}/conf/server.xml", 12)]
    assert "'node01' is already node1's" in findings(cluster, "jvm-route")[0].text


def test_a_missing_jvm_route_is_critical() -> None:
    cluster = facts(inventory(), {"node1": {"server": data("tomcat/server-no-route.xml")}})
    (found,) = findings(cluster, "jvm-route")
    assert (found.node, found.severity, found.line) == ("node1", "critical", 5)


def _page(*workers: tuple[str, str]) -> BalancerPage:
    return BalancerPage(
        "http://lb/balancer-manager",
        (
            Balancer(
                "cluster",
                "n",
                tuple(
                    Worker(
                        url,
                        route,
                        None,
                        1.0,
                        0,
                        "Init Ok",
                        (),
                        True,
                        False,
                        False,
                        False,
                        0,
                        0,
                        0,
                        0,
                        0,
                    )
                    for url, route in workers
                ),
            ),
        ),
    )


def test_a_balancer_route_that_is_not_the_nodes_jvm_route_is_found_per_balancer() -> None:
    inv = inventory(extra='[[balancers]]\nname = "lb"\nkind = "apache"\nurl = "http://lb/b"\n')
    page = _page(("http://10.0.0.1:8080", "node01"), ("http://10.0.0.2:8080", "node2"))
    cluster = facts(inv, balancers=[BalancerFacts("lb", page)])
    (found,) = findings(cluster, "balancer-route")
    assert (found.node, found.line) == ("node2", 12)
    assert "route 'node2'" in found.text and "'node02'" in found.text

    unread = facts(inv, balancers=[BalancerFacts("lb", None, "HTTP 503")])
    result = next(r for r in run_checks(unread) if r.check.id == "balancer-route")
    assert result.outcome == "unknown" and "HTTP 503" in (result.reason or "")


def test_a_commented_out_cluster_is_no_cluster() -> None:
    cluster = facts(
        inventory(),
        {
            "node2": {
                "server": data("tomcat/server-cluster-commented.xml"),
                "web": data("tomcat/web-distributable.xml"),
            }
        },
    )
    assert where(findings(cluster, "cluster-element")) == [("node2", f"{BASE}/conf/server.xml", 8)]


def test_an_application_that_is_not_distributable_is_found_in_its_web_xml() -> None:
    files = healthy_files(2) | {"web": data("tomcat/web-not-distributable.xml")}
    cluster = facts(inventory(), {"node2": files})
    assert where(findings(cluster, "distributable")) == [
        ("node2", f"{BASE}/webapps/jw/WEB-INF/web.xml", 2)
    ]


def test_a_session_manager_that_does_not_replicate_is_found_in_the_context_file() -> None:
    app_xml = f"{BASE}/conf/Catalina/localhost/jw.xml"
    files = healthy_files(1) | {app_xml: data("tomcat/context-persistent-manager.xml")}
    (found,) = findings(facts(inventory(), {"node1": files}), "distributable")
    assert (found.node, found.file, found.line) == ("node1", app_xml, 4)
    assert "PersistentManager" in found.text


def test_static_member_lists_must_name_every_peer() -> None:
    inv = inventory(hosts=("10.0.0.1", "10.0.0.2", "10.0.0.3"))
    every = [("10.0.0.1", 4000), ("10.0.0.2", 4000), ("10.0.0.3", 4000)]
    files = {
        f"node{i}": {
            "server": static_server(
                f"node{i}", f"10.0.0.{i}", 4000, [m for m in every if m[0] != f"10.0.0.{i}"]
            ),
            "web": data("tomcat/web-distributable.xml"),
        }
        for i in (1, 2)
    }
    files["node3"] = {
        "server": static_server("node3", "10.0.0.3", 4000, [("10.0.0.2", 4000)]),
        "web": data("tomcat/web-distributable.xml"),
    }
    found = findings(facts(inv, files), "membership")
    assert [(f.node, f.line) for f in found] == [("node3", 21)]
    assert "does not name node1 (10.0.0.1:4000)" in found[0].text


def test_a_node_on_another_multicast_group_or_receiver_port_is_found() -> None:
    other = data("tomcat/server-multicast.xml").replace('port="45564"', 'port="45565"')
    other = other.replace('port="4000"', 'port="4001"').replace("node01", "node03")
    inv = inventory(hosts=("10.0.0.1", "10.0.0.2", "10.0.0.3"))
    found = findings(
        facts(inv, {"node3": {"server": other, "web": data("tomcat/web-distributable.xml")}}),
        "membership",
    )
    assert [(f.node, f.severity, f.line) for f in found] == [
        ("node3", "critical", 19),
        ("node3", "warning", 24),
    ]
    assert "45565" in found[0].text


def test_xml_with_a_doctype_is_refused_not_expanded() -> None:
    cluster = facts(
        inventory(),
        {
            "node1": {
                "server": data("tomcat/server-doctype.xml"),
                "web": data("tomcat/web-distributable.xml"),
            }
        },
    )
    (found,) = findings(cluster, "config-files")
    assert found.node == "node1" and "DOCTYPE" in found.text
    assert "lol" not in " ".join(f.text for f in findings(cluster))


@pytest.mark.parametrize(
    ("resolves", "severity"),
    [
        ("via getent\n127.0.1.1", "critical"),
        ("via /srv/hosts\n127.0.1.1", "critical"),
        ("via getent", "warning"),
    ],
)
def test_a_host_name_on_a_loopback_address_is_found(resolves: str, severity: str) -> None:
    cluster = facts(inventory(), sections={"node2": {"resolves": resolves}})
    (found,) = findings(cluster, "hostname-loopback")
    assert (found.node, found.severity) == ("node2", severity)
    assert found.file == ("/srv/hosts" if "/srv" in resolves else "/etc/hosts")


def test_a_loopback_node_resolving_to_itself_is_fine() -> None:
    inv = inventory(hosts=("127.0.8.11", "127.0.8.12"))
    assert findings(facts(inv), "hostname-loopback") == []


def test_a_skewed_clock_is_found_on_the_node_that_is_off() -> None:
    cluster = facts(inventory(hosts=("10.0.0.1", "10.0.0.2", "10.0.0.3")))
    for node, offset in zip(cluster.nodes, (0.0, 0.4, 3.5), strict=True):
        node.clock_offset, node.clock_error = offset, 0.01
    (found,) = findings(cluster, "clock-skew")
    assert found.node == "node3" and "ahead" in found.text
    cluster.nodes[2].clock_offset = 1.9
    assert findings(cluster, "clock-skew") == []


def test_a_shared_directory_read_only_on_a_node_is_found() -> None:
    inv = inventory(extra='[shared_dir]\npath = "/srv/shared"\n')
    cluster = facts(inv)
    cluster.nodes[0].shared = SharedDirHealth(True, "nfs", written=True)
    cluster.nodes[1].shared = SharedDirHealth(False, "nfs", reason="the directory is not writable")
    (found,) = findings(cluster, "shared-dir")
    assert (found.node, found.file) == ("node2", "/srv/shared")
    assert "not writable" in found.text


def _markers(cluster: ClusterFacts, seen: dict[str, set[str]]) -> None:
    for node in cluster.nodes:
        node.shared = SharedDirHealth(True, "nfs", written=True)
        node.shared_wrote = True
        node.shared_seen = frozenset(seen[node.name])


def test_a_node_that_does_not_see_the_others_markers_is_not_on_the_shared_filesystem() -> None:
    inv = inventory(
        hosts=("10.0.0.1", "10.0.0.2", "10.0.0.3"), extra='[shared_dir]\npath = "/srv/s"\n'
    )
    cluster = facts(inv)
    _markers(cluster, {"node1": {"node2"}, "node2": {"node1"}, "node3": set()})
    (found,) = findings(cluster, "shared-dir")
    assert (found.node, found.file) == ("node3", "/srv/s")
    assert "node3 does not see the files node1, node2 wrote in /srv/s" in found.text

    _markers(
        cluster,
        {"node1": {"node2", "node3"}, "node2": {"node1", "node3"}, "node3": {"node1", "node2"}},
    )
    assert findings(cluster, "shared-dir") == []


def test_missing_grants_are_found() -> None:
    inv = inventory(extra='[database]\nurl = "mysql://joget@db1/jwdb"\n')
    health = DatabaseHealth(True, grants_ok=False, missing_grants=frozenset({"INDEX", "ALTER"}))
    (found,) = findings(facts(inv, database=health), "database-grants")
    assert "ALTER, INDEX" in found.text and "GRANT ALTER, INDEX ON `jwdb`" in found.fix


def test_joget_nodes_on_another_database_are_found_in_their_datasource_file() -> None:
    inv = inventory("joget")
    home = "/opt/joget/shared/wflow"
    args = (
        data("joget/cmdline-good.txt")
        .replace("apache-tomcat-9.0.62", "tomcat")
        .replace("/opt/joget/tomcat", BASE)
    )

    def node(url: str) -> dict[str, str]:
        default = data("joget/app_datasource-default.properties").replace("db1\\:3306/jwdb", url)
        return healthy_files(1) | {
            f"{home}/app_datasource.properties": data("joget/app_datasource.properties"),
            f"{home}/app_datasource-default.properties": default,
        }

    sections = {n: {"cmdline 1": args} for n in ("node1", "node2")}
    good = facts(
        inv, {"node1": node("db1\\:3306/jwdb"), "node2": node("db1\\:3306/jwdb")}, sections
    )
    assert [d.target for d in good.nodes[0].datasources] == ["db1:3306/jwdb as joget"]
    assert findings(good, "datasource") == []
    bad = facts(inv, {"node1": node("db1\\:3306/jwdb"), "node2": node("db2\\:3306/jwdb")}, sections)
    (found,) = findings(bad, "datasource")
    assert (found.node, found.file, found.line) == (
        "node2",
        f"{home}/app_datasource-default.properties",
        4,
    )
    assert "db2:3306/jwdb" in found.text


def test_the_datasource_of_a_context_resource_is_compared_too() -> None:
    app_xml = f"{BASE}/conf/Catalina/localhost/jw.xml"
    resource = data("tomcat/context-persistent-manager.xml").replace(
        '<Manager className="org.apache.catalina.session.PersistentManager"',
        '<Manager className="org.apache.catalina.ha.session.DeltaManager"',
    )
    other = resource.replace("db1:3306/jwdb", "db1:3306/jwdb_copy")
    cluster = facts(
        inventory(),
        {
            "node1": healthy_files(1) | {app_xml: resource},
            "node2": healthy_files(2) | {app_xml: other},
        },
    )
    assert [(f.check, f.node, f.line) for f in findings(cluster)] == [("datasource", "node2", 7)]


@pytest.mark.parametrize(
    ("cmdline", "expected"),
    [
        ("joget/cmdline-good.txt", []),
        ("joget/cmdline-wrong-order.txt", ["not the first javaagent", "comes after"]),
    ],
)
def test_joget_cluster_agent_order(cmdline: str, expected: list[str]) -> None:
    inv = inventory("joget")
    args = data(cmdline).replace("/opt/joget/apache-tomcat-9.0.62", BASE)
    cluster = facts(inv, sections={"node1": {"cmdline 7": args}, "node2": {"cmdline 8": args}})
    found = findings(cluster, "joget-javaagent")
    assert sorted({f.node or "" for f in found}) == (["node1", "node2"] if expected else [])
    for text in expected:
        assert any(text in f.text for f in found), (text, found)


def test_joget_nodes_sharing_a_host_need_a_wflow_name() -> None:
    inv = inventory("joget", hosts=("10.0.0.1", "10.0.0.1"))
    args = data("joget/cmdline-no-name.txt").replace("/opt/joget/apache-tomcat-9.0.62", BASE)
    cluster = facts(inv, sections={"node1": {"cmdline 7": args}})
    found = findings(cluster, "joget-javaagent")
    assert [f.node for f in found] == ["node1"] and "no -Dwflow.name" in found[0].text


def test_an_unlicensed_node_and_a_changed_system_key_are_found() -> None:
    inv = inventory(extra='[license]\nkind = "per-node"\npage = "/license/"\n')
    cluster = facts(inv, remembered_keys={"node2": "AAAA-BBBB"})
    cluster.nodes[0].license = LicenseFacts("u1", "activated", "1111-2222")
    cluster.nodes[1].license = LicenseFacts("u2", "not activated", "CCCC-DDDD")
    (found,) = findings(cluster, "license")
    assert found.node == "node2" and found.severity == "critical"
    assert "system key changed since activation (was AAAA-BBBB, now CCCC-DDDD)" in found.text


def test_a_node_never_activated_is_a_warning_one_that_lost_its_activation_critical() -> None:
    inv = inventory(extra='[license]\nkind = "per-node"\npage = "/license/"\n')
    cluster = facts(inv)
    cluster.nodes[0].license = LicenseFacts("u1", "not activated", "1111-2222")
    cluster.nodes[1].license = LicenseFacts("u2", "activated", "CCCC-DDDD")
    (found,) = findings(cluster, "license")
    assert found.node == "node1" and found.severity == "warning"  # a fresh sandbox is not red


def test_unload_delay_below_what_frevvo_expects_is_found_with_its_file() -> None:
    inv = inventory("frevvo")
    meta = f"{BASE}/webapps/jw/META-INF/context.xml"
    conf = f"{BASE}/conf/context.xml"
    cluster = facts(
        inv,
        {
            "node1": healthy_files(1) | {conf: data("frevvo/context.xml")},
            "node2": healthy_files(2) | {meta: '<Context unloadDelay="2000"/>'},
        },
    )
    (found,) = findings(cluster, "unload-delay")
    assert (found.node, found.file, found.line) == ("node2", meta, 1)
    assert "2000 ms" in found.text and "40000" in found.text
    assert findings(facts(inventory("tomcat")), "unload-delay") == []


def _wso2(host: str) -> dict[str, str]:
    return {
        "repository/conf/axis2/axis2.xml": data("wso2/axis2.xml").replace(
            ">10.0.0.1</parameter>", f">{host}</parameter>"
        ),
        "repository/conf/carbon.xml": data("wso2/carbon.xml"),
        "repository/conf/datasources/master-datasources.xml": data("wso2/master-datasources.xml"),
    }


def test_wso2_task_server_mode_auto_and_wka_members_missing_a_node() -> None:
    inv = inventory("wso2", hosts=("10.0.0.1", "10.0.0.2", "10.0.0.3"))
    files = {}
    for index, node in enumerate(inv.nodes, 1):
        base = healthy_files(index)
        files[node.name] = base | {f"{BASE}/{k}": v for k, v in _wso2(node.host).items()}
    cluster = facts(inv, files)
    tasks = findings(cluster, "wso2-task-server")
    assert [(f.node, f.line) for f in tasks] == [("node1", 12), ("node2", 12), ("node3", 12)]
    wka = findings(cluster, "hazelcast-wka")
    assert {(f.node, f.file, f.line) for f in wka} == {
        (n, f"{BASE}/repository/conf/axis2/axis2.xml", 17) for n in ("node1", "node2")
    }
    assert all("node3 (10.0.0.3)" in f.text for f in wka)
    assert [d.target for d in cluster.nodes[0].datasources] == ["db1:3306/regdb as wso2"]
    assert "not-a-real-password" not in repr(cluster.nodes[0].datasources)


def test_deployed_artifacts_that_differ_are_found() -> None:
    inv = inventory(hosts=("10.0.0.1", "10.0.0.2", "10.0.0.3"))
    cluster = facts(inv)
    for node in cluster.nodes:
        node.artifacts = {"jw.war": "F:1-10", "jw": "D:5-20"}
    cluster.nodes[2].artifacts = {"jw.war": "F:9-11", "jw": "D:5-20"}
    (found,) = findings(cluster, "artifact-drift")
    assert (found.node, found.file) == ("node3", f"{BASE}/webapps/jw.war")


def test_an_unreachable_node_is_a_finding_and_its_checks_say_unknown() -> None:
    cluster = facts(inventory())
    cluster.nodes[1].error = "node2: no answer within 20 s"
    results = {r.check.id: r for r in run_checks(cluster)}
    assert [f.node for f in results["nodes-read"].findings] == ["node2"]
    assert results["jvm-route"].outcome == "unknown"


def test_a_check_that_breaks_is_unknown_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    import console.doctor.model as model

    def broken(_: ClusterFacts) -> Verdict:
        raise RuntimeError("bug")

    patched = [replace(c, function=broken) if c.id == "membership" else c for c in model.REGISTRY]
    monkeypatch.setattr(model, "REGISTRY", patched)
    results = {r.check.id: r for r in run_checks(facts(inventory()))}
    assert results["membership"].outcome == "unknown"
    assert results["jvm-route"].outcome == "pass"


def test_the_json_shape_is_stable() -> None:
    report = DoctorReport("t", run_checks(facts(inventory(), {"node1": {}})), 1.234)
    document = json.loads(json.dumps(report.to_json()))
    assert set(document) == {"cluster", "seconds", "findings", "checks", "notes"}
    assert set(document["findings"][0]) == {
        "check",
        "severity",
        "node",
        "file",
        "line",
        "text",
        "why",
        "fix",
    }
    assert set(document["checks"][0]) == {"id", "title", "needs", "result", "findings", "reason"}
    assert document["findings"][0]["severity"] == "warning"


def test_a_password_in_a_jdbc_url_never_reaches_a_finding() -> None:
    app_xml = f"{BASE}/conf/Catalina/localhost/jw.xml"
    secret = "s3cr3t-Pa55"
    good = (
        '<Context><Resource name="d" type="javax.sql.DataSource" username="joget" url="{}"/>'
        "</Context>"
    )
    cluster = facts(
        inventory(),
        {
            "node1": healthy_files(1) | {app_xml: good.format("jdbc:mysql://db1/jwdb")},
            "node2": healthy_files(2)
            | {app_xml: good.format(f"jdbc:mysql://joget:{secret}@db9/jwdb?password={secret}")},
        },
    )
    report = DoctorReport("t", run_checks(cluster), 0.1)
    (found,) = report.findings
    assert found.node == "node2" and "db9:3306/jwdb" in found.text
    assert secret not in json.dumps(report.to_json())


def test_mangled_configuration_never_breaks_a_check() -> None:
    """Truncated, spliced and binary-laced files (what a half-written or hostile node returns):
    every check still gives a result; none fails itself."""
    import random

    rng = random.Random(16)
    sources = [
        data("tomcat/server-multicast.xml"),
        data("tomcat/web-distributable.xml"),
        data("wso2/axis2.xml"),
        data("joget/app_datasource-default.properties"),
    ]
    inv = inventory("wso2")
    for _ in range(300):
        mangled = {}
        for role in (
            "server",
            "web",
            f"{BASE}/repository/conf/axis2/axis2.xml",
            f"{BASE}/repository/conf/carbon.xml",
        ):
            text = rng.choice(sources)
            cut = rng.randrange(len(text) + 1)
            noise = "".join(chr(rng.randrange(0, 0x2FF)) for _ in range(rng.randrange(8)))
            mangled[role] = text[:cut] + noise + text[rng.randrange(len(text) + 1) :]
        results = run_checks(facts(inv, {"node1": mangled}))
        broken = [r.check.id for r in results if r.reason and "the check failed" in r.reason]
        assert broken == [], broken


def test_the_add_node_preflight_keeps_what_concerns_the_new_node() -> None:
    from console.doctor.preflight import restrict, with_node

    base = inventory(hosts=("10.0.0.1", "10.0.0.2"))
    new = replace(base.nodes[1], name="node3", host="10.0.0.3")
    inv = with_node(base, new)
    assert [n.name for n in inv.nodes] == ["node1", "node2", "node3"]
    every = [("10.0.0.1", 4000), ("10.0.0.2", 4000), ("10.0.0.3", 4000)]
    files = {
        f"node{i}": {
            "server": static_server(
                f"node{i}",
                f"10.0.0.{i}",
                4000,
                [m for m in every if m[0] != f"10.0.0.{i}" and (i == 3 or m[0] != "10.0.0.3")],
            ),
            "web": data("tomcat/web-distributable.xml"),
        }
        for i in (1, 2, 3)
    }
    files["node1"]["web"] = data("tomcat/web-not-distributable.xml")  # not the new node's
    report = DoctorReport("t", run_checks(facts(inv, files)), 0.1)
    assert {(f.check, f.node) for f in report.findings} == {
        ("membership", "node1"),
        ("membership", "node2"),
        ("distributable", "node1"),
    }
    kept = restrict(report, "node3")
    assert {(f.check, f.node) for f in kept.findings} == {
        ("membership", "node1"),
        ("membership", "node2"),
    }, "the peers' lists that do not name the new node; node1's own web.xml is not its concern"
    outcomes = {r.check.id: r.outcome for r in kept.results}
    assert outcomes["distributable"] == "pass" and outcomes["membership"] == "fail"
