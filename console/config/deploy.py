"""The ``[deploy]`` table of cluster.toml: which directories the deploy sync keeps in step.

```toml
[deploy]
source = "node1:webapps/"       # NODE:PATH, an absolute local path, or a node alone: "node1"
target = "webapps/"             # with a source path only; default: the source's path
paths = ["deploy/", "osgi/modules/"]   # with a node alone (or no source): several directories
exclude = ["*.tmp"]
```

With a node alone as the source, or no ``source`` at all (then the first node is the source),
the directories are ``paths``, or the profile's defaults (Tomcat, Joget, frevvo ``webapps/``;
WSO2 ``repository/deployment/server/``; Liferay ``../deploy/`` and ``../osgi/modules/``, Liferay
Home being the parent of the bundle's Tomcat), each relative to the source node's and each
target node's catalina_base. Two directories may not lie one inside the other: a sync with
``--delete`` of the outer one would delete what the inner one brings.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path

from console.config.lines import FieldPath
from console.config.model import DeployConfig, DeployPath
from console.config.profiles import Profile
from console.config.reader import Table, TableReader

DEPLOY_FIELDS = ("source", "target", "paths", "exclude")


def _inside(inner: str, outer: str) -> bool:
    inner_parts = posixpath.normpath(inner).strip("/").split("/")
    outer_parts = posixpath.normpath(outer).strip("/").split("/")
    return inner_parts[: len(outer_parts)] == outer_parts


def _overlap(reader: TableReader, path: FieldPath, paths: Sequence[str]) -> None:
    for index, one in enumerate(paths):
        for other in paths[index + 1 :]:
            if _inside(one, other) or _inside(other, one):
                reader.error(
                    (*path, "paths"),
                    f"{one!r} and {other!r} overlap: one lies inside the other, and the sync "
                    "of the outer one (with --delete) would delete what the inner one brings",
                )
                return


def read_deploy(
    reader: TableReader, doc: Table, nodes: Sequence[str], profile: Profile
) -> DeployConfig | None:
    """The ``[deploy]`` table, or None without one; errors recorded on `reader`."""
    path: FieldPath = ("deploy",)
    table = reader.table(doc, "deploy")
    if table is None:
        return None
    reader.keys(table, path, DEPLOY_FIELDS)
    source = reader.string(table, path, "source")
    target = reader.string(table, path, "target")
    listed = reader.strings(table, path, "paths")
    exclude = tuple(value for _, value in reader.strings(table, path, "exclude") or [])
    node: str | None = None
    source_path: str | None = None
    if source is None:
        node = nodes[0] if nodes else None
    elif source.startswith(("/", "~")):
        source_path = str(Path(source).expanduser())
    elif ":" in source and source.partition(":")[2]:
        node, _, source_path = source.partition(":")
    elif ":" not in source and source in nodes:
        node = source
    else:
        reader.error(
            (*path, "source"),
            f"expected NODE:PATH, a node name or an absolute local path, got {source!r}",
        )
        return None
    if node is not None and node not in nodes:
        known = ", ".join(sorted(nodes)) or "none"
        reader.error((*path, "source"), f"unknown node {node!r} (nodes: {known})")
    if source_path is not None:
        if listed is not None:
            reader.error(
                (*path, "paths"),
                'paths go with a source that is a node alone (source = "node1"), not with '
                f"a source path ({source!r})",
            )
        return DeployConfig((DeployPath(source_path, target or source_path),), node, exclude)
    if target is not None:
        reader.error(
            (*path, "target"),
            'a target goes with a source path (source = "node1:webapps/"); with a node alone '
            "every directory is synced to the same path on each node (see paths)",
        )
    chosen = [value for _, value in listed] if listed is not None else list(profile.deploy_paths)
    for item_path, value in listed or []:
        if value.startswith("/"):
            reader.error(item_path, f"must be relative to each node's catalina_base, got {value!r}")
    if listed is not None and not chosen:
        reader.error((*path, "paths"), "must name at least one directory")
        return None
    _overlap(reader, path, chosen)
    return DeployConfig(tuple(DeployPath(value, value) for value in chosen), node, exclude)


__all__ = ["DEPLOY_FIELDS", "read_deploy"]
