"""What a change list's query string may ask for.

Django's admin applies every field lookup left in the query string once the
list filters have taken theirs: ``?id__exact=7&id_number__startswith=5`` answers
one row or none, so a masked ID number (or phone, health, birth date) comes back
one guess at a time.  ``ScopedChangeList`` therefore accepts only

* the parameters the page's own list filters and date hierarchy consume (the
  work lists' ``employment``/``on``/``below_line`` are such filters), the
  admin's own (``o``, ``q``, ``p``, ``_popup`` …), the popups' lookups from a
  foreign key's ``limit_choices_to``, and the admin's ``extra_list_lookups``
  (e.g. the dashboards' date range on 岗位推送);
* numbers a database integer can hold, and values the filters can use.

A search by a full ID number is refused to users who may not see ID numbers:
the masked number leaves only a few dozen candidates once the birth year is
known, and a search answering one row or none would confirm the right one.

Anything else gives an empty list with a Chinese message - the same answer
whatever the hidden value - and an export of it is empty as well.
"""

import datetime
import re

from django.contrib import messages
from django.contrib.admin import widgets
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import label_for_field, unquote
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .masking import may_view_sensitive

BIGINT_MAX = 2**63 - 1
FULL_ID = re.compile(r"\d{17}[\dXx]", re.ASCII)


def parse_id(value):
    """``value`` as a database id (ASCII digits, 1 … 2⁶³−1), else None."""
    value = str(value if value is not None else "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 0 < number <= BIGINT_MAX else None


def is_unusable_number(value):
    """True for text that reads as a whole number no database integer can hold.

    Such a value would reach the database (SQLite raises OverflowError) or be
    read by ``int()`` in a surprising way (``²``, Arabic-Indic digits).
    """
    digits = str(value).strip().removeprefix("-").removeprefix("+")
    if not digits.isdigit():
        return False
    return not digits.isascii() or int(digits) > BIGINT_MAX


def is_valid_object_id(model, object_id):
    """Whether ``object_id`` from a URL can be a primary key of ``model``."""
    try:
        value = model._meta.pk.to_python(unquote(object_id))
    except (ValidationError, ValueError):
        return False
    return not isinstance(value, int) or 0 < value <= BIGINT_MAX


def refuses_id_search(request):
    """A list or autocomplete search by a full ID number by a user who may not see them."""
    term = request.GET.get("q") or request.GET.get("term") or ""
    return bool(FULL_ID.fullmatch(term.replace(" ", ""))) and not may_view_sensitive(request.user)


def _popup_lookups(model):
    """(key, value) pairs the related-object popups send (``limit_choices_to``)."""
    pairs = set()
    for fk_lookup in model._meta.related_fkey_lookups:
        if callable(fk_lookup):
            fk_lookup = fk_lookup()
        pairs.update(widgets.url_params_from_lookup_dict(fk_lookup).items())
    return pairs


#: Rows past which a list is sorted only by the columns an index orders (``sorts_short_lists_only``),
#: as many as the lists count (``communities.admin_scope.CappedCountPaginator``).
SORTED_ROWS_MAX = 10_000


def capped_count(queryset, cap):
    """The rows of ``queryset``, counted up to ``cap + 1`` only: past ``cap`` nobody
    needs the exact number, and a table of millions costs a second to count.

    Only primary keys: list annotations (head's name, member count …) are not
    computed for rows that are merely counted.  Ordered by the settlement the
    scope filters on (the lists' own leading key): unordered, PostgreSQL
    merge-joins people to households from the first household id and read
    727,558 people to count a county's first 10,001 (1.0 s at 2M people);
    ordered, it walks the scope's households by settlement (35 ms).
    """
    if not isinstance(queryset, QuerySet):
        return len(queryset)
    path = getattr(queryset, "scope_path", None)
    ordering = [f"-{path}_id" if path else "-pk"] if path is not None else []
    return queryset.order_by(*ordering).values("pk")[: cap + 1].count()


#: Facet counts (显示计数) count every choice of every filter in one query: past this many
#: choices, a national administrator's 2,800 counties, the query has more columns than
#: SQLite (2,000) or PostgreSQL (1,664) allow, and the list is offered without counts.
FACET_CHOICES_MAX = 300


class ScopedChangeList(ChangeList):
    """A change list that applies only its own filters and only usable numbers, and
    sorts a list of more than ``SORTED_ROWS_MAX`` rows only by a column an index orders.

    A column's heading sorts the list (``?o=2``): by a column no index orders
    (the head's name, the member count, a choice such as 劳动力类型), PostgreSQL
    reads and sorts every row of the list for its first page: 2.2–2.8 s for a
    province's 2 million people.  Such a column (not in the admin's
    ``sortable_at_any_size``, nor a unique column of the table) sorts a list of
    at most ``SORTED_ROWS_MAX`` rows; a longer list keeps its own order, its
    heading is no link and the page says to narrow the list first.  A column
    the admin does not offer for sorting (``sortable_by``: an encrypted phone,
    whose order would be the ciphertext's) is never sorted by, whatever the
    query string asks.
    """

    sorted_rows_max = SORTED_ROWS_MAX

    def get_filters(self, request):
        self.refused_parameters = sorted(
            key
            for key, values in self.get_filters_params().items()
            if any(is_unusable_number(v) for v in values)
        )
        self.refused_parameters = sorted(
            {*self.refused_parameters, *self._unusable_date_parameters()}
        )
        for key in self.refused_parameters:
            # Not handed to any filter: it would reach the database.
            del self.filter_params[key]
            # Nor shown: the date hierarchy's links read them (2026-12-00 stopped the page).
            self.params.pop(key, None)
        # The date hierarchy's year (month, day) become bounds on its field: allowed
        # when they come from it, not when the query string gives them itself.
        bounds = set()
        if self.date_hierarchy and f"{self.date_hierarchy}__year" in self.filter_params:
            bounds = {f"{self.date_hierarchy}__gte", f"{self.date_hierarchy}__lt"}
            bounds -= set(self.filter_params)
        filters = super().get_filters(request)
        if self.is_facets_optional or self.add_facets:
            choices = sum(len(getattr(spec, "lookup_choices", ()) or ()) for spec in filters[0])
            if choices > FACET_CHOICES_MAX:
                self.add_facets = self.is_facets_optional = False
        remaining = filters[2]
        allowed = set(getattr(self.model_admin, "extra_list_lookups", ())) | bounds
        popups = {(key, str(value)) for key, value in _popup_lookups(self.model)}
        for key, values in list(remaining.items()):
            if key in allowed or all((key, str(v)) in popups for v in values):
                continue
            # Never applied: the answer must not depend on what the value guesses.
            del remaining[key]
            self.refused_parameters.append(key)
        return filters

    def sorts_short_lists_only(self, name):
        """Whether the column ``name`` of ``list_display`` is offered for sorting but
        sorts at most ``sorted_rows_max`` rows: neither named by the admin
        (``sortable_at_any_size``) nor a unique column of the table, whose index
        would give the rows in order."""
        if name not in self.sortable_by or name in getattr(
            self.model_admin, "sortable_at_any_size", ()
        ):
            return False
        order_field = self.get_ordering_field(name)
        if not order_field:
            return False  # not a column that sorts
        if not isinstance(order_field, str):
            return True  # an expression
        try:
            field = self.lookup_opts.get_field(order_field.removeprefix("-"))
        except FieldDoesNotExist:
            return True  # an annotation
        return not (
            field.concrete and not field.is_relation and (field.primary_key or field.unique)
        )

    def _labels(self, names):
        """The columns' headings, as one text naming each: 户主”“人数."""
        return _("”“").join(
            str(capfirst(label_for_field(name, self.model, self.model_admin))) for name in names
        )

    def get_ordering(self, request, queryset):
        if self.params.get(ORDER_VAR) and not self._sorting_checked:
            self._sorting_checked = True  # facet counts ask again: say it once
            self._refuse_sorting(request, queryset)
        return super().get_ordering(request, queryset)

    _sorting_checked = False

    def _refuse_sorting(self, request, queryset):
        """Drop from ``?o=`` the columns the list may not be sorted by (see the class's
        text): those not offered, and those of short lists only when the list is long,
        saying so."""
        asked = []  # (part of ?o=, column), in the order asked
        for part in self.params[ORDER_VAR].split("."):
            _none, _sign, index = part.rpartition("-")
            try:
                name = self.list_display[int(index)]
            except (IndexError, ValueError):
                continue  # Django skips it too
            if name in self.sortable_by and self.get_ordering_field(name):
                asked.append((part, name))
        bounded = [name for _part, name in asked if self.sorts_short_lists_only(name)]
        if (
            bounded
            and not self.refused_parameters
            and not refuses_id_search(request)
            and capped_count(queryset, self.sorted_rows_max) > self.sorted_rows_max
        ):
            messages.warning(
                request,
                _(
                    "列表超过 %(rows)s 条，不能按“%(columns)s”排序：请先用右侧筛选或搜索"
                    "缩小范围，再点击列标题排序。"
                )
                % {"rows": self.sorted_rows_max, "columns": self._labels(bounded)},
            )
            asked = [(part, name) for part, name in asked if name not in bounded]
        if asked:
            self.params[ORDER_VAR] = ".".join(part for part, _name in asked)
        else:
            self.params.pop(ORDER_VAR, None)

    def get_results(self, request):
        super().get_results(request)
        #: the headings of the columns that sort the list once it is narrowed
        self.sortable_when_narrowed = ""
        if self.result_count > self.sorted_rows_max:
            # Their headings are no links; the paginator's line names them.
            bounded = [name for name in self.list_display if self.sorts_short_lists_only(name)]
            self.sortable_by = [name for name in self.sortable_by if name not in bounded]
            self.sortable_when_narrowed = self._labels(bounded)

    def _unusable_date_parameters(self):
        """The date hierarchy's parameters (``held_on__year`` …) when they name no day whose
        next day, month and year exist too: Django bounds the list by them, and its
        template reads them again, so 2026-12-00 or the year 9999 stopped the page with an
        error instead of the list."""
        if not self.date_hierarchy:
            return []
        keys = [f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day")]
        given = {key: self.filter_params[key] for key in keys if key in self.filter_params}
        if not given:
            return []
        year, month, day = (given.get(key, ["1"])[-1] for key in keys)
        try:
            datetime.date(int(year), int(month), int(day))
            usable = keys[0] in given and 1 <= int(year) < datetime.MAXYEAR
        except (ValueError, OverflowError):  # a day of 10²⁰ overflows C's int
            usable = False
        return [] if usable else sorted(given)

    def get_queryset(self, request, exclude_parameters=None):
        try:
            qs = super().get_queryset(request, exclude_parameters)
        except IncorrectLookupParameters:
            # A value a filter cannot use (``?settlement__id__exact=abc``):
            # Django would redirect to the unfiltered list; an empty one with
            # a message never hands out rows that were not asked for.
            refused = sorted(self.get_filters_params())
            self.filter_params = {}
            qs = super().get_queryset(request, exclude_parameters)
            self.refused_parameters = refused
        speak = exclude_parameters is None  # not for facet counts
        if refuses_id_search(request):  # the admin's get_queryset is empty already
            if speak:
                messages.error(request, _("没有查看完整身份证号的权限，不能按完整身份证号查询。"))
            return qs.none()
        if not self.refused_parameters:
            return qs
        if speak:
            messages.error(
                request,
                _("不支持的筛选条件或无效的编号：%(params)s。列表为空，请使用页面上的筛选。")
                % {"params": "、".join(self.refused_parameters)},
            )
        return qs.none()
