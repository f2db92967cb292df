"""Admin building blocks that apply area scope and personal-data masking.

Every admin of a scoped model inherits ``ScopedAdminMixin``; it is the single
place where the admin meets ``communities.scope``: change lists, change /
delete / history URLs, search, list-filter choices, foreign-key choices and
their validation, autocomplete and exports.
"""

import dataclasses
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteMixin, AutocompleteSelect
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce, ExtractYear
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from .admin_lookups import (
    SORTED_ROWS_MAX,
    ScopedChangeList,
    capped_count,
    is_valid_object_id,
    parse_id,
    refuses_id_search,
)
from .audit import AUDITED_FIELDS, ReadAuditAdminMixin, record_history
from .crypto import EncryptedCharField
from .history_pii import is_token, shown
from .masking import MASKERS, age_on, birth_year, may_view_sensitive
from .masking import hide as _hide
from .scope import area_q, get_scope, is_region_token, settlement_of_token
from .validators import mask_phone, mask_resident_id

# Health is special-category data: without the permission it is neither shown
# nor editable.  ID numbers and phones stay editable (see SensitiveFieldsFormMixin)
# and are swapped for their masked form only where the page is read-only.
# The birth date is never typed (it follows the ID number): only its year is shown.
SWAP_ALWAYS = {
    "health": "health_masked",
    "disability_grade": "disability_grade_masked",
    "birth_date": "birth_date_masked",
}
# List columns shown instead to users without the permission.  A phone in a list
# is the number a worker calls from a work list; shown in clear it is recorded in
# the read audit (communities.audit.record_change_list).
LIST_SWAPS = {"age": "age_masked", "birth_date": "birth_date_masked", "phone": "phone_masked"}
SWAP_READ_ONLY = {
    "id_number": "id_number_masked",
    "phone": "phone_masked",
    "head_phone": "head_phone_masked",
}


def _model_field(model, name):
    """The field ``name`` of ``model``, or None (a method, a column of the admin's)."""
    if not isinstance(name, str):
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _has_field(model, name):
    return _model_field(model, name) is not None


def _shown_foreign_keys(inline):
    """The foreign keys among the fields an inline shows."""
    names = inline.fields or [f.name for f in inline.model._meta.concrete_fields]
    shown = []
    for name in names:
        try:
            field = inline.model._meta.get_field(name)
        except FieldDoesNotExist:
            continue  # a method or a form-only field
        if isinstance(field, models.ForeignKey):
            shown.append(name)
    return shown


def count_of(rows, fk):
    """Subquery: how many of ``rows`` (a queryset) point at the outer row through ``fk``.

    A subquery rather than a grouped join (``Count("pairings")``) keeps the list's
    ordering (GROUP BY queries ignore ``Meta.ordering``) and its index: a grouped
    join counted every one of a country's 217,000 cadres' pairings before the first
    page could be sorted (1.2 s), the subquery counts the page's 50 rows'.
    """
    counted = (
        rows.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted[:1]), 0)


def scoped_queryset(model, user):
    qs = model._default_manager.all()
    return qs.visible_to(user) if hasattr(qs, "visible_to") else qs


def settlement_choices(request):
    """The settlements a list's 安置点 filter offers, or None when there are too many.

    The user's settlements inside the list's ``?area=`` (if any).  Above
    ``ADMIN_SETTLEMENT_CHOICES`` of them (a province holds thousands, the
    country 35,000) none are listed: the 区域 filter offers the areas one level
    down instead (``child_areas``), until a county or a small enough area is
    chosen.  Inside a county every settlement is listed.  Read once per request
    (the 区域 filter and the 安置点 filter both ask).
    """
    if not hasattr(request, "_settlement_choices"):
        from .models import Settlement

        qs = scoped_queryset(Settlement, request.user).order_by("code")
        token = request.GET.get("area") or ""
        if token:
            q = area_q(Settlement, token)
            qs = qs.none() if q is None else qs.filter(q)
        if len(token) >= 6 or settlement_of_token(token) is not None:
            rows = list(qs)
        else:
            limit = settings.ADMIN_SETTLEMENT_CHOICES
            rows = list(qs[: limit + 1])
            rows = rows if len(rows) <= limit else None
        request._settlement_choices = rows
    return request._settlement_choices


def child_areas(request):
    """[(area token, name)] one level below the list's ``?area=``, in the user's scope.

    Only areas holding some of the user's settlements; a level with a single
    area is passed through (a province official starts at the prefectures).
    Province → prefecture → county; a county's own code stands where its
    prefecture is no region of its own (counties a province administers directly).
    """
    from .models import Region, Settlement

    token = request.GET.get("area") or ""
    if token and (not is_region_token(token) or len(token) >= 6):
        return []
    qs = scoped_queryset(Settlement, request.user)
    if token:
        qs = qs.filter(area_q(Settlement, token))
    counties = sorted(set(qs.order_by().values_list("county_id", flat=True).distinct()) - {None})
    digits = len(token)
    prefixes = []
    while digits < 6 and len(prefixes) <= 1:
        digits = 4 if digits == 2 else (2 if digits == 0 else 6)
        prefixes = sorted({county[:digits] for county in counties})
    names = dict(
        Region.objects.filter(code__in=[p.ljust(6, "0") for p in prefixes] + counties).values_list(
            "code", "name"
        )
    )
    areas = []
    for prefix in prefixes:
        if prefix.ljust(6, "0") in names:
            areas.append((prefix, names[prefix.ljust(6, "0")]))
        else:  # no region of that code: its counties, each by name
            areas += [(c, names.get(c, c)) for c in counties if c.startswith(prefix)]
    return areas


class CappedCountPaginator(Paginator):
    """Counts at most ``cap + 1`` rows, so a page never costs a full COUNT(*).

    Tables of millions are browsed by filtering and searching; beyond the cap
    the list says "more than N" (see templates/admin/pagination.html).  A count
    known beforehand (``known_count``, from stored figures) is used as it is;
    rows known per settlement (``known_counts``, ``{settlement id: rows}``) give
    the count and the settlements a page's rows are in (``page``).
    """

    cap = SORTED_ROWS_MAX

    def __init__(self, *args, known_count=None, known_counts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.known_counts = known_counts
        if known_counts is not None:
            known_count = sum(known_counts.values())
        self.known_count = known_count

    @cached_property
    def count(self):
        if self.known_count is not None:
            return self.known_count
        return capped_count(self.object_list, self.cap)

    @property
    def capped(self):
        return self.known_count is None and self.count > self.cap

    def page(self, number):
        """A page, read from the settlements that hold its rows when their rows are known
        (``_held``), and from the end of the list (or of those settlements) when it lies
        in the second half and the count is exact.

        ``OFFSET n`` makes the database produce and throw away n rows: the last page of
        a county's 19,650 households took 2.0 s.  Read in reverse order, the last page
        is the first (``OFFSET 0``) and no page skips more than half the list.  Only
        the page's keys are read so, then its rows in the list's own order (the result
        stays a QuerySet of the list, with its annotations).  The admin's lists are
        totally ordered (it adds ``-pk``), so the reverse order is exactly the list
        read backwards.
        """
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        count = self.count
        if top + self.orphans >= count:
            top = count
        rows = self.object_list
        held = self._held(bottom, top)
        if held is not None:
            rows, first, count = held
            bottom, top = bottom - first, top - first
        from_end = count - top
        if (
            from_end < bottom
            and isinstance(rows, models.QuerySet)
            and rows.ordered
            and not rows.query.distinct
            and not self.capped
        ):
            keys = list(rows.reverse().values_list("pk", flat=True)[from_end : count - bottom])
            return self._get_page(rows.filter(pk__in=keys), number, self)
        if held is not None:
            return self._get_page(rows[bottom:top], number, self)
        return super().page(number)

    def _held(self, bottom, top):
        """The settlements that hold rows ``bottom:top``: ``(their rows, the rows before
        them, how many they hold)``, or None.

        For a list in its own order (the settlement first, newest first: the
        household and person lists) whose rows per settlement are known: the
        counts of the settlements before the page tell which settlements hold
        its rows and where in them it lies.  A page then reads those settlements
        only, wherever it lies: a page in the middle of a province's
        适用权益全部落实 no longer skips 350,000 rows (37 s at 2 million people),
        and later pages of a sparse list (零就业家庭, 0.3 % of households) do not
        read every household before them.  Not for rows outside any settlement
        (the superuser's), whose place in the order differs between databases.
        """
        counts, rows = self.known_counts, self.object_list
        path = getattr(rows, "scope_path", None)
        if (
            not counts
            or None in counts
            or not path
            or not isinstance(rows, models.QuerySet)
            or rows.query.distinct
            or tuple(rows.query.order_by[:1]) not in {(f"-{path}_id",), (f"-{path}",)}
        ):
            return None
        held, first, seen = [], 0, 0
        for settlement in sorted(counts, reverse=True):
            if seen >= top:
                break
            if seen + counts[settlement] > bottom:
                if not held:
                    first = seen
                held.append(settlement)
            seen += counts[settlement]
        return rows.filter(**{f"{path}__in": held}), first, seen - first


class CountedChangeList(ScopedChangeList):
    """A change list whose count one of its list filters may give from stored figures.

    A list filter with ``stored_count(request, settlements, queryset)`` answers
    how many rows of ``queryset`` (the list as filtered) there are, from
    figures stored per settlement (``relocation.dashboards.live.stored_count``),
    or None to have them counted; its ``stored_counts`` (same arguments) how
    many each settlement holds, which past the first page tell the paginator
    where the page lies (a first page reads the list from its start anyway, and
    a province's or the country's figures one by one cost more than their sum).
    It is asked only when nothing else narrows the list but the area
    (``?area=``): no search, no other filter, no date drill-down, nothing
    refused; ``settlements`` are then the user's in that area.  The 权益保障
    lists of a province read 500,000 households' rights rows to count; their
    stored figures give the same number at once.
    """

    def get_results(self, request):
        request.stored_result_count = request.stored_result_counts = None
        counted = self.counted_by(request)
        if counted is not None:
            spec, settlements = counted
            if self.page_num > 1:
                request.stored_result_counts = spec.stored_counts(
                    request, settlements, self.queryset
                )
            else:
                request.stored_result_count = spec.stored_count(request, settlements, self.queryset)
        super().get_results(request)

    def counted_by(self, request):
        """``(the list filter that counts the list, the user's settlements in its area)``,
        or None."""
        from .models import Settlement

        spec = next(
            (s for s in self.filter_specs if s.used_parameters and hasattr(s, "stored_count")),
            None,
        )
        if spec is None or self.query or self.refused_parameters:
            return None
        area = next((s for s in self.filter_specs if isinstance(s, AreaListFilter)), None)
        allowed = set(spec.expected_parameters())
        if area is not None:
            allowed |= set(area.expected_parameters())
        if not set(self.filter_params) <= allowed:
            return None
        settlements = Settlement.objects.visible_to(request.user)
        if area is not None:
            settlements = area.queryset(request, settlements)
        return spec, settlements


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related-field filter whose choices are only the user's records."""

    depends_on = None  # e.g. "settlement": only offered once a settlement is chosen
    only_used = False  # only the records the list's own rows refer to

    def __init__(self, field, request, params, model, model_admin, field_path):
        self._request = request
        super().__init__(field, request, params, model, model_admin, field_path)

    @property
    def include_empty_choice(self):
        # "No settlement" rows are invisible to scoped users: offering the
        # choice would only show them an empty list.
        return self.field.null and get_scope(self._request.user).unrestricted

    def field_choices(self, field, request, model_admin):
        settlement = self._selected_settlement(request)
        if self.depends_on and settlement is None:
            return []  # not offered yet: never list a province's buildings
        if field.related_model._meta.label == "communities.Settlement":
            choices = settlement_choices(request)
            if choices is None:  # too many to list: the one chosen, if the user's
                chosen = parse_id(self.lookup_val[-1]) if self.lookup_val else None
                scoped = scoped_queryset(field.related_model, request.user)
                choices = scoped.filter(pk=chosen) if chosen is not None else ()
            return [(obj.pk, str(obj)) for obj in choices]
        qs = scoped_queryset(field.related_model, request.user)
        limit = field.get_limit_choices_to()  # 所在县 lists counties, not townships
        if limit:
            qs = qs.complex_filter(limit)
        if self.only_used:
            qs = qs.filter(
                pk__in=model_admin.get_queryset(request).order_by().values(field.attname)
            )
        if settlement is not None and hasattr(field.related_model, "settlement"):
            qs = qs.filter(settlement_id=settlement).select_related("settlement")
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in qs]

    def _selected_settlement(self, request):
        value = request.GET.get("settlement__id__exact") or request.GET.get("settlement")
        return parse_id(value)

    def has_output(self):
        # A value given is applied, even where the filter offers no choice (a building
        # before a settlement is chosen, a settlement among a province's thousands) or
        # only one: Django leaves out a filter without output, and with it its value,
        # so a link or a hand-made URL would show every row as if filtered.
        if self.used_parameters:
            return True
        if self.depends_on and self._selected_settlement(self._request) is None:
            return False  # offered once a settlement is chosen
        return super().has_output()


class UsedRelatedFieldListFilter(ScopedRelatedFieldListFilter):
    """Only the records the list's rows refer to (Django's ``RelatedOnlyFieldListFilter``,
    scoped): 安置点's 所在县 listed every county of the country to a national
    administrator, and with 显示计数 failed altogether.  For small lists: the choices
    read the list's rows."""

    only_used = True


class SettlementDependentListFilter(ScopedRelatedFieldListFilter):
    """Buildings and grids: offered once a settlement is chosen (else thousands)."""

    depends_on = "settlement"


class DropdownChoicesFilter(admin.ChoicesFieldListFilter):
    """A choice filter shown as a drop-down: for long lists such as ethnic groups."""

    template = "admin/dropdown_filter.html"


class SharedChoices(BaseChoiceIterator):
    """A drop-down's options, read from its queryset on first use and then reused.

    Every form of a formset copies its fields (and their widgets) shallowly, so
    all the copies share ``_read``: the first to render reads the options, the
    others reuse them; a formset that renders none reads nothing.
    """

    def __init__(self, field):
        self.field = field
        self._read = []

    def __iter__(self):
        if not self._read:
            # Not list(iterator): list() asks its len() first, one COUNT query more.
            options = []
            options.extend(iter(self.field.iterator(self.field)))
            self._read.append(options)
        return iter(self._read[0])

    def __len__(self):
        return sum(1 for _choice in self)

    def record(self, value):
        """The option's record for a submitted ``value`` (its key as text), or None.

        Read with the options, so that a formset's rows check their choices
        against one read, not one query per row."""
        if not hasattr(self, "_records"):
            self._records = {
                str(key.value): key.instance
                for key, _label in self
                if isinstance(key, forms.models.ModelChoiceIteratorValue)
            }
        return self._records.get(value) if isinstance(value, str) else None


class ScopedModelChoiceField(forms.ModelChoiceField):
    """A foreign key's drop-down whose submitted value an inline's rows check in one read.

    Django's field looks each submitted key up in its queryset, one query per
    row (the household page's 23 rights rows: 23 queries for their items).
    Under ``share_select_choices`` the options are read once for all rows, and
    a key among them is the record read with them; any other value is looked up
    as Django does, so what is refused is refused with Django's message.
    """

    def to_python(self, value):
        choices = getattr(self, "_choices", None)
        if isinstance(choices, SharedChoices):
            record = choices.record(value)
            if record is not None:
                return record
        return super().to_python(value)


class RowKeyField(forms.ModelChoiceField):
    """The hidden key of a formset's saved row, found among the rows the formset read.

    Django checks each row's key with a query of its own (23 for the rights
    rows), although the formset has read its rows already (``_existing_object``,
    from the inline's queryset: in scope, of this page's record).  A key among
    them is that row; any other is looked up as Django does.
    """

    formset = None

    def to_python(self, value):
        if self.formset is not None and value not in self.empty_values:
            formset = self.formset
            try:
                key = formset._get_to_python(formset.model._meta.pk)(value)
            except (ValidationError, TypeError, ValueError):
                key = None
            row = formset._existing_object(key) if key is not None else None
            if row is not None:
                return row
        return super().to_python(value)


def _inner(widget):
    """The widget inside the admin's related-field wrapper."""
    return getattr(widget, "widget", widget)


def share_select_choices(form_class):
    """Read each drop-down's options once for all the forms of an inline formset.

    A ``ModelChoiceField`` reads its queryset again for every form it renders
    (a fresh iterator per form, by design): the household page's 23 rights
    rows read the checklist 23 times.  The form class is built per request,
    from querysets already limited to the user's scope, so its options can be
    read once; a submitted value is still checked against the queryset.
    Autocomplete widgets read only the chosen value and keep their queryset.
    A form that narrowed a queryset per instance would have to set ``choices``
    as well (none does).
    """
    for field in form_class.base_fields.values():
        if not isinstance(field, forms.ModelChoiceField):
            continue
        widget = _inner(field.widget)
        if isinstance(widget, AutocompleteMixin) or not isinstance(widget, forms.Select):
            continue
        # Each form narrows its copy by the foreign key's limit_choices_to when it is
        # made; the shared options must be narrowed the same way, once.
        forms.models.apply_limit_choices_to_to_formfield(field)
        field.choices = SharedChoices(field)


class RowsAutocompleteSelect(AutocompleteSelect):
    """The autocomplete of a foreign key, whose chosen record an inline formset reads
    once for all its rows (``known``, set by ``RowsReadOnceFormSet``).

    Django's widget reads the chosen record when it renders, once per row: a job
    posting's 50 referrals read their people and jobs 260 times.  Without
    ``known``, or for a value it lacks, the widget reads as Django's does.
    """

    known = None  # {str(key): (key, label)}

    def optgroups(self, name, value, attr=None):
        selected = {str(v) for v in value if str(v) not in self.choices.field.empty_values}
        if self.known is None or not selected <= self.known.keys():
            return super().optgroups(name, value, attr)
        default = (None, [], 0)
        if not self.is_required:
            default[1].append(self.create_option(name, "", "", False, 0))
        for key in sorted(selected):
            option_value, label = self.known[key]
            default[1].append(
                self.create_option(name, option_value, label, selected, len(default[1]))
            )
        return [default]


class RowsReadOnceFormSet(forms.BaseInlineFormSet):
    """An inline formset whose rows do not read, row by row, what the page already has.

    * Each row's record knows the page's record as its parent object: Django sets
      only the foreign key's id, so a row's label (str(job) naming its person) read
      the parent again, once per row.
    * The records chosen in the rows' autocompletes are read once for all rows
      (``RowsAutocompleteSelect``).
    """

    #: At most this many saved rows on the page (None: all), set by ``ScopedAdminMixin``.
    max_rows = None
    #: When capped: how many rows the record has, and their list's URL (or None).
    total_rows = None
    all_rows_url = None

    def get_queryset(self):
        """The saved rows, capped at ``max_rows``: a job posting's 3,165 referrals (the
        500,000-household demo) made a page of 17 MB, and a form of more fields than
        Django accepts (``DATA_UPLOAD_MAX_NUMBER_FIELDS``), which could not be saved.
        A submitted form's rows are those the page showed (their keys), whatever was
        added since."""
        if hasattr(self, "_queryset"):
            return self._queryset
        rows = super().get_queryset()
        if self.max_rows is not None and self.instance.pk is not None:
            if self.is_bound:
                rows = rows.filter(pk__in=self._submitted_keys())
            else:
                # One query reads the rows when there are not too many, as before.
                rows_and_one = rows[: self.max_rows + 1]
                if len(rows_and_one) > self.max_rows:
                    self.total_rows = rows.count()
                    rows = rows[: self.max_rows]
                    len(rows)  # read now: the forms take their rows from it by index
                else:
                    rows = rows_and_one
            self._queryset = rows
        return rows

    def _submitted_keys(self):
        pk, keys = self.model._meta.pk, []
        for i in range(self.initial_form_count()):
            try:
                key = pk.to_python(self.data.get(f"{self.add_prefix(i)}-{pk.name}"))
            except ValidationError:
                continue  # Django refuses that row with its own message
            if key is not None:
                keys.append(key)
        return keys

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        parent = self.instance
        if parent.pk is not None and getattr(form.instance, self.fk.attname) == parent.pk:
            self.fk.set_cached_value(form.instance, parent)
        return form

    def add_fields(self, form, index):
        super().add_fields(form, index)
        name = self.model._meta.pk.name
        field = form.fields.get(name)
        if form.is_bound and type(field) is forms.ModelChoiceField:  # Django's hidden key
            key = RowKeyField(
                field.queryset, initial=field.initial, required=False, widget=field.widget
            )
            key.formset = self
            form.fields[name] = key

    @cached_property
    def forms(self):
        forms = super().forms
        for name, field in self.form.base_fields.items():
            if len(forms) < 2 or not isinstance(_inner(field.widget), RowsAutocompleteSelect):
                continue
            widgets = [_inner(form.fields[name].widget) for form in forms]
            keys = {str(form[name].value()) for form in forms} - {"", "None"}
            choices, key = forms[0].fields[name], widgets[0].field.target_field.attname  # to_field
            records = choices.queryset.using(widgets[0].db).filter(**{f"{key}__in": keys})
            known = {
                str(getattr(r, key)): (getattr(r, key), choices.label_from_instance(r))
                for r in records
            }
            for widget in widgets:
                widget.known = known
        return forms


class ScopedAdminMixin(ReadAuditAdminMixin):
    """Scope and masking for a ModelAdmin; put it first in the bases."""

    #: Foreign keys whose choices are public reference data (e.g. origin county).
    unscoped_fk_fields = ()
    #: Filters on these FK names only appear once a settlement is chosen.
    settlement_dependent_filters = ("building", "grid")
    #: Query-string lookups accepted besides the list filters' own (see admin_lookups).
    extra_list_lookups = ()
    #: An inline shows at most this many saved rows (``RowsReadOnceFormSet.get_queryset``),
    #: with a link to all of them in their own list when its admin declares the lookup.
    max_rows = 50

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not may_view_sensitive(request.user) and _has_field(qs.model, "birth_date"):
            # Sorting by age must not order people by birth date (see age_masked).
            qs = qs.annotate(masked_birth_year=ExtractYear("birth_date"))
        if refuses_id_search(request):
            # Lists, exports and autocompletes alike: no confirming a guessed ID number.
            return qs.none()
        if isinstance(self, admin.options.InlineModelAdmin):
            # An inline's rows show the records their foreign keys name (a read-only row as
            # text, str(record)): read with the rows, not once per row.
            qs = qs.select_related(*_shown_foreign_keys(self))
        return qs.visible_to(request.user) if hasattr(qs, "visible_to") else qs

    def get_sortable_by(self, request):
        """The list's columns its headings sort by, but an encrypted column (a phone):
        its order would be the ciphertext's, and reading the whole list to give it
        would take seconds."""
        return [
            name
            for name in super().get_sortable_by(request)
            if not isinstance(_model_field(self.model, name), EncryptedCharField)
        ]

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if may_view_sensitive(request.user):
            return shown
        return [LIST_SWAPS.get(name, name) if isinstance(name, str) else name for name in shown]

    def get_changelist(self, request, **kwargs):
        return CountedChangeList

    def lookup_allowed(self, lookup, value, request):
        # ScopedChangeList refuses every lookup no list filter consumed, which
        # is stricter than Django's check; refusing here would answer 400.
        return True

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Out of scope and non-existent look the same: a plain 404, never a hint.
        raise Http404

    def _404_unless_visible(self, request, object_id):
        # Before any permission check, so that a 403 cannot tell a hidden
        # record from a missing one.
        if self.get_object(request, object_id) is None:
            raise Http404

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._404_unless_visible(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._404_unless_visible(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._404_unless_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def get_list_filter(self, request):
        wrapped = []
        if getattr(self.model._default_manager.all(), "scope_path", None) is not None:
            wrapped.append(AreaListFilter)
        for item in super().get_list_filter(request):
            if isinstance(item, str) and "__" not in item:
                field = self.model._meta.get_field(item)
                if field.is_relation and field.many_to_one:
                    if item in self.settlement_dependent_filters:
                        item = (item, SettlementDependentListFilter)
                    else:
                        item = (item, ScopedRelatedFieldListFilter)
            wrapped.append(item)
        return wrapped

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", ScopedModelChoiceField)
        if db_field.name not in self.unscoped_fk_fields and "queryset" not in kwargs:
            kwargs["queryset"] = self._choice_queryset(db_field, request)
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            # Django's autocomplete, whose chosen record an inline reads once for all rows.
            kwargs["widget"] = RowsAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = self._choice_queryset(db_field, request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _choice_queryset(self, db_field, request):
        return scoped_queryset(db_field.related_model, request.user)

    def get_formset(self, request, obj=None, **kwargs):
        # Inlines only: a ModelAdmin has no formset of its own.
        formset = super().get_formset(request, obj, **kwargs)
        share_select_choices(formset.form)
        extra = {"max_rows": self.max_rows}
        if obj is not None and obj.pk is not None:
            extra["all_rows_url"] = self._all_rows_url(request, formset.fk, obj)
        return type(formset.__name__, (RowsReadOnceFormSet, formset), extra)

    def _all_rows_url(self, request, fk, obj):
        """The list of this inline's rows of ``obj`` (``?<fk>__id__exact=<pk>``), when the
        rows' admin accepts that lookup (``extra_list_lookups``) and the user may view it."""
        model_admin = self.admin_site._registry.get(self.model)
        lookup = f"{fk.name}__id__exact"
        if model_admin is None or lookup not in model_admin.extra_list_lookups:
            return None
        if not model_admin.has_view_or_change_permission(request):
            return None
        opts = self.model._meta
        url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")
        return f"{url}?{urlencode({lookup: obj.pk})}"

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return CappedCountPaginator(
            queryset,
            per_page,
            orphans,
            allow_empty_first_page,
            known_count=getattr(request, "stored_result_count", None),
            known_counts=getattr(request, "stored_result_counts", None),
        )

    # --- personal data ------------------------------------------------------
    def _sensitive_swaps(self, request, obj):
        if may_view_sensitive(request.user):
            return {}
        swaps = dict(SWAP_ALWAYS)
        if not self.has_change_permission(request, obj):
            swaps.update(SWAP_READ_ONLY)
        # Only the model's own fields: else every inline grows empty masked columns.
        return {name: swap for name, swap in swaps.items() if _has_field(self.model, name)}

    def get_fieldsets(self, request, obj=None):
        swaps = self._sensitive_swaps(request, obj)
        fieldsets = super().get_fieldsets(request, obj)
        if not swaps:
            return fieldsets
        return [
            (name, {**opts, "fields": [swaps.get(f, f) for f in opts["fields"]]})
            for name, opts in fieldsets
        ]

    def get_fields(self, request, obj=None):
        swaps = self._sensitive_swaps(request, obj)
        return [swaps.get(f, f) for f in super().get_fields(request, obj)]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        swaps = self._sensitive_swaps(request, obj)
        return readonly + [v for v in swaps.values() if v not in readonly]

    @admin.display(description=_("身份证号"))
    def id_number_masked(self, obj):
        return mask_resident_id(obj.id_number)

    @admin.display(description=_("联系电话"))
    def phone_masked(self, obj):
        return mask_phone(obj.phone)

    @admin.display(description=_("楼栋长电话"))
    def head_phone_masked(self, obj):
        return mask_phone(obj.head_phone)

    @admin.display(description=_("健康状况"))
    def health_masked(self, obj):
        return _hide(obj.health)

    @admin.display(description=_("残疾等级"))
    def disability_grade_masked(self, obj):
        return _hide(obj.disability_grade)

    @admin.display(description=_("出生年份"))
    def birth_date_masked(self, obj):
        return birth_year(obj.birth_date)

    @admin.display(description=_("年龄"), ordering="-masked_birth_year")
    def age_masked(self, obj):
        return age_on(obj.birth_date, timezone.localdate(), reveal=False)


class MaskingHistoryHelper(HistoricalRecordContextHelper):
    """Masks personal data in the change history unless the user may see it."""

    def __init__(self, model, historical_record, *, reveal, shown=None):
        super().__init__(model, historical_record)
        self.reveal = reveal
        #: the audited fields (``AUDITED_FIELDS``) shown in clear, for the read audit;
        #: None: not noted
        self.shown = shown

    def note_shown(self, name, value):
        """``value`` of ``name`` is shown in clear: noted when the read audit asks for it."""
        if self.reveal and self.shown is not None and value not in (None, ""):
            self.shown.add(name)

    def format_delta_change(self, change):
        if is_token(change.old) or is_token(change.new):
            # Kept masked in the history (history_pii): the mask, for everyone,
            # without the per-field maskers of subclasses.
            old, new = self.stringify_delta_change_values(
                change, shown(change.old), shown(change.new)
            )
            field = capfirst(self.model._meta.get_field(change.field).verbose_name)
            return dataclasses.replace(change, field=field, old=old, new=new)
        return super().format_delta_change(change)

    def prepare_delta_change_value(self, change, value):
        if not self.reveal and change.field in MASKERS:
            value = MASKERS[change.field](value)
        else:
            value = self._readable(change.field, super().prepare_delta_change_value(change, value))
            if change.field in AUDITED_FIELDS:
                self.note_shown(change.field, value)
        if isinstance(value, DeletedObject):
            # simple_history's stand-in for an empty or deleted foreign key
            # (its English text would read "Deleted 楼栋 (pk=None)").
            if value.pk is None:
                return "—"
            return _("已删除的%(model)s（编号 %(pk)s）") % {
                "model": value.model._meta.verbose_name,
                "pk": value.pk,
            }
        # An empty value reads "—", never "None".
        return "—" if value is None or value == "" else value

    def _readable(self, name, value):
        """What the pages show: a choice's label (「已排除」, not ``excluded``), 是/否 for a
        yes-or-no field, instead of the stored value."""
        if isinstance(value, bool):
            return _("是") if value else _("否")
        field = self.model._meta.get_field(name)
        if field.choices and isinstance(value, str | int):
            return dict(field.flatchoices).get(value, value)
        return value


class ScopedHistoryAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """History pages that obey scope and masking like every other page."""

    def get_inlines(self, request, obj):
        """Without the inlines that need the saved record (``on_add_page = False``) on the add
        page.  Their permissions must not refuse a missing record themselves: Django reads an
        inline's rows after asking for its view permission without the record."""
        if obj is None:
            return [inline for inline in self.inlines if getattr(inline, "on_add_page", True)]
        return self.inlines

    def history_view(self, request, object_id, extra_context=None):
        if not is_valid_object_id(self.model, object_id):
            raise Http404  # ``abc`` or 2**70 would reach the database and fail there
        # The audited values its changes show in clear (``MaskingHistoryHelper.note_shown``).
        request.shown_in_history = set()
        if get_scope(request.user).unrestricted:
            # May also read the history of deleted records.
            return SimpleHistoryAdmin.history_view(self, request, object_id, extra_context)
        return super().history_view(request, object_id, extra_context)

    def render_history_view(self, request, template, context, **kwargs):
        response = super().render_history_view(request, template, context, **kwargs)
        shown = getattr(request, "shown_in_history", None)
        record_history(request, response, context.get("object"), shown, self.audited_reads)
        return response

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # A past version rendered as a form would bypass masking; the list of
        # changes on the history page says everything a user may read.
        raise Http404

    #: How a change of the history page is shown (masked): a model with more to hide
    #: names its own subclass.
    history_helper_class = MaskingHistoryHelper

    def get_historical_record_context_helper(self, request, historical_record):
        return self.history_helper_class(
            self.model,
            historical_record,
            reveal=may_view_sensitive(request.user),
            shown=getattr(request, "shown_in_history", None),
        )


class SensitiveFieldsFormMixin:
    """Hides stored ID numbers and phones from users without the permission.

    For such users an existing value is shown masked as the placeholder of an
    empty input; leaving it empty keeps the stored value, typing a new one
    replaces it (and is validated).  New records are typed in as usual.
    """

    sensitive_fields = ("id_number", "phone")
    reveal_sensitive = True  # set per request by the admin

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.reveal_sensitive or not self.instance.pk:
            return
        for name in self.sensitive_fields:
            field = self.fields.get(name)
            stored = getattr(self.instance, name, "")
            if field is None or not stored:
                continue
            field.required = False
            self.initial[name] = ""
            field.widget.attrs["placeholder"] = MASKERS[name](stored)
            field.help_text = _("已隐藏；留空则保持原值，输入新值则更新。")

    def _post_clean(self):
        if not self.reveal_sensitive and self.instance.pk:
            for name in self.sensitive_fields:
                if name in self.cleaned_data and not self.cleaned_data[name]:
                    self.cleaned_data[name] = getattr(self.instance, name)
        super()._post_clean()


def form_for_user(form_class, request):
    """A subclass of ``form_class`` that knows whether the user may see personal data."""
    return type(
        form_class.__name__,
        (form_class,),
        {"reveal_sensitive": may_view_sensitive(request.user), "__module__": __name__},
    )


class AreaListFilter(admin.SimpleListFilter):
    """``?area=<token>``: the rows inside one region or settlement (see ``area_q``).

    The dashboards link every figure, at every level, to the list behind it with
    this parameter.  It is added to every scoped admin by ``ScopedAdminMixin``;
    it shows in the sidebar only while it is in use, naming the area (a
    settlement outside the user's scope is never named).
    """

    title = _("区域")
    parameter_name = "area"

    def lookups(self, request, model_admin):
        token = self.value()
        # Too many settlements for the 安置点 filter: narrow by area first.
        children = child_areas(request) if settlement_choices(request) is None else []
        if not token:
            return children
        from .models import Region, Settlement

        label = "—"
        settlement_id = settlement_of_token(token)
        if settlement_id is not None:
            settlement = scoped_queryset(Settlement, request.user).filter(pk=settlement_id).first()
            label = settlement.name if settlement else label
        elif is_region_token(token):
            region = (
                Region.objects.filter(code__startswith=token)
                .order_by("level", "code")
                .only("name")
                .first()
            )
            label = region.name if region else label
        return [(token, label), *children]

    def queryset(self, request, queryset):
        token = self.value()
        if not token:
            return queryset
        q = area_q(queryset.model, token)
        return queryset.none() if q is None else queryset.filter(q)
