"""For tests: a transaction on a connection of its own, as another process's would be."""

import psycopg
from django.db import connection


def other_transaction():
    """A psycopg connection to the test database inside a transaction that has its id (as
    one that wrote would), and that id; ``(None, None)`` on SQLite, where transactions'
    ids are not known (``engine.running_transactions``)."""
    if connection.vendor != "postgresql":
        return None, None
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    other = psycopg.connect(**params)
    xid = other.execute("SELECT pg_current_xact_id()::text").fetchone()[0]
    return other, xid


def committed_transaction_id():
    """The id of a transaction that ran and committed (None on SQLite)."""
    other, xid = other_transaction()
    if other is not None:
        other.commit()
        other.close()
    return xid
