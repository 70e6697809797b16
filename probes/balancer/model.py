"""What a load balancer shows of its workers: one model for httpd's balancer-manager and HAProxy.

Parsers (balancer_html, balancer_xml, haproxy) build these frozen values; screens and commands
only read them. A field the page does not show is None, never a made-up 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BALANCER_PREFIX = "balancer://"

UNUSABLE_FLAGS = frozenset({"Shut", "Dis", "Stop", "Err", "HcFl"})
"""httpd status names that take a worker out of service (PROXY_WORKER_IS_USABLE)."""


class BalancerError(Exception):
    """A balancer could not be read or changed; str() is one plain sentence naming the URL."""


class BalancerChangeNotApplied(BalancerError):
    """A change was sent but reading the balancer back does not show it."""


@dataclass(frozen=True, slots=True)
class Worker:
    """One balancer member as the page shows it (None: the page has no such column)."""

    url: str
    route: str | None
    redirect: str | None
    factor: float | None
    lbset: int | None
    status: str | None
    flags: tuple[str, ...]
    usable: bool | None
    draining: bool | None
    disabled: bool | None
    standby: bool | None
    elected: int | None
    busy: int | None
    load: int | None
    to_bytes: int | None
    from_bytes: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "route": self.route,
            "redirect": self.redirect,
            "factor": self.factor,
            "lbset": self.lbset,
            "status": self.status,
            "flags": list(self.flags),
            "usable": self.usable,
            "draining": self.draining,
            "disabled": self.disabled,
            "standby": self.standby,
            "elected": self.elected,
            "busy": self.busy,
            "load": self.load,
            "to_bytes": self.to_bytes,
            "from_bytes": self.from_bytes,
        }


@dataclass(frozen=True, slots=True)
class BalancerSettings:
    """A balancer's own settings as its page shows them (None: not shown, e.g. httpd 2.2 has no
    MaxMembers or Path; HAProxy's page shows none of these)."""

    sticky_session: str | None = None
    """The session cookie/parameter names, e.g. ``JSESSIONID|jsessionid``."""
    lbmethod: str | None = None
    timeout: float | None = None
    failover_attempts: int | None = None
    disable_failover: bool | None = None
    path: str | None = None
    active: bool | None = None
    max_members: int | None = None
    """Member slots in total: the configured members plus the balancer's `growth`."""
    members_used: int | None = None

    @property
    def free_slots(self) -> int | None:
        """Members that can still be added at runtime (httpd's `growth` room)."""
        if self.max_members is None or self.members_used is None:
            return None
        return max(0, self.max_members - self.members_used)

    def to_json(self) -> dict[str, Any]:
        return {
            "sticky_session": self.sticky_session,
            "lbmethod": self.lbmethod,
            "timeout": self.timeout,
            "failover_attempts": self.failover_attempts,
            "disable_failover": self.disable_failover,
            "path": self.path,
            "active": self.active,
            "max_members": self.max_members,
            "members_used": self.members_used,
            "free_slots": self.free_slots,
        }


@dataclass(frozen=True, slots=True)
class Balancer:
    """One `balancer://NAME` and its workers, with the nonce that authorises changes."""

    name: str
    nonce: str | None
    workers: tuple[Worker, ...]
    settings: BalancerSettings | None = None
    """The balancer's own settings (httpd's page shows them; None where nothing was shown)."""

    def worker(self, key: str) -> Worker | None:
        """The worker whose URL or route is exactly `key` (never a prefix: .2 is not .20)."""
        for worker in self.workers:
            if worker.url == key:
                return worker
        for worker in self.workers:
            if worker.route is not None and worker.route == key:
                return worker
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "nonce": self.nonce,
            "workers": [worker.to_json() for worker in self.workers],
            "settings": self.settings.to_json() if self.settings is not None else None,
        }


@dataclass(frozen=True, slots=True)
class BalancerPage:
    """Everything one read of a balancer showed: its URL, balancers and server version."""

    url: str
    balancers: tuple[Balancer, ...]
    server_version: str | None = None
    totals: dict[str, int] | None = None
    """The balancer's own totals where it has them (NGINX's stub_status), else None; not part of
    `to_json` (the balancer command's contract)."""

    def balancer(self, name: str) -> Balancer | None:
        """The balancer called `name`, with or without the `balancer://` prefix."""
        if name.startswith(BALANCER_PREFIX):
            name = name[len(BALANCER_PREFIX) :]
        for balancer in self.balancers:
            if balancer.name == name:
                return balancer
        return None

    def to_json(self) -> dict[str, Any]:
        """The documented JSON contract: url, balancers and (added in issue 12) the server's
        version as the page shows it."""
        return {
            "url": self.url,
            "balancers": [b.to_json() for b in self.balancers],
            "server_version": self.server_version,
        }


def balancer_name(text: str) -> str:
    """`balancer://cluster` -> `cluster`."""
    text = text.strip()
    return text[len(BALANCER_PREFIX) :] if text.startswith(BALANCER_PREFIX) else text


def make_worker(
    url: str,
    *,
    route: str | None = None,
    redirect: str | None = None,
    factor: float | None = None,
    lbset: int | None = None,
    status: str | None = None,
    elected: int | None = None,
    busy: int | None = None,
    load: int | None = None,
    to_bytes: int | None = None,
    from_bytes: int | None = None,
) -> Worker:
    """A Worker from httpd's status text: flags and the usable/draining/... booleans derived."""
    text = " ".join(status.split()) if status is not None else ""
    flags = tuple(text.split())
    known = bool(flags)
    return Worker(
        url=url,
        route=route or None,
        redirect=redirect or None,
        factor=factor,
        lbset=lbset,
        status=text if known else None,
        flags=flags,
        usable=("Ok" in flags and not UNUSABLE_FLAGS.intersection(flags)) if known else None,
        draining=("Drn" in flags) if known else None,
        disabled=("Dis" in flags) if known else None,
        standby=("Stby" in flags) if known else None,
        elected=elected,
        busy=busy,
        load=load,
        to_bytes=to_bytes,
        from_bytes=from_bytes,
    )


def describe_names(items: list[str]) -> str:
    """`a, b, c` for error messages, or `none` when empty."""
    return ", ".join(items) if items else "none"


_SIZE_UNITS = {
    "": 1,
    "K": 1 << 10,
    "M": 1 << 20,
    "G": 1 << 30,
    "T": 1 << 40,
    "P": 1 << 50,
    "E": 1 << 60,
}


def parse_int(text: str | None) -> int | None:
    """A whole number as httpd prints it (`41`, `-100`); None for blank or anything else."""
    if text is None:
        return None
    text = text.strip()
    if not text or len(text) > 24:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def parse_float(text: str | None) -> float | None:
    """A factor as httpd prints it (`1`, `0.5`, `1.00`); None for blank, nan or garbage."""
    if text is None:
        return None
    text = text.strip()
    if not text or len(text) > 24:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def parse_size(text: str | None) -> int | None:
    """apr_strfsize output back to bytes: `  15K ` -> 15360, `1.5K` -> 1536, `395 ` -> 395.

    The page rounds, so the result is as exact as the page; `  - ` and `****` give None.
    """
    if text is None:
        return None
    text = text.strip()
    if not text or len(text) > 24:
        return None
    unit = text[-1].upper()
    if unit in _SIZE_UNITS and unit != "":
        number, factor = text[:-1].strip(), _SIZE_UNITS[unit]
    else:
        number, factor = text, 1
    try:
        value = float(number)
    except ValueError:
        return None
    if value < 0 or value != value or value == float("inf"):
        return None
    return round(value * factor)
