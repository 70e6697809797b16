"""The sandbox's MariaDB: its own datadir and socket, the shared database and its app user."""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import subprocess

from console.config.profiles import PROFILES
from console.sandbox.errors import SandboxError
from console.sandbox.files import write_if_changed
from console.sandbox.layout import (
    DATABASE_NAME,
    DATABASE_PORT,
    DATABASE_USER,
    SandboxLayout,
)
from console.sandbox.procs import owned_pid, terminate
from console.sandbox.render import render, write_file
from console.sandbox.waits import port_open, tail_text, wait_until

MARIADBD = "/usr/sbin/mariadbd"
INSTALL_DB = "/usr/bin/mariadb-install-db"
CLIENT = "/usr/bin/mariadb"


def grants() -> list[str]:
    """The privileges the app user gets: exactly what the Joget guide asks for."""
    return sorted(PROFILES["joget"].required_grants)


def _log(layout: SandboxLayout) -> str:
    return str(layout.mariadb_dir / "logs" / "mariadb.err")


def prepare(layout: SandboxLayout) -> None:
    """Write my.cnf, make the password file (once) and initialise the datadir (once)."""
    for path in (MARIADBD, INSTALL_DB, CLIENT):
        if not os.path.exists(path):
            raise SandboxError(f"MariaDB is not installed ({path} is missing): run `make demo`")
    data = layout.mariadb_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    (layout.mariadb_dir / "logs").mkdir(parents=True, exist_ok=True)
    (layout.mariadb_dir / "tmp").mkdir(parents=True, exist_ok=True)
    layout.run.mkdir(parents=True, exist_ok=True)
    layout.secrets.mkdir(parents=True, exist_ok=True)
    layout.secrets.chmod(0o700)
    if not layout.db_password_file.exists():
        write_file(layout.db_password_file, secrets.token_urlsafe(18) + "\n", 0o600)
    write_if_changed(
        layout.mariadb_cnf,
        render(
            "my.cnf",
            datadir=data,
            run=layout.run,
            logs=layout.mariadb_dir / "logs",
            tmp=layout.mariadb_dir / "tmp",
            address=layout.database_address,
            port=DATABASE_PORT,
            user=getpass.getuser(),
        ),
    )
    if not (data / "mysql").is_dir():
        result = subprocess.run(
            [
                INSTALL_DB,
                f"--defaults-file={layout.mariadb_cnf}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
                f"--user={getpass.getuser()}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            # a half-made system schema would be taken for an initialised one next time
            shutil.rmtree(data / "mysql", ignore_errors=True)
            raise SandboxError(
                "mariadb: mariadb-install-db failed: " + (result.stderr or result.stdout)[-2000:]
            )


def running_pid(layout: SandboxLayout) -> int | None:
    return owned_pid(layout.mariadb_pid_file, f"--defaults-file={layout.mariadb_cnf}")


def start(layout: SandboxLayout) -> None:
    """Start mariadbd, wait for it to listen, then create the database and its user."""
    if running_pid(layout) is None:
        layout.mariadb_pid_file.unlink(missing_ok=True)
        with open(_log(layout), "ab") as log:
            subprocess.Popen(
                [MARIADBD, f"--defaults-file={layout.mariadb_cnf}"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

        def listening() -> bool:
            return running_pid(layout) is not None and port_open(
                layout.database_address, DATABASE_PORT
            )

        if not wait_until(listening, 60):
            raise SandboxError(
                f"mariadb: not listening on {layout.database_address}:{DATABASE_PORT} after 60 s; "
                f"see {_log(layout)}:\n{tail_text(_log(layout))}"
            )
    _bootstrap(layout)


def _bootstrap(layout: SandboxLayout) -> None:
    """Idempotently create the database and give the app user exactly its grants."""
    password = layout.db_password_file.read_text().strip()
    account = f"'{DATABASE_USER}'@'127.%'"
    sql = f"""
CREATE DATABASE IF NOT EXISTS `{DATABASE_NAME}` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{password}';
ALTER USER {account} IDENTIFIED BY '{password}';
REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account};
GRANT {", ".join(grants())} ON `{DATABASE_NAME}`.* TO {account};
FLUSH PRIVILEGES;
"""
    # The SQL goes on stdin, so the password never shows in a process listing.
    result = subprocess.run(
        [CLIENT, f"--defaults-file={layout.mariadb_cnf}", "--batch"],
        input=sql,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise SandboxError(f"mariadb: could not create the database and user: {result.stderr}")


def stop(layout: SandboxLayout) -> None:
    pid = running_pid(layout)
    if pid is not None:
        terminate(pid, 30.0)
