"""MySQL/MariaDB database-level privilege names: plain data, importable without a driver."""

from __future__ import annotations

ALL_PRIVILEGES: frozenset[str] = frozenset(
    {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "CREATE",
        "DROP",
        "ALTER",
        "INDEX",
        "REFERENCES",
        "CREATE TEMPORARY TABLES",
        "LOCK TABLES",
        "CREATE VIEW",
        "SHOW VIEW",
        "CREATE ROUTINE",
        "ALTER ROUTINE",
        "EXECUTE",
        "TRIGGER",
        "EVENT",
        "DELETE HISTORY",
    }
)
"""What ``ALL PRIVILEGES`` on a database grants, for comparing with a required list."""
