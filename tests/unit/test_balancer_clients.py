"""The one balancer client: a balancer's own settings from its page, adding and removing workers
(what httpd can and cannot do at runtime), read-only clients and the factory's choices."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from console.audit import AuditLog, read_entries
from console.balancer.clients import HaproxyBalancer, HttpdBalancer, open_balancer
from console.config import load_inventory_text
from console.config.model import Inventory
from console.operations.workers import WorkerActions
from probes.balancer.httpd_html import parse_html
from probes.balancer.model import BalancerError

DATA = Path(__file__).parent / "data" / "balancer"
PAGE = (DATA / "real_2471_page.html").read_text(encoding="latin-1")
URL = "http://127.0.5.1:8000/balancer-manager"
NEW = "http://127.0.5.14:8080"


def page_settings(name: str) -> dict[str, object]:
    page = parse_html((DATA / name).read_text(encoding="latin-1"), URL)
    return {b.name: b.settings.to_json() if b.settings else None for b in page.balancers}


def test_the_balancer_s_own_settings_are_read_from_its_page() -> None:
    assert page_settings("real_2471_page.html")["cluster"] == {
        "sticky_session": "JSESSIONID|jsessionid",
        "lbmethod": "byrequests",
        "timeout": 0.0,
        "failover_attempts": 2,
        "disable_failover": False,
        "path": "/app/",
        "active": True,
        "max_members": 3,
        "members_used": 3,
        "free_slots": 0,
    }
    browser = page_settings("synthetic_browser_saved.html")["shop"]
    assert browser is not None and browser["free_slots"] == 1
    assert browser["lbmethod"] == "bybusyness" and browser["sticky_session"] == "ROUTEID"
    old = page_settings("synthetic_22_page.html")  # httpd 2.2: no MaxMembers, no Path
    assert old["mycluster"] is not None and old["mycluster"]["max_members"] is None
    assert old["static"] is not None and old["static"]["sticky_session"] is None
    assert page_settings("real_2471_hcheck.html")["hccluster"]["sticky_session"] is None  # type: ignore[index]


def with_room(text: str, used: int = 3, room: int = 2) -> str:
    return text.replace(f"<td>{used} [{used} Used]</td>", f"<td>{used + room} [{used} Used]</td>")


class GrowingManager:
    """A balancer-manager with member room: `b_nwrkr` adds a disabled worker, `w_wr` sets a
    route, as httpd 2.4 does (only with the right Referer)."""

    def __init__(self, room: int = 2) -> None:
        self.room = room
        self.added: list[tuple[str, str]] = []
        self.posts: list[dict[str, str]] = []

    def page(self) -> str:
        text = with_room(PAGE, room=self.room) if self.room else PAGE
        if not self.added:
            return text
        head, sep, tail = text.rpartition("</table>")
        rows = "".join(
            f'<tr><td><a href="/balancer-manager?b=cluster&amp;w={url}&amp;nonce=x">{url}</a>'
            f"</td><td>{route}</td><td></td><td>1.00</td><td>0</td><td>Init Dis </td>"
            "<td>0</td><td>0</td><td>0</td><td>0 </td><td>0 </td></tr>\n"
            for url, route in self.added
        )
        return head + rows + sep + tail

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.headers.get("referer") == URL:
            form = dict(parse_qsl(request.content.decode()))
            self.posts.append(form)
            if form.get("b_wyes") == "1" and "b_nwrkr" in form:
                self.added.append((form["b_nwrkr"], ""))
            elif "w_wr" in form:
                self.added = [(u, form["w_wr"] if u == form["w"] else r) for u, r in self.added]
        return httpx.Response(200, text=self.page(), headers={"content-type": "text/html"})


def inventory(tmp_path: Path, balancer: str) -> Inventory:
    text = (
        '[cluster]\nname = "t"\n'
        '[[nodes]]\nname = "node1"\nhost = "127.0.5.11"\ncatalina_base = "/opt/t"\n'
        f"[[balancers]]\n{balancer}\n"
    )
    return load_inventory_text(text, tmp_path / "cluster.toml")


def httpd_inventory(tmp_path: Path) -> Inventory:
    return inventory(tmp_path, f'name = "httpd"\nkind = "apache"\nurl = "{URL}"')


def test_a_worker_is_added_disabled_with_its_route_audited_and_read_back(tmp_path: Path) -> None:
    manager = GrowingManager()
    audit = AuditLog(tmp_path / "audit.jsonl", "scripted", "t")
    actions = WorkerActions(
        httpd_inventory(tmp_path), audit, http_transport=httpx.MockTransport(manager)
    )

    async def main() -> None:
        try:
            planned = await actions.plan_add("httpd", "node4", NEW, route="node4")
            assert planned.request["form"][2:] == [["b_nwrkr", NEW], ["b_wyes", "1"]]
            assert manager.posts == []  # planning sends nothing
            _, worker = await actions.add_worker("httpd", "node4", NEW, route="node4")
            assert (worker.url, worker.route, worker.disabled) == (NEW, "node4", True)
        finally:
            await actions.aclose()

    asyncio.run(main())
    entries = read_entries(audit.path)
    assert [(e["phase"], e["step"]) for e in entries] == [
        ("before", "worker-add"),
        ("after", "worker-add"),
    ]
    assert entries[1]["result"]["worker"]["route"] == "node4"


def test_a_balancer_without_growth_room_refuses_before_sending(tmp_path: Path) -> None:
    manager = GrowingManager(room=0)
    client = open_balancer(
        httpd_inventory(tmp_path).balancers[0],
        httpd_inventory(tmp_path),
        writable=True,
        transport=httpx.MockTransport(manager),
    )

    async def main() -> None:
        try:
            with pytest.raises(BalancerError, match=r"no free member slot .*growth"):
                await client.plan_add(None, "node4", NEW)
        finally:
            await client.aclose()

    asyncio.run(main())
    assert manager.posts == []


def test_httpd_cannot_delete_a_worker_so_removing_one_disables_it_and_says_so(
    tmp_path: Path,
) -> None:
    manager = GrowingManager()
    client = open_balancer(
        httpd_inventory(tmp_path).balancers[0],
        httpd_inventory(tmp_path),
        writable=True,
        transport=httpx.MockTransport(manager),
    )

    async def main() -> None:
        try:
            planned = await client.plan_remove(None, "node2")
            assert planned.change == "remove worker"
            assert planned.note is not None and "cannot delete a worker at runtime" in planned.note
            assert ["w_status_D", "1"] in planned.request["form"]
        finally:
            await client.aclose()

    asyncio.run(main())


def test_a_read_only_client_refuses_every_change_before_sending(tmp_path: Path) -> None:
    manager = GrowingManager()
    client = open_balancer(
        httpd_inventory(tmp_path).balancers[0],
        httpd_inventory(tmp_path),
        writable=False,
        transport=httpx.MockTransport(manager),
    )

    async def main() -> None:
        try:
            assert (await client.read()).balancer("cluster") is not None
            with pytest.raises(BalancerError, match="read-only"):
                await client.plan_add(None, "node4", NEW)
            with pytest.raises(BalancerError, match="read-only"):
                await client.plan_remove(None, "node2")
        finally:
            await client.aclose()

    asyncio.run(main())
    assert manager.posts == []


def test_one_factory_picks_the_client_by_kind_and_place(tmp_path: Path) -> None:
    apache = httpd_inventory(tmp_path)
    assert isinstance(open_balancer(apache.balancers[0], apache, writable=False), HttpdBalancer)
    remote = inventory(tmp_path, 'name = "lb"\nkind = "haproxy"\nsocket = "node1:/run/h.sock"')
    client = open_balancer(remote.balancers[0], remote, writable=True)
    assert isinstance(client, HaproxyBalancer)
    assert client.description == "HAProxy stats socket /run/h.sock on node1"
