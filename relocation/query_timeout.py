"""A page whose query PostgreSQL cancelled (``DATABASE_STATEMENT_TIMEOUT_MS``) says so.

The web service limits how long one query may run (deploy/gunicorn.conf.py), so
that a query never outlives its request: gunicorn replaces a worker stuck past
its timeout, but the query would run on in PostgreSQL, taking a core for minutes.
Cancelled, it reaches the view as an ``OperationalError`` caused by
``QueryCanceled``; ``ATOMIC_REQUESTS`` has rolled the request's transaction back,
so nothing it wrote is kept.  The user gets 503 with a Chinese explanation and
what to do (narrow the list), instead of the generic error page; the log names the
path (never the query string, which may hold a searched name).
"""

import logging

from django.db import OperationalError
from django.shortcuts import render
from psycopg.errors import QueryCanceled

logger = logging.getLogger(__name__)


def is_cancelled_query(exception):
    """Whether ``exception`` is PostgreSQL cancelling a query (timeout or cancel request)."""
    return isinstance(exception, OperationalError) and isinstance(
        exception.__cause__, QueryCanceled
    )


class QueryTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_cancelled_query(exception):
            return None
        logger.warning("query cancelled (statement timeout): %s %s", request.method, request.path)
        return render(request, "503_query_timeout.html", status=503)
