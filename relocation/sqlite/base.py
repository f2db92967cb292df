"""Django's SQLite backend, beginning read-only requests' transactions DEFERRED."""

from contextlib import contextmanager
from contextvars import ContextVar

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


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self):
        if _reads_only.get():
            self.cursor().execute("BEGIN DEFERRED")
        else:
            super()._start_transaction_under_autocommit()
