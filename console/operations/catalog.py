"""Every wizard in one list: its name, title, key, scope and where its steps are declared.

This module imports nothing heavy, so the screens read their key bindings and palette entries
from it before the first frame. The registry (`console.operations.registry`) joins each entry
with its module's questions and steps; adding a wizard is one entry here and its module (which
exports `QUESTIONS` and `build(nodes)`).
"""

from __future__ import annotations

from dataclasses import dataclass

from console.operations.spec import Scope


@dataclass(frozen=True, slots=True)
class WizardEntry:
    name: str
    title: str
    """As the wizard's own definition says it (checked by the registry's test)."""
    scope: Scope
    label: str
    """The key bar's and the palette's words ("Drain node")."""
    summary: str
    module: str
    """The module that declares its steps: exports `QUESTIONS` and `build(nodes)`."""
    key: str | None = None
    """The dashboard key that opens it on the selected node (node wizards)."""


CATALOG: tuple[WizardEntry, ...] = (
    WizardEntry(
        "drain",
        "drain and shut down a node",
        "node",
        "Drain node",
        "take a node out of the balancers without failing a request, then stop it",
        "console.operations.wizards.drain",
        key="d",
    ),
    WizardEntry(
        "rejoin",
        "bring a drained node back",
        "node",
        "Rejoin node",
        "start a drained node, wait for membership, give it back to the balancers",
        "console.operations.wizards.rejoin",
        key="j",
    ),
    WizardEntry(
        "rolling-restart",
        "restart every node, one at a time",
        "cluster",
        "Rolling restart",
        "drain, stop, start and rejoin each node in turn (or those given)",
        "console.operations.wizards.rolling",
    ),
    WizardEntry(
        "deploy",
        "sync the deployed files from the source to every other node",
        "cluster",
        "Deploy sync",
        "rsync [deploy]'s source to the other nodes: preview, one at a time per cluster, "
        "in parallel, verified",
        "console.operations.wizards.deploy",
    ),
    WizardEntry(
        "deploy-rolling",
        "sync the deployed files node by node, each drained and restarted",
        "cluster",
        "Deploy sync, rolling",
        "for applications that need a restart: per node drain, stop, sync, start, rejoin",
        "console.operations.wizards.deploy_rolling",
    ),
    WizardEntry(
        "add-node",
        "add a new node to the cluster",
        "new-node",
        "Add node",
        "preflight a new host, build its Tomcat from a reference node, start it, add it to "
        "the balancers and cluster.toml",
        "console.operations.wizards.add_node",
    ),
    WizardEntry(
        "remove-node",
        "remove a node from the cluster",
        "node",
        "Remove node",
        "drain and stop a node, remove it from the balancers (runtime and configuration), "
        "from the peers' static membership and from cluster.toml",
        "console.operations.wizards.remove_node",
    ),
    WizardEntry(
        "license",
        "request and activate each node's license",
        "cluster",
        "License nodes",
        "read each node's license page on its own URL, write the request, take a key per "
        "node, activate and read back",
        "console.operations.wizards.license",
    ),
)
PLANNED: tuple[str, ...] = ()
"""Wizards of later issues: named, refused as not yet available."""


def entry(name: str) -> WizardEntry | None:
    return next((found for found in CATALOG if found.name == name), None)
