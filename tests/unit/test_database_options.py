"""The database as the operator's own mysql client reaches it: ~/.my.cnf's [client] password,
a unix socket and verified TLS from URL options; bad options refused by the validation."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from console.config.checks import DatabaseUrl, parse_database_url
from probes.database import DatabaseTarget, connect_options, my_cnf


def test_url_options_socket_and_tls() -> None:
    parsed = parse_database_url(
        "mysql://joget@localhost/jwdb?unix_socket=/run/mysqld/mysqld.sock&ssl=required"
    )
    assert isinstance(parsed, DatabaseUrl)
    assert (parsed.unix_socket, parsed.tls, parsed.ssl_ca) == (
        "/run/mysqld/mysqld.sock",
        True,
        None,
    )
    with_ca = parse_database_url("mysql://joget@db.lan/jwdb?ssl_ca=/etc/ssl/db-ca.pem")
    assert (
        isinstance(with_ca, DatabaseUrl) and with_ca.tls and with_ca.ssl_ca == "/etc/ssl/db-ca.pem"
    )


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://u@h/d?ssl=off", "write ssl=required"),
        ("mysql://u@h/d?sslmode=disable", "unknown option 'sslmode=disable'"),
        ("mysql://u@h/d?unix_socket=run/x.sock", "unix_socket must be an absolute path"),
        ("mysql://u@h/d#x", "a fragment"),
    ],
)
def test_bad_url_options_are_named(url: str, words: str) -> None:
    problem = parse_database_url(url)
    assert isinstance(problem, str) and words in problem


def test_my_cnf_client_password_fills_in_when_the_inventory_has_none(tmp_path: Path) -> None:
    cnf = tmp_path / "my.cnf"
    cnf.write_text("[mysql]\npassword=not-this\n[client]\nuser=other\npassword = 'from cnf'\n")
    values = my_cnf(str(cnf))
    assert values["password"] == "from cnf"
    target = DatabaseTarget("db.lan", 3306, "joget", "jwdb")
    options = connect_options(target, values)
    assert (options["password"], options["user"]) == ("from cnf", "joget")  # the URL's user
    assert "ssl" not in options and "unix_socket" not in options
    explicit = DatabaseTarget("db.lan", 3306, "joget", "jwdb", password="inventory")
    assert connect_options(explicit, values)["password"] == "inventory"
    assert my_cnf(str(tmp_path / "missing.cnf")) == {}


def test_tls_is_always_verified_and_a_socket_is_passed_on() -> None:
    target = DatabaseTarget("db.lan", 3306, "joget", "jwdb", tls=True)
    context = connect_options(target, {})["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    socket_target = DatabaseTarget("localhost", 3306, "joget", "jwdb", unix_socket="/run/db.sock")
    assert connect_options(socket_target, {})["unix_socket"] == "/run/db.sock"
