"""Keyset pagination read settlement by settlement, never ``OFFSET``.

A list is ordered by the settlement its rows belong to, then by their household
(for people, employment records and incomes), then by id; the ``next`` link
carries that key of the page's last row in an opaque cursor, and the next page
starts right after it.

Why not simply the id: an account limited to a county would then walk the
primary key from the start and test each row's settlement until its page is
full, which is slow wherever the county's rows sit late in id order (about a
second at two million people).  Read settlement by settlement, PostgreSQL
starts from the settlement index at the cursor's settlement, follows the
household and person indexes and stops when the page is full, so the first page
of a county costs what any page of the whole country costs, and a page deep in
the list costs what the first one does.  Rows written meanwhile never shift a
page.
"""

from django.db.models import F, Q
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination

from communities.admin_lookups import parse_id


def keys_for(queryset, by_settlement=True):
    """The ordering key of a scoped queryset: settlement, household (if any), id.

    That is the order of the household index (settlement, id), so a page reads
    one household's rows after another and sorts only those.  Without
    ``by_settlement`` (an account that sees everything and asked for no area:
    nothing to look for, and households without a settlement are listed too)
    the key is the id alone.  Derived from the queryset's ``scope_path`` (the
    lookup to its settlement): ``""`` → ``(pk)``; ``settlement`` →
    ``(settlement, pk)``; ``household__settlement`` →
    ``(household__settlement, household, pk)``; ``person__household__settlement``
    → ``(… settlement, person__household, pk)``.
    """
    path = getattr(queryset, "scope_path", None)
    if not path or not by_settlement:
        return ("pk",)
    parts = path.split("__")
    if len(parts) == 1:
        return (f"{path}_id", "pk")
    return (f"{path}_id", "__".join(parts[:-1]) + "_id", "pk")


def after(keys, position, reverse=False):
    """Rows strictly after (before, if ``reverse``) ``position`` in the order of ``keys``.

    ``(a, b, c) > (x, y, z)`` written out as ``a > x OR (a = x AND b > y) OR …``,
    with ``a >= x`` beside it so that PostgreSQL enters the settlement index at
    the cursor's settlement.
    """
    beyond = "lt" if reverse else "gt"
    condition = Q()
    for depth, key in enumerate(keys):
        same = dict(zip(keys[:depth], position[:depth], strict=True))
        condition |= Q(**same, **{f"{key}__{beyond}": position[depth]})
    return Q(**{f"{keys[0]}__{beyond}e": position[0]}) & condition


class KeysetPagination(CursorPagination):
    ordering = "pk"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def paginate_queryset(self, queryset, request, view=None):
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        keys = keys_for(queryset, getattr(view, "by_settlement", True))
        self.cursor = self.decode_cursor(request)
        position = None
        if self.cursor is not None and self.cursor.position is not None:
            position = self._parse_position(self.cursor.position, len(keys))
        reverse = bool(self.cursor and self.cursor.reverse)

        # Each key read as an annotation, so the cursor can be written from a row.
        names = [f"_key{i}" for i in range(len(keys) - 1)] + ["pk"]
        queryset = queryset.annotate(
            **{n: F(k) for n, k in zip(names, keys, strict=True) if n != "pk"}
        )
        if position is not None:
            queryset = queryset.filter(after(keys, position, reverse))
        order = [f"-{name}" if reverse else name for name in names]
        results = list(queryset.order_by(*order)[: self.page_size + 1])
        self.page = results[: self.page_size]
        has_more = len(results) > len(self.page)
        self._names = names
        if reverse:
            self.page.reverse()
            self.has_next, self.has_previous = position is not None, has_more
        else:
            self.has_next, self.has_previous = has_more, position is not None
        self.current_position = self.cursor.position if position is not None else None
        if (self.has_previous or self.has_next) and self.template is not None:
            self.display_page_controls = True
        return self.page

    def _position_of(self, row):
        return ".".join(str(getattr(row, name)) for name in self._names)

    def _link(self, reverse, row):
        position = self._position_of(row) if row is not None else self.current_position
        return self.encode_cursor(Cursor(offset=0, reverse=reverse, position=position))

    def get_next_link(self):
        if not self.has_next:
            return None
        return self._link(False, self.page[-1] if self.page else None)

    def get_previous_link(self):
        if not self.has_previous:
            return None
        return self._link(True, self.page[0] if self.page else None)

    def _parse_position(self, text, length):
        position = [parse_id(part) for part in str(text).split(".")]
        if len(position) != length or None in position:
            raise NotFound(self.invalid_cursor_message)
        return position

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.offset:
            raise NotFound(self.invalid_cursor_message)
        return cursor
