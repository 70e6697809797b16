"""Checks on data the nodes share: the database grants, the datasource each node uses, the
license each node holds."""

from __future__ import annotations

from collections import Counter

from console.doctor.checks_tomcat import _partial
from console.doctor.facts import ClusterFacts
from console.doctor.model import Finding, Verdict, check


@check(
    "database-grants",
    "the database user holds the grants the profile requires",
    "SHOW GRANTS as the application user",
)
def database_grants(facts: ClusterFacts) -> Verdict:
    config = facts.inventory.database
    if config is None:
        return Verdict(skipped="no [database] in cluster.toml")
    health = facts.database
    if health is None:
        return Verdict(unknown="the database was not read")
    if not health.reachable:
        return Verdict(
            findings=(
                Finding(
                    "database-grants",
                    "critical",
                    None,
                    str(facts.inventory.path),
                    None,
                    f"the database {config.url} cannot be reached from here: {health.error}",
                    "the grants (and the application's data) cannot be checked",
                    "check the [database] URL and password, and that the server runs",
                ),
            )
        )
    if health.grants_ok is None:
        return Verdict(unknown=f"the grants could not be read: {health.error}")
    if health.grants_ok:
        return Verdict()
    missing = ", ".join(sorted(health.missing_grants))
    return Verdict(
        findings=(
            Finding(
                "database-grants",
                "critical",
                None,
                None,
                None,
                f"{config.user} lacks {missing} on {config.database}",
                f"the {facts.inventory.profile.name} profile needs them: upgrades and some "
                "features fail half-way without them",
                f"GRANT {missing} ON `{config.database}`.* TO '{config.user}'@'...'",
            ),
        )
    )


@check(
    "datasource",
    "every node uses the same database",
    "datasource definitions (server.xml, "
    "context files, Joget's app_datasource, WSO2's master-datasources.xml)",
)
def datasource(facts: ClusterFacts) -> Verdict:
    seen = {n.name: n for n in facts.reachable if n.datasources}
    if not seen:
        return Verdict(skipped="no datasource definition found in the files read")
    targets = {name: tuple(sorted({d.target for d in n.datasources})) for name, n in seen.items()}
    usual = Counter(targets.values()).most_common(1)[0][0]
    findings = []
    for name, node in seen.items():
        if targets[name] == usual:
            continue
        odd = next((d for d in node.datasources if d.target not in usual), node.datasources[0])
        findings.append(
            Finding(
                "datasource",
                "critical",
                name,
                odd.file,
                odd.line,
                f"{name} uses {odd.target}; the other nodes use {', '.join(usual) or 'none'}",
                "nodes on different databases show users different data and corrupt shared "
                "state (sessions, locks, caches)",
                "make every node's datasource URL and user the same",
            )
        )
    return _partial(findings, facts)


@check("license", "every node's license is activated for its system key", "the license page")
def license(facts: ClusterFacts) -> Verdict:
    config = facts.inventory.license
    if config.kind == "none" or not config.page:
        return Verdict(skipped="no license to check ([license] kind none or no page)")
    findings = []
    for node in facts.nodes:
        page = node.license
        if page is None:
            continue
        if page.error or page.status is None:
            findings.append(
                Finding(
                    "license",
                    "warning",
                    node.name,
                    page.url,
                    None,
                    f"{node.name}: the license page could not be read "
                    f"({page.error or 'no status on it'})",
                    "an unlicensed node may refuse users or run degraded",
                    "open the page and check the node's license by hand",
                )
            )
            continue
        if page.status == "activated":
            continue
        remembered = facts.remembered_keys.get(node.name)
        changed = remembered is not None and remembered != page.system_key
        text = f"{node.name}: license not activated"
        if changed:
            text += (
                f": the system key changed since activation (was {remembered}, "
                f"now {page.system_key})"
            )
        # A node that lost its activation (its system key changed) is what users hit first;
        # one never activated yet (a new node, a fresh sandbox) is work to do, not an outage.
        findings.append(
            Finding(
                "license",
                "critical" if changed else "warning",
                node.name,
                page.url,
                None,
                text,
                "a per-node license is bound to the node's system key; without it the product "
                "runs unlicensed on that node",
                f"request a license for system key {page.system_key} and activate it on {page.url}",
            )
        )
    return _partial(findings, facts)
