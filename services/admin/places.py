"""Services and culture: places and events (admin).

Facilities, service standards and each settlement's coverage (the work list
缺少达标设施的安置点), funded projects, community activities, honours and
collective assets.  Every list goes through ``ScopedHistoryAdmin``: rows,
URLs, filter choices, foreign-key choices and autocompletes are the user's
area only, and every change is kept in the history.  The kinds of facility,
activity and honour and the service standards are reference data: everybody
reads them, only administrators write them.
"""

import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.admin_scope import ScopedAdminMixin, ScopedHistoryAdmin
from communities.enums import RegionLevel
from communities.models import Person, Region
from communities.roles import Role, role_of
from communities.scope import get_scope

from ..models.places import (
    Activity,
    ActivityKind,
    AssetIncome,
    CollectiveAsset,
    Facility,
    FacilityKind,
    FundedProject,
    Honour,
    HonourKind,
    ServiceStandard,
    SettlementCoverage,
    in_use_q,
    served_error,
    settlement_coverage,
)


def is_administrator(user):
    """Asked by every reference list's permission checks: the role is read once per user object."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not hasattr(user, "_services_is_administrator"):
        user._services_is_administrator = role_of(user) == Role.ADMINISTRATOR
    return user._services_is_administrator


class ReferenceAdminMixin:
    """Everybody with the view permission reads; only administrators write."""

    def has_add_permission(self, request, *args):
        return is_administrator(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return is_administrator(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_administrator(request.user) and super().has_delete_permission(request, obj)


class KindAdmin(ReferenceAdminMixin, ScopedHistoryAdmin):
    list_display = ("name", "code", "order", "active")
    list_filter = ("active",)
    search_fields = ("name", "code")
    fields = ("name", "code", "order", "active")


admin.site.register(FacilityKind, KindAdmin)
admin.site.register(ActivityKind, KindAdmin)
admin.site.register(HonourKind, KindAdmin)


def _date_param(value):
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


class InUseOnFilter(admin.SimpleListFilter):
    """``?in_use_on=YYYY-MM-DD``: facilities in use on that date (the dashboards link here)."""

    title = _("在用（截至日期）")
    parameter_name = "in_use_on"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, value)] if _date_param(value) else []

    def queryset(self, request, queryset):
        on_date = _date_param(self.value())
        if self.value() and on_date is None:
            return queryset.none()
        return queryset.filter(in_use_q(on_date)) if on_date else queryset


class KindCodeFilter(admin.SimpleListFilter):
    """``?kind_code=<code>``: rows of one shipped kind, or ``other`` for kinds added later."""

    title = _("种类代码")
    parameter_name = "kind_code"
    shipped = ()

    def lookups(self, request, model_admin):
        return [(self.value(), self.value())] if self.value() else []

    def queryset(self, request, queryset):
        code = self.value()
        if not code:
            return queryset
        if code == "other":
            return queryset.exclude(kind__code__in=[c for c, _label in self.shipped])
        return queryset.filter(kind__code=code)


def kind_code_filter(kinds):
    return type("KindCodeFilter", (KindCodeFilter,), {"shipped": kinds})


# --- facilities ------------------------------------------------------------------------


class FacilityForm(forms.ModelForm):
    class Meta:
        model = Facility
        fields = Facility.EDIT_FIELDS

    def clean(self):
        cleaned = super().clean()
        settlement = cleaned.get("settlement")
        served = cleaned.get("also_serves") or []
        if settlement is not None:
            message = served_error(settlement, served)
            if message:
                self.add_error("also_serves", message)
            elif settlement in served:
                self.add_error("also_serves", _("不必再选所在安置点本身。"))
        return cleaned


@admin.register(Facility)
class FacilityAdmin(ScopedHistoryAdmin):
    form = FacilityForm
    fields = Facility.EDIT_FIELDS
    list_display = (
        "name",
        "kind",
        "settlement",
        "served_names",
        "capacity",
        "teachers",
        "medical_staff",
        "opened_on",
        "state",
    )
    list_filter = ("kind", "state", "settlement", InUseOnFilter)
    list_select_related = ("kind", "settlement")
    search_fields = ("name",)
    autocomplete_fields = ("settlement", "also_serves")
    extra_list_lookups = ("kind_code",)

    def get_list_filter(self, request):
        from ..models.places import FACILITY_KINDS

        return [*super().get_list_filter(request), kind_code_filter(FACILITY_KINDS)]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("also_serves")

    @admin.display(description=_("同时服务"))
    def served_names(self, obj):
        return "、".join(s.name for s in obj.also_serves.all()) or "—"


# --- service standards and coverage ----------------------------------------------------


class ServiceStandardForm(forms.ModelForm):
    class Meta:
        model = ServiceStandard
        fields = ("name", "region", "year", "kinds", "notes")

    def clean_region(self):
        region = self.cleaned_data["region"]
        user = getattr(self, "user", None)
        if user is not None and not get_scope(user).covers_region(region):
            raise ValidationError(_("适用地区不在您的管辖范围内。"))
        return region


@admin.register(ServiceStandard)
class ServiceStandardAdmin(ReferenceAdminMixin, ScopedHistoryAdmin):
    form = ServiceStandardForm
    list_display = ("name", "region", "year", "kind_names")
    list_filter = ("year",)
    search_fields = ("name",)
    filter_horizontal = ("kinds",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("region").prefetch_related("kinds")

    def _choice_queryset(self, db_field, request):
        if db_field.related_model is Region:
            regions = Region.objects.filter(
                level__in=(RegionLevel.PROVINCE, RegionLevel.PREFECTURE)
            )
            scope = get_scope(request.user)
            if scope.unrestricted:
                return regions
            q = Q(pk__in=[])
            for prefix in scope.region_prefixes:
                if len(prefix) <= 4:
                    q |= Q(code__startswith=prefix)
            return regions.filter(q)
        return super()._choice_queryset(db_field, request)

    @admin.display(description=_("须具备的设施种类"))
    def kind_names(self, obj):
        return "、".join(k.name for k in obj.kinds.all())


class CoverageFilter(admin.SimpleListFilter):
    title = _("达标情况")
    parameter_name = "coverage"

    def lookups(self, request, model_admin):
        return [
            ("lacking", _("缺少达标设施")),
            ("covered", _("已达标")),
            ("none", _("无适用标准")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value not in ("lacking", "covered", "none"):
            return queryset.none()
        on_date = timezone.localdate()
        ids = list(queryset.values_list("pk", flat=True))
        coverage = settlement_coverage(ids, on_date)
        if value == "none":
            return queryset.exclude(pk__in=list(coverage))
        lacking = [pk for pk, (_s, required, present) in coverage.items() if required - present]
        if value == "lacking":
            return queryset.filter(pk__in=lacking)
        return queryset.filter(pk__in=list(coverage)).exclude(pk__in=lacking)


@admin.register(SettlementCoverage)
class SettlementCoverageAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Each settlement against its service standard: the work list 缺少达标设施的安置点."""

    list_display = ("name", "county", "standard_name", "present_names", "lacking_names")
    list_filter = (CoverageFilter,)
    list_select_related = ("county",)
    search_fields = ("name", "=code")
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changelist_instance(self, request):
        # The page's coverage in a few queries, attached to its rows.
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)
        coverage = settlement_coverage([row.pk for row in rows], timezone.localdate())
        names = dict(FacilityKind.objects.values_list("pk", "name"))
        for row in rows:
            found = coverage.get(row.pk)
            row.coverage = found and (
                str(found[0]),
                sorted(names[k] for k in found[1] & found[2]),
                sorted(names[k] for k in found[1] - found[2]),
            )
        changelist.result_list = rows
        return changelist

    @admin.display(description=_("适用标准"))
    def standard_name(self, obj):
        return obj.coverage[0] if obj.coverage else _("无适用标准")

    @admin.display(description=_("已具备"))
    def present_names(self, obj):
        return "、".join(obj.coverage[1]) or "—" if obj.coverage else "—"

    @admin.display(description=_("缺少"))
    def lacking_names(self, obj):
        return "、".join(obj.coverage[2]) or "—" if obj.coverage else "—"


# --- funded projects -------------------------------------------------------------------


@admin.register(FundedProject)
class FundedProjectAdmin(ScopedHistoryAdmin):
    fields = FundedProject.EDIT_FIELDS
    list_display = ("purpose", "settlement", "amount", "source", "year", "allocated_on", "state")
    list_filter = ("source", "state", "year", "settlement")
    list_select_related = ("settlement",)
    search_fields = ("purpose",)
    autocomplete_fields = ("settlement",)
    date_hierarchy = "allocated_on"
    extra_list_lookups = ("allocated_on__gte", "allocated_on__lte")


# --- activities ------------------------------------------------------------------------


class ActivityForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = (*Activity.EDIT_FIELDS, "households", "people")

    def clean(self):
        cleaned = super().clean()
        settlement = cleaned.get("settlement")
        if settlement is None:
            return cleaned
        households = cleaned.get("households") or []
        if any(h.settlement_id != settlement.pk for h in households):
            self.add_error("households", _("参与户须是该安置点的搬迁户。"))
        people = cleaned.get("people") or []
        if people:
            outside = Person.objects.filter(pk__in=[p.pk for p in people]).exclude(
                household__settlement=settlement
            )
            if outside.exists():
                self.add_error("people", _("参与人员须是该安置点的搬迁人员。"))
        participants = cleaned.get("participants")
        if participants is not None and participants < len(people):
            self.add_error("participants", _("参与人次不能少于所选参与人员数。"))
        return cleaned


@admin.register(Activity)
class ActivityAdmin(ScopedHistoryAdmin):
    form = ActivityForm
    fields = (*Activity.EDIT_FIELDS, "households", "people")
    list_display = ("title", "kind", "settlement", "held_on", "organiser", "participants")
    list_filter = ("kind", "settlement")
    list_select_related = ("kind", "settlement")
    search_fields = ("title", "organiser")
    autocomplete_fields = ("settlement", "households", "people")
    date_hierarchy = "held_on"
    extra_list_lookups = ("held_on__gte", "held_on__lte", "kind_code")

    def get_list_filter(self, request):
        from ..models.places import ACTIVITY_KINDS

        return [*super().get_list_filter(request), kind_code_filter(ACTIVITY_KINDS)]


# --- honours ---------------------------------------------------------------------------


class SettlementOfHouseholdFilter(admin.SimpleListFilter):
    """安置点 of the household, choices in the user's scope only."""

    title = _("安置点")
    parameter_name = "settlement"

    def lookups(self, request, model_admin):
        from communities.models import Settlement

        return [
            (s.pk, s.name)
            for s in Settlement.objects.visible_to(request.user).order_by("code").only("name")
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not str(value).isdigit():
            return queryset.none()
        return queryset.filter(household__settlement_id=value)


@admin.register(Honour)
class HonourAdmin(ScopedHistoryAdmin):
    fields = ("household", "person", "kind", "awarded_on", "awarded_by", "notes")
    list_display = ("kind", "household_number", "person_name", "awarded_on", "awarded_by")
    list_filter = ("kind", SettlementOfHouseholdFilter)
    list_select_related = ("kind", "household", "person")
    search_fields = ("household__number", "person__name")
    autocomplete_fields = ("household", "person")
    date_hierarchy = "awarded_on"
    extra_list_lookups = ("awarded_on__gte", "awarded_on__lte", "kind_code")

    def get_list_filter(self, request):
        from ..models.places import HONOUR_KINDS

        return [*super().get_list_filter(request), kind_code_filter(HONOUR_KINDS)]

    @admin.display(description=_("户编号"), ordering="household__number")
    def household_number(self, obj):
        return obj.household.number

    @admin.display(description=_("获表彰人员"))
    def person_name(self, obj):
        return obj.person.name if obj.person_id else "—"


# --- collective assets -----------------------------------------------------------------


class AssetIncomeInline(ScopedAdminMixin, admin.TabularInline):
    model = AssetIncome
    extra = 0
    fields = ("year", "income", "distributed", "sharing")


@admin.register(CollectiveAsset)
class CollectiveAssetAdmin(ScopedHistoryAdmin):
    inlines = (AssetIncomeInline,)
    fields = ("settlement", "name", "kind", "area_m2", "value", "acquired_on", "notes")
    list_display = ("name", "kind", "settlement", "area_m2", "value", "acquired_on")
    list_filter = ("kind", "settlement")
    list_select_related = ("settlement",)
    search_fields = ("name",)
    autocomplete_fields = ("settlement",)
