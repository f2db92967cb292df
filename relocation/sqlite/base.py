"""Django's SQLite backend, beginning read-only requests' transactions DEFERRED, with
what the project's SQL uses of PostgreSQL: the ``BIT_OR`` aggregate
(``relocation.dashboards.bydate``'s date masks) and the ``natural`` collation
(``communities.ordering``: 第2网格 before 第10网格)."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.sqlite3 import base

_reads_only = ContextVar("sqlite_reads_only", default=False)


@contextmanager
def deferred_transactions():
    """Inside: transactions begin DEFERRED (take no lock until they write)."""
    token = _reads_only.set(True)
    try:
        yield
    finally:
        _reads_only.reset(token)


class BitOr:
    """``BIT_OR(x)``: the bitwise OR of the integers given (NULLs left out), 0 for none
    (PostgreSQL's gives NULL for none; the masks it serves come from rows, never none)."""

    def __init__(self):
        self.value = 0

    def step(self, value):
        if value is not None:
            self.value |= value

    def finalize(self):
        return self.value


class DatabaseWrapper(base.DatabaseWrapper):
    #: Whether the transaction begun last began DEFERRED (``write_after_reads``).
    began_deferred = False

    def get_new_connection(self, conn_params):
        from communities.ordering import COLLATION, natural_compare

        conn = super().get_new_connection(conn_params)
        conn.create_aggregate("BIT_OR", 1, BitOr)
        conn.create_collation(COLLATION, natural_compare)
        return conn

    def _start_transaction_under_autocommit(self):
        self.began_deferred = _reads_only.get()
        if self.began_deferred:
            self.cursor().execute("BEGIN DEFERRED")
        else:
            super()._start_transaction_under_autocommit()


def write_after_reads(func, using=DEFAULT_DB_ALIAS):
    """Call ``func`` (which writes) now, or when the read transaction it is in commits.

    A transaction begun DEFERRED that has read cannot take SQLite's write lock
    once another connection has written since it began: SQLite answers
    "database is locked" at once (the busy timeout does not apply, its snapshot
    is out of date).  A page that reads personal data and then records that it
    showed it (``communities.audit``) met exactly that whenever two people
    opened pages at once.  Inside such a transaction ``func`` therefore runs
    when it commits, before the response leaves, in a transaction of its own
    begun IMMEDIATE, which waits for the lock; an exception it raises still
    fails the request.  Outside a transaction (a read request's streamed export)
    it runs now, in its own IMMEDIATE transaction; anywhere else (PostgreSQL, a
    request that writes, a test's own transaction) now, in the caller's.
    """
    connection = connections[using]
    if connection.vendor != "sqlite" or not _reads_only.get():
        return func()
    if connection.in_atomic_block and getattr(connection, "began_deferred", False):
        transaction.on_commit(lambda: _immediately(func), using=using)
        return None
    return _immediately(func)


def _immediately(func):
    token = _reads_only.set(False)
    try:
        return func()
    finally:
        _reads_only.reset(token)
