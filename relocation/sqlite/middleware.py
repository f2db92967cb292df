"""Requests that only read begin their database transaction without the write lock."""

from .base import deferred_transactions

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class DeferredReadsMiddleware:
    """GET, HEAD and OPTIONS run with DEFERRED transactions on SQLite (no-op elsewhere)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in READ_METHODS:
            return self.get_response(request)
        with deferred_transactions():
            return self.get_response(request)
