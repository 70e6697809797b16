"""Per-product defaults (Tomcat, Joget, WSO2, frevvo, Liferay) applied to a cluster inventory.

A profile only supplies defaults: every value it gives can be overridden in ``cluster.toml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal

from probes.privileges import ALL_PRIVILEGES

LicenseKind = Literal["none", "per-node", "per-server"]
"""How a product is licensed: not at all, one licence per node, or one per server."""

Membership = Literal["tribes", "jgroups", "hazelcast"]
"""Which cluster membership protocol the product's logs report views and members with."""

LICENSE_KINDS: tuple[LicenseKind, ...] = ("none", "per-node", "per-server")

DEFAULT_PROFILE = "tomcat"

JOGET_GRANTS: frozenset[str] = ALL_PRIVILEGES - {"EVENT", "DELETE HISTORY"}
"""The MySQL privileges Joget's installer asks for on its database (jwdb): everything a
database-level ALL grants but EVENT and DELETE HISTORY."""


@dataclass(frozen=True, slots=True)
class Profile:
    """Defaults for one product family."""

    name: str
    """The profile name used in ``[cluster] profile``."""
    logs: tuple[str, ...]
    """Default log files, relative to each node's catalina_base (or product home)."""
    start: str
    """Default start command; ``{catalina_base}`` is replaced by the node's catalina_base."""
    stop: str
    """Default stop command; ``{catalina_base}`` is replaced likewise."""
    expected_unload_delay_ms: int
    """The Context unloadDelay the product ships with, used to time a graceful stop."""
    license_kind: LicenseKind
    """How the product is licensed, which decides what the licence view checks."""
    membership: Membership
    """The membership protocol whose join/leave lines the log parser looks for."""
    required_grants: frozenset[str]
    """MySQL privileges (upper case) the application's database user needs."""
    deploy_paths: tuple[str, ...] = ("webapps/",)
    """The directories a deploy sync keeps in step, relative to each node's catalina_base."""
    access_log: str = "logs/localhost_access_log.*.txt"
    """The access log's glob, relative to catalina_base: Tomcat's AccessLogValve as
    server.xml ships it (rotated daily, the date in the name)."""


_CATALINA_START = "{catalina_base}/bin/startup.sh"
_CATALINA_STOP = "{catalina_base}/bin/shutdown.sh"
_CATALINA_OUT = ("logs/catalina.out",)


def _catalina(name: str, license_kind: LicenseKind, membership: Membership, delay: int) -> Profile:
    """A profile for a product that runs as a plain Tomcat with catalina.out."""
    return Profile(
        name=name,
        logs=_CATALINA_OUT,
        start=_CATALINA_START,
        stop=_CATALINA_STOP,
        expected_unload_delay_ms=delay,
        license_kind=license_kind,
        membership=membership,
        required_grants=JOGET_GRANTS,
    )


PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        "tomcat": _catalina("tomcat", "none", "tribes", 2000),
        "joget": _catalina("joget", "per-node", "tribes", 2000),
        "wso2": Profile(
            name="wso2",
            logs=("repository/logs/wso2carbon.log",),
            start="{catalina_base}/bin/wso2server.sh start",
            stop="{catalina_base}/bin/wso2server.sh stop",
            expected_unload_delay_ms=2000,
            license_kind="none",
            membership="hazelcast",
            required_grants=JOGET_GRANTS,
            deploy_paths=("repository/deployment/server/",),
            # Carbon's servlet transport access log (http_access_YYYY-MM-DD.log): not run here
            access_log="repository/logs/http_access_*.log",
        ),
        # frevvo ships Context unloadDelay=40000 and logs JGroups views.
        "frevvo": _catalina("frevvo", "per-server", "jgroups", 40000),
        # Liferay's hot deploy and module folders are in Liferay Home, the bundle Tomcat's parent
        "liferay": replace(
            _catalina("liferay", "per-node", "tribes", 2000),
            deploy_paths=("../deploy/", "../osgi/modules/"),
        ),
    }
)
"""All known profiles by name, in the order they are listed to users."""
