"""Database TLS tried live: a test-only MariaDB (Debian's, as the sandbox runs it) with a test CA's
server certificate and an account that is `REQUIRE SSL`, its own datadir, socket and address.
The probe with `?ssl=required&ssl_ca=CA` logs in over TLS and reads its grants (the account
cannot log in otherwise); against another CA it refuses with the certificate's reason.
"""

from __future__ import annotations

import getpass
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.config import load_inventory_text
from console.monitor.polls import database_target
from console.sandbox.waits import port_open, wait_until
from probes.database import DatabaseHealth, check

from .conftest import TEST_NET

pytestmark = [pytest.mark.sandbox]

MARIADBD = "/usr/sbin/mariadbd"
INSTALL_DB = "/usr/bin/mariadb-install-db"
CLIENT = "/usr/bin/mariadb"
ADDRESS = f"{TEST_NET}.61"
PORT = 3399
PASSWORD = "tls-test-only-password"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(directory: Path, name: str) -> None:
    """``name``-ca.pem/-ca.key: a self-signed test CA."""
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", f"/CN={name} test CA", "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem",
        cwd=directory,
    )  # fmt: skip


def _server_cert(directory: Path) -> None:
    """server.pem/server.key for ADDRESS (as an IP subjectAltName), signed by the good CA."""
    (directory / "san.cnf").write_text(f"subjectAltName = IP:{ADDRESS}\n")
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={ADDRESS}",
        "-keyout", "server.key", "-out", "server.csr", cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "good-ca.pem", "-CAkey", "good-ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "server.pem",
        cwd=directory,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tls_mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    for path in (MARIADBD, INSTALL_DB, CLIENT):
        if not Path(path).exists():
            pytest.skip(f"MariaDB is not installed ({path}); make demo installs it")
    if port_open(ADDRESS, PORT, 0.2):
        pytest.fail(f"{ADDRESS}:{PORT} is taken (a crashed run left mariadbd?)")
    root = tmp_path_factory.mktemp("tlsdb")
    _ca(root, "good")
    _ca(root, "other")
    _server_cert(root)
    user = getpass.getuser()
    cnf = root / "my.cnf"
    cnf.write_text(
        "[mysqld]\n"
        f"datadir = {root / 'data'}\nsocket = {root / 'db.sock'}\npid-file = {root / 'db.pid'}\n"
        f"bind-address = {ADDRESS}\nport = {PORT}\nlog-error = {root / 'db.err'}\n"
        f"user = {user}\nskip-name-resolve\ninnodb_buffer_pool_size = 16M\n"
        "performance_schema = OFF\n"
        f"ssl-ca = {root / 'good-ca.pem'}\nssl-cert = {root / 'server.pem'}\n"
        f"ssl-key = {root / 'server.key'}\n"
        f"[client]\nsocket = {root / 'db.sock'}\n"
    )
    (root / "data").mkdir()
    subprocess.run(
        [INSTALL_DB, f"--defaults-file={cnf}", "--auth-root-authentication-method=socket",
         "--skip-test-db", f"--user={user}"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    server = subprocess.Popen(
        [MARIADBD, f"--defaults-file={cnf}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        if not wait_until(lambda: port_open(ADDRESS, PORT, 0.2), 120):
            pytest.fail(f"mariadbd did not listen: {(root / 'db.err').read_text()[-2000:]}")
        sql = (
            "CREATE DATABASE app;\n"
            f"CREATE USER 'app'@'127.%' IDENTIFIED BY '{PASSWORD}' REQUIRE SSL;\n"
            "GRANT SELECT, INSERT ON app.* TO 'app'@'127.%';\n"
        )
        subprocess.run(
            [CLIENT, f"--defaults-file={cnf}", "--batch"],
            input=sql, text=True, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        yield root
    finally:
        server.terminate()
        server.wait(60)


def _health(root: Path, query: str, monkeypatch: pytest.MonkeyPatch) -> DatabaseHealth:
    monkeypatch.setenv("TLS_TEST_DB_PASSWORD", PASSWORD)
    monkeypatch.setenv("CLUSTERCONSOLE_MY_CNF", str(root / "no-such-my.cnf"))
    text = (
        '[cluster]\nname = "tls"\n'
        '[[nodes]]\nname = "n1"\nhost = "127.0.0.1"\njvm_route = "n1"\n'
        'catalina_base = "/opt/tomcat"\n'
        f'[database]\nurl = "mysql://app@{ADDRESS}:{PORT}/app{query}"\n'
        'password_env = "TLS_TEST_DB_PASSWORD"\nrequired_grants = ["SELECT", "INSERT"]\n'
    )
    inventory = load_inventory_text(text, root / "cluster.toml")
    assert inventory.database is not None
    return check(database_target(inventory.database))


def test_tls_verified_against_the_ca_logs_in(
    tls_mariadb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    health = _health(
        tls_mariadb, f"?ssl=required&ssl_ca={tls_mariadb / 'good-ca.pem'}", monkeypatch
    )
    assert health.reachable, health.error
    assert health.grants_ok is True and {"SELECT", "INSERT"} <= health.grants
    assert health.version and "MariaDB" in health.version


def test_a_server_certificate_of_another_ca_is_refused_with_the_reason(
    tls_mariadb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    health = _health(
        tls_mariadb, f"?ssl=required&ssl_ca={tls_mariadb / 'other-ca.pem'}", monkeypatch
    )
    assert not health.reachable
    assert "certificate verify failed" in (health.error or "").lower(), health.error


def test_without_ssl_required_the_driver_still_prefers_tls_unverified(
    tls_mariadb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fact found here (docs/facts.md): PyMySQL >= 1.1 with no TLS option is in PREFERRED mode,
    like the mysql client: TLS when the server offers it, its certificate not checked. So the
    `REQUIRE SSL` account logs in without `ssl=required`; only `ssl=required` verifies it."""
    health = _health(tls_mariadb, "", monkeypatch)
    assert health.reachable, health.error


def test_the_password_never_reaches_the_reason(
    tls_mariadb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    health = _health(tls_mariadb, "", monkeypatch)
    assert PASSWORD not in (health.error or "") and PASSWORD not in repr(health)
    assert os.environ.get("TLS_TEST_DB_PASSWORD") == PASSWORD  # it was there to leak
