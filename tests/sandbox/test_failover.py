"""Session replication: a user's session outlives the node that served it."""

from __future__ import annotations

import pytest

from console.sandbox.layout import SandboxLayout

from .helpers import AppReply, app_get, new_user, node_stopped, wait_for

pytestmark = [pytest.mark.sandbox, pytest.mark.disruptive]


def test_session_survives_its_node_stopping(sandbox: SandboxLayout) -> None:
    with new_user() as client:
        replies = [app_get(client, sandbox.app_url) for _ in range(3)]
        assert [reply.count for reply in replies] == [1, 2, 3]
        home = next(node for node in sandbox.nodes if node.jvm_route == replies[-1].node)
        # Replication is asynchronous (channelSendOptions=8) but takes milliseconds; a graceful
        # stop takes seconds and its peers must log the member leaving before we go on.
        with node_stopped(sandbox, home):

            def failover() -> AppReply:
                return app_get(client, sandbox.app_url)

            moved = wait_for(failover, 30, "the balancer to answer from another node")
            assert moved.node != home.jvm_route, moved
            assert moved.count == replies[-1].count + 1, (replies, moved)
            # JvmRouteBinderValve re-binds the session to its new node: same id, new route.
            old_id = replies[-1].session.rsplit(".", 1)[0]
            assert moved.session == f"{old_id}.{moved.node}", moved
            assert client.cookies.get("JSESSIONID") == moved.session
            again = app_get(client, sandbox.app_url)
            assert (again.node, again.count) == (moved.node, moved.count + 1)
        # The node is back (every peer logged it re-added); the session stays where it moved.
        after = app_get(client, sandbox.app_url)
        assert (after.node, after.count) == (moved.node, again.count + 1)
