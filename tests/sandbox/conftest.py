"""One real sandbox (3 Tomcat nodes, httpd, MariaDB, 3 sshd) for the whole test session.

It lives in its own directory and in the loopback /24 127.0.2.x (or $CLUSTERCONSOLE_TEST_NET), so
it never touches a developer's demo sandbox on 127.0.0.x. `down()` runs at the end whatever
happened.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.sandbox import manager
from console.sandbox.layout import BALANCER_PORT, DATABASE_PORT, HTTP_PORT, SSH_PORT, SandboxLayout
from console.sandbox.waits import port_open
from tests.nets import worker_net

TEST_NET = worker_net("127.0.2")
NODES = 3
REQUIRED = (
    "/usr/share/tomcat10/bin/catalina.sh",
    "/usr/sbin/apache2",
    "/usr/sbin/mariadbd",
    "/usr/sbin/sshd",
)
_ENV_KEYS = ("CLUSTERCONSOLE_SANDBOX_DIR", "CLUSTERCONSOLE_SANDBOX_NET")

log = logging.getLogger("sandbox-tests")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "disruptive: stops or restarts sandbox servers; runs after the other tests"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that stop nodes last, so every other test sees the full cluster."""
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)


def _missing_packages() -> list[str]:
    return [path for path in REQUIRED if not Path(path).exists()]


def _busy_ports() -> list[str]:
    """Addresses of the test sandbox already taken (e.g. by a sandbox a crashed run left)."""
    wanted = [(f"{TEST_NET}.1", BALANCER_PORT), (f"{TEST_NET}.10", DATABASE_PORT)]
    for index in range(NODES):
        address = f"{TEST_NET}.{11 + index}"
        wanted += [(address, HTTP_PORT), (address, SSH_PORT)]
    return [f"{host}:{port}" for host, port in wanted if port_open(host, port, 0.2)]


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxLayout]:
    missing = _missing_packages()
    if missing:
        pytest.fail(
            "the sandbox tests need Debian's tomcat10, apache2, mariadb-server and "
            f"openssh-server ({', '.join(missing)} missing): run `make test`, which installs them",
            pytrace=False,
        )
    override = os.environ.get("CLUSTERCONSOLE_TEST_SANDBOX_DIR")
    root = Path(override) if override else tmp_path_factory.mktemp("sandbox")
    saved = {key: os.environ.get(key) for key in _ENV_KEYS}
    os.environ["CLUSTERCONSOLE_SANDBOX_DIR"] = str(root)
    os.environ["CLUSTERCONSOLE_SANDBOX_NET"] = TEST_NET
    try:
        ours = any(row.running for row in manager.status())
        busy = [] if ours else _busy_ports()
        if busy:
            pytest.fail(
                f"the test sandbox's addresses are already taken ({', '.join(busy)}): another "
                f"sandbox runs on {TEST_NET}.x; stop it (`clusterconsole sandbox down` with "
                f"CLUSTERCONSOLE_SANDBOX_NET={TEST_NET} and its CLUSTERCONSOLE_SANDBOX_DIR)",
                pytrace=False,
            )
        layout = manager.up(NODES, report=log.info)
        yield layout
    finally:
        try:
            manager.down(report=log.info)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
