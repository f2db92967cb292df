"""Services and culture: protection (admin).

Benefit records (待遇记录) and temporary assistance (临时救助) of a person, the
rights checklist of a province (权益类别 and 权益事项) and each household's
state of each right (权益落实情况); the person page gains the benefit and
assistance tables and the work lists (``?protection=…``), the household page
the rights checklist and ``?rights=…``.

Every admin goes through ``communities.admin_scope.ScopedAdminMixin`` (area
scope on lists, URLs, filter and foreign-key choices, autocomplete, exports).
The two disability subsidies reveal a disability, which is health data: users
who may not see health (``communities.masking.may_view_sensitive``) neither
see nor enter those records, and the work list 「患大病或残疾但未参加医保」 is
not offered to them (asked for by URL, it is empty with a message); users who may see
them are recorded in the read audit as shown the person's health (list, page, history).
"""

import copy

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.db.models import Count
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from communities.admin_reference import ProvinceReferenceAdminMixin
from communities.admin_scope import ScopedAdminMixin, ScopedHistoryAdmin
from communities.masking import may_view_sensitive
from communities.models import Household, Settlement
from communities.plugins import household_page, person_page, work_lists
from communities.worklists import work_row
from employment.admin import PersonColumnsMixin
from employment.admin_filters import (
    EmploymentListFilter,
    HouseholdSettlementFilter,
    ScopedSettlementFilter,
)
from relocation.dashboards import links
from relocation.dashboards.live import difference, figure, stored_today
from relocation.dashboards.registry import Window

from ..indicators.protection import item_prefix, rights_items
from ..models import protection as rules
from ..models.protection import (
    HEALTH_KINDS,
    BenefitKind,
    BenefitRecord,
    HouseholdRight,
    RightsCategory,
    RightsItem,
    RightState,
    TemporaryAssistance,
    household_province,
)

# --- helpers ---------------------------------------------------------------------------


class ProtectionListFilter(EmploymentListFilter):
    """A list of ``lists`` counted on a date (``date_parameter``, default today), like employment's.

    Users who may not see birth dates get the list on a period end
    (``communities.worklists.reference_date_for``), so that choosing days
    cannot find a birthday; lists in ``health_lists`` are offered only to users
    who may see health and are empty, with a message, for anyone else.
    """

    health_lists = frozenset()
    #: True where no birth date is involved: the date asked for is used as it is.
    exact_dates = False

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        if self.exact_dates and self.chosen_date is not None:
            self.used_date = self.chosen_date
        if self.used_date is not None and self.on_raw is not None:
            self.title = _("%(title)s（%(date)s）") % {
                "title": type(self).title,
                "date": self.used_date.isoformat(),
            }
        else:
            self.title = type(self).title

    def lookups(self, request, model_admin):
        reveal = may_view_sensitive(request.user)
        return [
            (key, label)
            for key, (label, _rule) in self.lists.items()
            if reveal or key not in self.health_lists
        ]

    def queryset(self, request, queryset):
        if self.value() in self.health_lists and not may_view_sensitive(request.user):
            messages.error(request, _("该清单涉及健康信息，您没有查看健康信息的权限。"))
            return queryset.none()
        return super().queryset(request, queryset)


class PersonProtectionFilter(ProtectionListFilter):
    """``?protection=<list>[&protection_on=YYYY-MM-DD]`` on the person list (``services.models.protection``)."""

    title = _("社会保障")
    parameter_name = "protection"
    # Its own date parameter: employment's lists on the same page take ``on``.
    date_parameter = "protection_on"
    lists = rules.PERSON_LISTS
    health_lists = rules.HEALTH_LISTS


class HouseholdRightsFilter(ProtectionListFilter):
    """``?rights=complete|incomplete[&rights_on=YYYY-MM-DD]`` on the household list."""

    title = _("权益保障")
    parameter_name = "rights"
    date_parameter = "rights_on"
    exact_dates = True
    lists = rules.HOUSEHOLD_LISTS

    #: The dashboards' 权益保障 figures per settlement count the same households
    #: (``services.indicators.protection.rights``).
    from_figures = {
        "complete": figure("rights_households_complete"),
        "incomplete": difference("rights_households", "rights_households_complete"),
    }


class HouseholdRightItemFilter(ProtectionListFilter):
    """``?rights_item=<pk>&rights_item_state=applicable|secured|open[&rights_item_on=YYYY-MM-DD]``.

    The households behind one row of the dashboards' 权益事项落实情况 table
    (``rules.item_households``).  Shown when a dashboard link (or the URL) names an item.
    """

    title = _("权益事项落实")
    parameter_name = "rights_item_state"
    date_parameter = "rights_item_on"
    item_parameter = "rights_item"
    exact_dates = True

    def __init__(self, request, params, model, model_admin):
        self.item_raw = (
            params.pop(self.item_parameter)[-1] if self.item_parameter in params else None
        )
        self.item = None
        if self.item_raw is not None and self.item_raw.isdigit():
            self.item = (
                RightsItem.objects.select_related("category").filter(pk=int(self.item_raw)).first()
            )
        self.lists = {key: (label, self._rule(key)) for key, label in rules.ITEM_STATES.items()}
        super().__init__(request, params, model, model_admin)
        if self.item_raw is not None:
            self.used_parameters[self.item_parameter] = self.item_raw
        if self.item is not None:
            self.title = _("%(title)s：%(item)s") % {"title": self.title, "item": self.item}

    def _rule(self, state):
        return lambda qs, on_date: rules.item_households(qs, self.item, state, on_date)

    def figures(self, value):
        """Today's per-item figures of an active item (an inactive one has none)."""
        if self.item is None or not self.item.active or value not in rules.ITEM_STATES:
            return None
        prefix = item_prefix(self.item.pk)
        applicable, secured = f"{prefix}applicable", f"{prefix}secured"
        if value == "open":
            return difference(applicable, secured)
        return figure(applicable if value == "applicable" else secured)

    def expected_parameters(self):
        return [*super().expected_parameters(), self.item_parameter]

    def lookups(self, request, model_admin):
        if self.item_raw is None and self.parameter_name not in self.used_parameters:
            return []
        return list(rules.ITEM_STATES.items())

    def queryset(self, request, queryset):
        if self.item_raw is None and self.value() is None:
            return queryset
        if self.item is None:
            messages.error(
                request,
                _("没有编号为“%(value)s”的权益事项。") % {"value": self.item_raw or ""},
            )
            return queryset.none()
        if self.value() is None:
            messages.error(request, _("请选择该权益事项的落实情况（适用、已落实或待落实）。"))
            return queryset.none()
        return super().queryset(request, queryset)


class BenefitCoveringFilter(admin.SimpleListFilter):
    """待遇记录 in force today, or not."""

    title = _("当前在享")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", _("在享")), ("no", _("已停止或未开始"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "yes":
            return queryset.covering(today)
        if self.value() == "no":
            return queryset.not_covering(today)
        return queryset


class BenefitKindFilter(admin.SimpleListFilter):
    """待遇类型; the disability subsidies only for users who may see health."""

    title = _("待遇类型")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        reveal = may_view_sensitive(request.user)
        return [(k, label) for k, label in BenefitKind.choices if reveal or k not in HEALTH_KINDS]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value not in BenefitKind.values:
            messages.error(request, _("没有名为“%(value)s”的待遇类型。") % {"value": value})
            return queryset.none()
        return queryset.filter(kind=value)


class ItemFilter(admin.SimpleListFilter):
    """权益事项 of the provinces the user's area touches."""

    title = _("权益事项")
    parameter_name = "item"

    def lookups(self, request, model_admin):
        return [(str(i.pk), str(i)) for i in rules.items_for_user(request.user)]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(item_id=int(value))
        return queryset


class ProtectionAdmin(ScopedHistoryAdmin):
    """Scope and change history; big tables never count themselves."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50


# --- benefit records and temporary assistance ----------------------------------------------


class BenefitKindFormMixin:
    """The kind field without the disability subsidies for users who may not see health."""

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "kind" and not may_view_sensitive(request.user):
            kwargs["choices"] = [
                (k, label) for k, label in BenefitKind.choices if k not in HEALTH_KINDS
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)


@admin.register(BenefitRecord)
class BenefitRecordAdmin(BenefitKindFormMixin, PersonColumnsMixin, ProtectionAdmin):
    list_select_related = ("person",)
    autocomplete_fields = ("person",)
    list_display = (
        "person_name",
        "person_id_masked",
        "kind",
        "start_date",
        "end_date",
        "monthly_amount",
    )
    list_filter = (ScopedSettlementFilter, BenefitKindFilter, BenefitCoveringFilter)
    fields = ("person", "kind", "start_date", "end_date", "monthly_amount", "notes")
    # Each person's records together (by kind, newest first), the people grouped by
    # settlement and household as on the person list: walked from the households'
    # (settlement, id) index, a county's first page reads its own rows.  By person
    # alone (the model's order) it read the country's people from the first id up to
    # the county's: 0.7 s at 2 million people.
    ordering = (
        "-person__household__settlement_id",
        "-person__household_id",
        "person_id",
        "kind",
        "-start_date",
    )

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if may_view_sensitive(request.user) else qs.exclude(kind__in=HEALTH_KINDS)

    def audited_reads(self, obj):
        return obj.health_reads()


@admin.register(TemporaryAssistance)
class TemporaryAssistanceAdmin(PersonColumnsMixin, ProtectionAdmin):
    list_select_related = ("person",)
    autocomplete_fields = ("person",)
    list_display = ("person_name", "person_id_masked", "granted_on", "amount", "reason")
    list_filter = (ScopedSettlementFilter,)
    # The dashboards' 临时救助 figures link to the period's payments.
    extra_list_lookups = ("granted_on__gte", "granted_on__lte")
    date_hierarchy = "granted_on"
    fields = ("person", "granted_on", "amount", "reason")


class BenefitRecordInline(BenefitKindFormMixin, ScopedAdminMixin, admin.TabularInline):
    """待遇记录 on the person page: stop a benefit with its end date, start the next."""

    model = BenefitRecord
    fk_name = "person"
    extra = 0
    fields = ("kind", "start_date", "end_date", "monthly_amount", "notes")
    verbose_name_plural = _("待遇记录（医保、养老、低保、特困、两项补贴）")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if may_view_sensitive(request.user) else qs.exclude(kind__in=HEALTH_KINDS)


class TemporaryAssistanceInline(ScopedAdminMixin, admin.TabularInline):
    model = TemporaryAssistance
    fk_name = "person"
    extra = 0
    fields = ("granted_on", "amount", "reason")


# --- rights checklist ------------------------------------------------------------------


class RightsItemInline(admin.TabularInline):
    model = RightsItem
    extra = 0
    fields = ("name", "order", "active")


@admin.register(RightsCategory)
class RightsCategoryAdmin(ProvinceReferenceAdminMixin, ScopedHistoryAdmin):
    """A province's checklist: read by everyone, written by its whole-province administrators."""

    list_display = ("name", "side", "province", "order", "item_count")
    list_filter = ("side",)
    inlines = (RightsItemInline,)
    unscoped_fk_fields = ("province",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_items=Count("items"))

    @admin.display(description=_("事项数"), ordering="n_items")
    def item_count(self, obj):
        return obj.n_items


def item_coverage(user, on_date=None):
    """Per active item, the households of ``user``'s area by their state of it today:
    ``{item pk: {"applicable", "secured", "open", "not_applicable": households}}``
    (open, 待落实或未核实: applicable and not secured), by the rule of the lists behind
    them (``rules.item_households``).

    Read from today's stored per-item figures (the dashboards' ``rights_items``),
    with the settlements changed since the last refresh counted live by the same
    source (``live.stored_today``): counting every household's rows live scans
    the whole table (11 million rows at 500,000 households) for a province.
    Everything is counted live before today's figures are stored.
    """
    on_date = on_date or timezone.localdate()
    settlements = Settlement.objects.visible_to(user)
    items = dict(RightsItem.objects.active().values_list("pk", "category__province_id"))
    if not items:
        return {}
    names = {
        pk: tuple(f"{item_prefix(pk)}{part}" for part in ("applicable", "secured")) for pk in items
    }
    keys = [key for pair in names.values() for key in pair]
    # Per settlement: its items' figures and its households (the population source's).
    stored = stored_today(settlements, [*keys, "households"], per_settlement=True)
    if stored is None:
        rows, live_ids = {}, list(settlements.values_list("pk", flat=True))
    else:
        rows, live_ids = stored
    if live_ids:
        window = Window(start=on_date, reference_date=on_date, income_year=on_date.year)
        live = rights_items(Settlement.objects.filter(pk__in=live_ids), [window])(window)
        counted = (
            Household.objects.filter(settlement__in=live_ids)
            .values_list("settlement_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for settlement_id, n in counted:
            rows[settlement_id] = {**live.get(settlement_id, {}), "households": n}
    county = dict(Settlement.objects.filter(pk__in=list(rows)).values_list("pk", "county_id"))
    sums, households = dict.fromkeys(keys, 0), {}
    for settlement_id, row in rows.items():
        province = county[settlement_id][:2]
        households[province] = households.get(province, 0) + row.get("households", 0)
        for key, value in row.items():
            if key in sums:
                sums[key] += value
    coverage = {}
    for pk, province in items.items():
        applicable, secured = (sums[key] for key in names[pk])
        coverage[pk] = {
            "applicable": applicable,
            "secured": secured,
            "open": applicable - secured,
            "not_applicable": households.get(province[:2], 0) - applicable,
        }
    return coverage


def _coverage_column(state, description, linked=True):
    """A column of ``RightsItemAdmin``: the item's households in ``state`` (a key of
    ``item_coverage``), linked to that household list (``rights_item_state``) if ``linked``."""

    @admin.display(description=description)
    def column(self, obj):
        n = self.coverage.get(obj.pk, {}).get(state, 0)
        if not linked or not n:
            return n
        url = links.households(None, rights_item=obj.pk, rights_item_state=state)
        return format_html('<a href="{}">{}</a>', url, n)

    return column


@admin.register(RightsItem)
class RightsItemAdmin(ScopedHistoryAdmin):
    """Coverage per active item of the user's provinces: how many households in the user's
    area have it secured, open, n/a, today (``item_coverage``)."""

    # Only active items are listed (rules.items_for_user): no 在用 column or filter.
    list_display = (
        "name",
        "category",
        "applicable",
        "secured",
        "open_count",
        "not_applicable",
    )
    list_filter = ("category__side",)
    search_fields = ("name",)

    def has_add_permission(self, request):
        return False  # items are added on their category's page

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(pk__in=rules.items_for_user(request.user).values("pk"))
            .select_related("category")
        )

    def changelist_view(self, request, extra_context=None):
        # The counts of every item, once per page: a copy of this admin holds them
        # for the columns (the registered instance is shared by every request).
        view = copy.copy(self)
        view.coverage = item_coverage(request.user)
        return super(RightsItemAdmin, view).changelist_view(request, extra_context)

    coverage = {}
    applicable = _coverage_column("applicable", _("适用户数"))
    secured = _coverage_column("secured", _("已落实户数"))
    open_count = _coverage_column("open", _("待落实或未核实户数"))
    not_applicable = _coverage_column("not_applicable", _("不适用户数"), linked=False)


class HouseholdRightForm(forms.ModelForm):
    class Meta:
        model = HouseholdRight
        fields = ("household", "item", "state", "recorded_on", "notes")


@admin.register(HouseholdRight)
class HouseholdRightAdmin(ProtectionAdmin):
    list_display = ("household", "item", "state", "recorded_on", "notes")
    list_filter = (HouseholdSettlementFilter, "state", ItemFilter, "item__category__side")
    list_select_related = ("household", "item__category")
    search_fields = ("household__number",)
    search_help_text = _("输入户编号（从第一位起）")
    autocomplete_fields = ("household",)
    form = HouseholdRightForm

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(household__number__startswith=term), False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "item":
            kwargs["queryset"] = rules.items_for_user(request.user).select_related("category")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ChecklistItemWidget(forms.Widget):
    """A checklist row's item, which the row does not change: its name (and its key).

    A saved row's item is fixed (``SavedItemField``): only the name is shown.  A
    row the page offers from the province's checklist sends its item's key with
    the row (Django's hidden input) and shows the name.  The drop-down of the
    whole checklist in every row was half the options a household page rendered
    (552 of 1,090).
    """

    def __init__(self, name_of):
        super().__init__()
        self.name_of = name_of

    def render(self, name, value, attrs=None, renderer=None):
        shown = format_html('<span class="checklist-item">{}</span>', self.name_of(value) or "")
        attrs = self.build_attrs(self.attrs, attrs)
        if attrs.get("disabled"):
            return shown
        key = forms.HiddenInput().render(name, value, attrs, renderer)
        return format_html("{}{}", key, shown)


class SavedItemField(forms.Field):
    """The item of a saved row: shown, never taken from the request (``disabled``).

    Also an item the province has since retired, which its drop-down no longer
    offers: the row's other fields stay editable."""

    def __init__(self, item, **kwargs):
        self.item = item
        super().__init__(
            disabled=True,
            required=False,
            widget=ChecklistItemWidget(lambda _v: item.name),
            **kwargs,
        )

    def clean(self, value):
        return self.item


class HouseholdRightRowForm(forms.ModelForm):
    """A row of the rights section: the item is fixed once the row names it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("item")
        if field is None:
            return
        if self.instance.pk is not None and self.instance.item_id is not None:
            self.fields["item"] = SavedItemField(self.instance.item, label=field.label)
        elif self.initial.get("item") is not None:  # offered from the province's checklist

            def name_of(value, field=field):
                choices = field.choices  # read once for every row (share_select_choices)
                record = choices.record(str(value)) if hasattr(choices, "record") else None
                return field.label_from_instance(record) if record is not None else None

            field.widget = ChecklistItemWidget(name_of)


class HouseholdRightFormSet(forms.BaseInlineFormSet):
    """A household without records starts with its province's items, each 待落实."""

    province_items = None

    def __init__(self, data=None, *args, instance=None, **kwargs):
        if data is None and instance is not None and instance.pk and not instance.rights.exists():
            kwargs["initial"] = [
                {"item": item.pk, "state": RightState.PENDING}
                for item in self.province_items(instance)
            ]
            self.extra = len(kwargs["initial"])  # a row for each (the inline's own extra is 0)
        super().__init__(data, *args, instance=instance, **kwargs)


class HouseholdRightInline(ScopedAdminMixin, admin.TabularInline):
    """权益保障 on the household page: the items of its province's checklist.

    Not on the add page: the checklist is the province's, known once the
    household is saved with its settlement (then its items are offered, 待落实).
    """

    model = HouseholdRight
    extra = 0
    on_add_page = False  # communities.admin_scope.ScopedHistoryAdmin.get_inlines

    fields = ("item", "state", "recorded_on", "notes")
    verbose_name_plural = _("权益保障（迁出地、迁入地权益落实情况）")

    formset = HouseholdRightFormSet
    form = HouseholdRightRowForm

    def get_queryset(self, request):
        # A read-only row shows str(item), which names its category: read with the rows.
        return super().get_queryset(request).select_related("item__category")

    def get_formset(self, request, obj=None, **kwargs):
        self._household = obj
        formset = super().get_formset(request, obj, **kwargs)
        formset.province_items = staticmethod(self._province_items)
        return formset

    @staticmethod
    def _province_items(household):
        province = household_province(household) if household is not None else None
        items = RightsItem.objects.active().select_related("category")
        return items.filter(category__province_id=province) if province else items.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name != "item":
            return super().formfield_for_foreignkey(db_field, request, **kwargs)
        kwargs["queryset"] = self._province_items(getattr(self, "_household", None))
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        # The row must fit the screen: the item's own name; the checklist has its own page.
        formfield.label_from_instance = lambda item: item.name
        return formfield

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "item" and isinstance(formfield.widget, RelatedFieldWidgetWrapper):
            widget = formfield.widget
            widget.can_add_related = widget.can_change_related = widget.can_view_related = False
        return formfield


# The sections services adds to the household and person pages of communities.
household_page.add(
    "services_protection",
    inlines=(HouseholdRightInline,),
    list_filters=(HouseholdRightsFilter, HouseholdRightItemFilter),
)
person_page.add(
    "services_protection",
    inlines=(BenefitRecordInline, TemporaryAssistanceInline),
    list_filters=(PersonProtectionFilter,),
)


def _protection_work_lists(request, on_date):
    """The 工作清单's rights list: households with an applicable right not secured on
    ``on_date`` (today's count from the dashboards' stored 权益保障 figures)."""
    yield work_row(
        request,
        Household,
        "rights_incomplete",
        _("尚有适用权益未落实的搬迁户"),
        _("统计日本省权益清单中适用于该户的事项尚未全部落实的搬迁户。"),
        lambda households: rules.rights_incomplete(households, on_date),
        {"rights": "incomplete", "rights_on": on_date.isoformat()},
        stored=HouseholdRightsFilter.from_figures["incomplete"],
        on_date=on_date,
    )


work_lists.add("services_protection", _protection_work_lists, order=20)
