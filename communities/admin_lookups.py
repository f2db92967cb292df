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
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
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


#: Facet counts (显示计数) count every choice of every filter in one query: past this many
#: choices, a national administrator's 2,800 counties, the query has more columns than
#: SQLite (2,000) or PostgreSQL (1,664) allow, and the list is offered without counts.
FACET_CHOICES_MAX = 300


class ScopedChangeList(ChangeList):
    """A change list that applies only its own filters and only usable numbers."""

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
