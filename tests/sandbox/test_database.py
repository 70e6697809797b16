"""The shared MariaDB: the app user has exactly the grants Joget asks for, and no more."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pymysql
import pytest

from console.sandbox.layout import DATABASE_NAME, DATABASE_PORT, DATABASE_USER, SandboxLayout
from console.sandbox.mariadb import grants

pytestmark = pytest.mark.sandbox

ON_DATABASE = re.compile(rf"^GRANT (?P<privileges>.+) ON `{DATABASE_NAME}`\.\* TO ")
ACCESS_DENIED = 1044


@pytest.fixture
def connection(sandbox: SandboxLayout) -> Iterator[pymysql.connections.Connection]:
    conn = pymysql.connect(
        host=sandbox.database_address,
        port=DATABASE_PORT,
        user=DATABASE_USER,
        password=sandbox.db_password_file.read_text().strip(),
        database=DATABASE_NAME,
        connect_timeout=10,
        read_timeout=30,
        write_timeout=30,
    )
    try:
        yield conn
    finally:
        conn.close()


def _grant_lines(conn: pymysql.connections.Connection) -> list[str]:
    with conn.cursor() as cursor:
        cursor.execute("SHOW GRANTS")
        return [str(row[0]) for row in cursor.fetchall()]


def test_app_user_has_exactly_the_joget_grants(connection: pymysql.connections.Connection) -> None:
    lines = _grant_lines(connection)
    on_database = [match for line in lines if (match := ON_DATABASE.match(line))]
    assert len(on_database) == 1, lines
    privileges = {p.strip() for p in on_database[0]["privileges"].split(",")}
    assert privileges == set(grants())
    global_lines = [line for line in lines if " ON *.* " in line]
    assert all(line.startswith("GRANT USAGE ON *.* ") for line in global_lines), global_lines
    assert len(lines) == len(on_database) + len(global_lines), lines


def test_app_user_can_use_its_database(connection: pymysql.connections.Connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE cc_sandbox_probe (id INT PRIMARY KEY, name VARCHAR(20))")
        try:
            cursor.execute("INSERT INTO cc_sandbox_probe VALUES (1, 'node1')")
            cursor.execute("SELECT name FROM cc_sandbox_probe WHERE id = 1")
            assert cursor.fetchone() == ("node1",)
        finally:
            cursor.execute("DROP TABLE cc_sandbox_probe")


def test_app_user_cannot_create_another_database(
    connection: pymysql.connections.Connection,
) -> None:
    with connection.cursor() as cursor, pytest.raises(pymysql.err.OperationalError) as raised:
        cursor.execute("CREATE DATABASE cc_sandbox_other")
    assert raised.value.args[0] == ACCESS_DENIED, raised.value.args
    assert "Access denied" in str(raised.value.args[1])


def test_the_database_keeps_its_temporary_files_in_the_sandbox(
    connection: pymysql.connections.Connection, sandbox: SandboxLayout
) -> None:
    """In the shared /tmp another program's clean-up removed an install's temporary table
    (mariadb-install-db failed, every sandbox test with it): MariaDB's tmpdir is the sandbox's."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@tmpdir")
        (tmpdir,) = cursor.fetchone() or ("",)
    assert str(tmpdir).rstrip("/") == str(sandbox.mariadb_dir / "tmp"), tmpdir
