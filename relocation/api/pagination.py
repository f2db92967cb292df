"""Keyset pagination: pages follow the primary key, never ``OFFSET``.

Page 5,000 of two million people costs what page 1 costs (an index range
scan from the last id of the page before), and rows written meanwhile never
shift a page.  The ``next`` link carries an opaque cursor.
"""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    ordering = "pk"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            position = str(cursor.position)
            if not (position.isascii() and position.isdigit() and int(position) < 2**63):
                raise NotFound(self.invalid_cursor_message)
        return cursor
