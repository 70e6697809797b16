"""The add-node wizard's last check: new sessions through the front reach the new node, and a
session made on it continues on a peer with its data."""

from __future__ import annotations

import asyncio
from typing import cast
from urllib.parse import urlsplit

import httpx

from console.operations.context import NodeContext
from console.operations.engine import StepFailed, StepRun
from console.operations.wizards.add_node_context import AddNodeContext


def _ctx(run: StepRun[NodeContext]) -> AddNodeContext:
    return cast(AddNodeContext, run.ctx)


def front_urls(ctx: NodeContext) -> list[str]:
    """Where users reach the application through each balancer: the `front_url` answer, else
    the httpd balancer's origin with the path of the node's own URL."""
    given = ctx.answer("front_url", None)
    if given:
        return [str(given)]
    path = urlsplit(ctx.node.http or "/").path or "/"
    found = []
    for config in ctx.inventory.balancers:
        if config.kind == "apache" and config.url:
            parts = urlsplit(config.url)
            found.append(f"{parts.scheme}://{parts.netloc}{path}")
    return found


def _session(response: httpx.Response) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip().upper() == "JSESSIONID":
            return rest.split(";", 1)[0]
    return None


async def verify_serving(run: StepRun[NodeContext]) -> None:
    """New sessions through each balancer reach the node; a session made on it continues on a
    peer (same session id, rewritten to the peer's route by JvmRouteBinderValve)."""
    ctx = _ctx(run)
    route = ctx.node.jvm_route or ctx.node.name
    fronts = front_urls(ctx)
    if not fronts:
        run.warn("no front URL known (answer front_url): new sessions through it not checked")
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)) as client:
        for front in fronts:
            tries = 0
            while True:
                tries += 1
                client.cookies.clear()  # a new user each time, never the last one's session
                response = await client.get(front)
                session = _session(response)
                if session and session.endswith("." + route):
                    run.observed(f"a new session through {front} reached {ctx.node.name}")
                    break
                run.waiting(
                    f"a new session through {front} to reach {ctx.node.name}", {"tries": tries}
                )
                await asyncio.sleep(0.05)
        await _failover(run, client, route)


async def _failover(run: StepRun[NodeContext], client: httpx.AsyncClient, route: str) -> None:
    ctx = _ctx(run)
    peer = next((n for n in ctx.old.nodes if n.http), None)
    if ctx.node.http is None or peer is None or peer.http is None:
        run.warn("no direct URLs to try a failover with: not checked")
        return
    client.cookies.clear()
    first = await client.get(ctx.node.http)
    session = _session(first)
    if session is None or not session.endswith("." + route):
        raise StepFailed(f"{ctx.node.http} gave no session of route {route}")
    base = session.rsplit(".", 1)[0]
    client.cookies.clear()
    client.cookies.set("JSESSIONID", session)
    await client.get(ctx.node.http)
    client.cookies.clear()
    client.cookies.set("JSESSIONID", session)
    moved = await client.get(peer.http)
    after = _session(moved)
    if after is not None and after.rsplit(".", 1)[0] != base:
        raise StepFailed(
            f"a session made on {ctx.node.name} was not known on {peer.name}: it got a new "
            f"session ({after}): replication does not reach it"
        )
    run.observed(
        f"a session made on {ctx.node.name} continued on {peer.name} with its data "
        f"(session {base}, now {after or session})"
    )


__all__ = ["front_urls", "verify_serving"]
