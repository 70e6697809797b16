"""The sandbox's MariaDB reached the way an operator's mysql client reaches a database: through
its unix socket, with the password from ~/.my.cnf's [client] section (none in the inventory)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.sandbox.layout import DATABASE_NAME, DATABASE_USER, SandboxLayout
from probes.database import DatabaseTarget, check

pytestmark = [pytest.mark.sandbox]

PASSWORD = "socket-pass-1"


def _sql(sandbox: SandboxLayout, sql: str) -> None:
    """As MariaDB's root, which logs in through the socket as the local root user."""
    subprocess.run(
        ["mariadb", "-S", str(sandbox.mariadb_socket), "-u", "root"],
        input=sql,
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def local_account(sandbox: SandboxLayout) -> Iterator[None]:
    account = f"'{DATABASE_USER}'@'localhost'"
    _sql(
        sandbox,
        f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{PASSWORD}';\n"
        f"GRANT SELECT ON `{DATABASE_NAME}`.* TO {account};\n",
    )
    try:
        yield
    finally:
        _sql(sandbox, f"DROP USER IF EXISTS {account};\n")


def test_unix_socket_and_my_cnf_password(
    sandbox: SandboxLayout,
    local_account: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cnf = tmp_path / "my.cnf"
    cnf.write_text(f"[client]\npassword={PASSWORD}\n")
    monkeypatch.setenv("CLUSTERCONSOLE_MY_CNF", str(cnf))
    target = DatabaseTarget(
        "localhost", 3306, DATABASE_USER, DATABASE_NAME, unix_socket=str(sandbox.mariadb_socket)
    )
    health = check(target)
    assert health.reachable, health.error
    assert health.version and "MariaDB" in health.version
    cnf.write_text("[client]\npassword=wrong\n")
    refused = check(target)
    assert not refused.reachable and "Access denied" in (refused.error or "")
