"""httpd's balancer-manager XML view (`?xml=1`, `<httpd:manager>`) to the same model as the page.

ElementTree expands internal entities, so any DOCTYPE or ENTITY declaration is refused before
parsing (billion laughs); httpd never sends one. Fields missing from the view stay None.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from probes.balancer.httpd_html import PAGE_LIMIT
from probes.balancer.model import (
    Balancer,
    BalancerError,
    BalancerPage,
    Worker,
    balancer_name,
    make_worker,
    parse_float,
    parse_int,
)

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)


def _local(tag: str) -> str:
    """`{http://httpd.apache.org}worker` -> `worker` (namespace prefixes vary, names do not)."""
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: ET.Element, name: str) -> str | None:
    """The text of the first child called `name`; None when there is no such child."""
    for child in element:
        if _local(child.tag) == name:
            return child.text or ""
    return None


def _worker(element: ET.Element) -> Worker | None:
    url = (_text(element, "name") or "").strip()
    if not url:
        return None
    transferred = parse_int(_text(element, "transferred"))
    read = parse_int(_text(element, "read"))
    return make_worker(
        url,
        route=(_text(element, "route") or "").strip() or None,
        redirect=(_text(element, "redirect") or "").strip() or None,
        factor=parse_float(_text(element, "loadfactor")),
        lbset=parse_int(_text(element, "lbset")),
        status=_text(element, "status"),
        elected=parse_int(_text(element, "elected")),
        busy=parse_int(_text(element, "busy")),
        load=parse_int(_text(element, "lbstatus")),
        to_bytes=transferred if transferred is None or transferred >= 0 else None,
        from_bytes=read if read is None or read >= 0 else None,
    )


def _balancer(element: ET.Element) -> Balancer | None:
    name = balancer_name(_text(element, "name") or "")
    if not name:
        return None
    workers: list[Worker] = []
    for group in _children(element, "workers"):
        for child in _children(group, "worker"):
            worker = _worker(child)
            if worker is not None:
                workers.append(worker)
    nonce = (_text(element, "nonce") or "").strip() or None
    return Balancer(name=name, nonce=nonce, workers=tuple(workers))


def parse_xml(data: bytes | str, url: str) -> BalancerPage:
    """The balancers of an `<httpd:manager>` document; BalancerError for anything else."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > PAGE_LIMIT:
        raise BalancerError(
            f"{url} answered with {len(raw) // (1024 * 1024)} MiB, far more than any "
            "balancer-manager XML view; not read"
        )
    if not raw.strip():
        raise BalancerError(f"{url} answered with an empty document, not the balancer XML view")
    if b"\x00" in raw or raw.startswith((b"\xfe\xff", b"\xff\xfe")):
        raise BalancerError(
            f"{url} answered with XML that is not UTF-8 or ASCII; refused "
            "(httpd's balancer-manager always sends UTF-8)"
        )
    if _DECLARATION.search(raw):
        raise BalancerError(
            f"{url} answered with XML that declares a DOCTYPE or entities; refused "
            "(httpd's balancer-manager never sends one)"
        )
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as error:
        raise BalancerError(
            f"{url} did not answer with well-formed XML ({error}); not the balancer XML view"
        ) from None
    except (LookupError, ValueError) as error:  # an encoding Python lacks, or a multi-byte one
        raise BalancerError(
            f"{url} answered with XML in an encoding that cannot be read ({error}); refused "
            "(httpd's balancer-manager always sends UTF-8)"
        ) from None
    if _local(root.tag) != "manager":
        raise BalancerError(
            f"{url} answered with XML whose root is <{_local(root.tag)}>, "
            "not httpd's <httpd:manager> balancer view"
        )
    balancers: list[Balancer] = []
    for group in _children(root, "balancers"):
        for child in _children(group, "balancer"):
            balancer = _balancer(child)
            if balancer is not None:
                balancers.append(balancer)
    return BalancerPage(url=url, balancers=tuple(balancers))
