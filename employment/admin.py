"""Admin of the employment app: employers, the employment ledger, postings and
referrals, training, monitoring lines, household income, insurance claims and
business loans; the work-list page (工作清单).

Every admin goes through ``communities.admin_scope.ScopedAdminMixin``: lists,
URLs, filter choices and foreign-key choices are the user's area only, and
ID numbers and phones are masked for users without the sensitive-data
permission.  Records of a person are scoped through the person's settlement;
employers, postings and courses through their county.

The inlines for the person and household pages live here and are added to
those admins in ``communities.admin``; this module must therefore not import
``communities.admin`` at import time.
"""

from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from communities.admin_export import ScopedExportMixin
from communities.admin_reference import ProvinceReferenceAdminMixin
from communities.admin_scope import (
    MaskingHistoryHelper,
    ScopedAdminMixin,
    ScopedHistoryAdmin,
    count_of,
    form_for_user,
    may_view_sensitive,
)
from communities.enums import RegionLevel
from communities.models import Region, Settlement
from communities.plugins import WorkListOption, household_page, person_page, work_lists
from communities.scope import get_scope
from communities.validators import mask_phone, mask_resident_id

from .admin_filters import (
    BelowMonitoringLineFilter,
    CurrentJobFilter,
    HouseholdEmploymentFilter,
    HouseholdSettlementFilter,
    PersonEmploymentFilter,
    ScopedSettlementFilter,
    YearFilter,
    default_income_year,
    employment_work_lists,
    income_years,
)
from .forms import (
    EmployerForm,
    EmploymentRecordFormSet,
    EmploymentRecordInlineForm,
    HouseholdIncomeFormSet,
    HouseholdIncomeInlineForm,
)
from .import_resources import EmployerSheetResource, EmploymentSheetResource, IncomeSheetResource
from .models import (
    BusinessLoan,
    Employer,
    EmploymentRecord,
    HouseholdIncome,
    InsuranceClaim,
    JobPosting,
    MonitoringLine,
    Referral,
    TrainingAttendance,
    TrainingCourse,
)
from .resources import (
    EmployerResource,
    EmploymentRecordResource,
    HouseholdEmploymentResource,
    HouseholdIncomeResource,
    PersonEmploymentResource,
)


def visible_counties(user):
    """Counties whose employers and courses ``user`` sees (cf. ``visible_county_q``).

    A township or a single settlement brings its county: employers are
    registered by counties and serve all their settlements.
    """
    counties = Region.objects.filter(level=RegionLevel.COUNTY)
    scope = get_scope(user)
    if scope.unrestricted:
        return counties
    q = Q(pk__in=[])
    for code in scope.region_prefixes:
        q |= Q(pk=code[:6]) if len(code) > 6 else Q(code__startswith=code)
    if scope.settlement_ids:
        q |= Q(pk__in=Settlement.objects.filter(pk__in=scope.settlement_ids).values("county_id"))
    return counties.filter(q)


def search_people(queryset, term, prefix="person__"):
    """The person list's search (full ID, household number, start of a name) through ``prefix``."""
    from communities.admin import classify_search

    kind, value = classify_search(term)
    lookup = {
        "id": f"{prefix}id_number",
        "number": f"{prefix}household__number__startswith",
        "name": f"{prefix}name__startswith",
    }.get(kind)
    return (queryset.filter(**{lookup: value}) if lookup else queryset), False


class EmploymentHistoryHelper(MaskingHistoryHelper):
    def prepare_delta_change_value(self, change, value):
        if not self.reveal and change.field == "contact_phone":
            return mask_phone(value)
        return super().prepare_delta_change_value(change, value)


class EmploymentAdmin(ScopedHistoryAdmin):
    """Scope, masking and change history; big tables never count themselves."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50

    def get_historical_record_context_helper(self, request, historical_record):
        return EmploymentHistoryHelper(
            self.model, historical_record, reveal=may_view_sensitive(request.user)
        )

    def _choice_queryset(self, db_field, request):
        if db_field.related_model is Region:
            if db_field.name == "province":
                return Region.objects.visible_to(request.user).filter(level=RegionLevel.PROVINCE)
            return visible_counties(request.user)
        return super()._choice_queryset(db_field, request)


class PersonColumnsMixin:
    """Name and masked ID columns and the person search for records of a person."""

    search_fields = ("person__name",)
    search_help_text = _("输入姓名（从第一个字起）、户编号、或完整的18位身份证号")

    @admin.display(description=_("姓名"), ordering="person__name")
    def person_name(self, obj):
        return obj.person.name

    @admin.display(description=_("身份证号"))
    def person_id_masked(self, obj):
        return mask_resident_id(obj.person.id_number)

    def get_search_results(self, request, queryset, search_term):
        return search_people(queryset, search_term)


class CountyFilter(admin.SimpleListFilter):
    """登记县: only counties in the user's scope that have rows in this list."""

    title = _("县（市、区）")
    parameter_name = "county"
    county_path = "county"

    def lookups(self, request, model_admin):
        used = model_admin.get_queryset(request).order_by().values(f"{self.county_path}_id")
        return [
            (c.pk, c.name)
            for c in visible_counties(request.user).filter(pk__in=used).order_by("code")
        ]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{f"{self.county_path}_id": self.value()})
        return queryset


class PostingCountyFilter(CountyFilter):
    county_path = "employer__county"


# --- employers ---------------------------------------------------------------------


@admin.register(Employer)
class EmployerAdmin(ScopedExportMixin, EmploymentAdmin):
    form = EmployerForm
    # The second layout is the import sheet's: an export re-imports unchanged.
    resource_classes = (EmployerResource, EmployerSheetResource)
    list_display = ("name", "kind", "county", "settlement", "location", "active")
    list_filter = ("kind", CountyFilter, "location", "active")
    list_select_related = ("county", "settlement")
    search_fields = ("name", "=credit_code")
    search_help_text = _("输入单位名称或统一社会信用代码")
    autocomplete_fields = ("settlement",)
    fields = Employer.EDIT_FIELDS

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = form_for_user(self.form, request)
        return super().get_form(request, obj, change, **kwargs)

    def _sensitive_swaps(self, request, obj):
        swaps = super()._sensitive_swaps(request, obj)
        if not may_view_sensitive(request.user) and not self.has_change_permission(request, obj):
            swaps["contact_phone"] = "contact_phone_masked"
        return swaps

    @admin.display(description=_("联系电话"))
    def contact_phone_masked(self, obj):
        return mask_phone(obj.contact_phone)


# --- the employment ledger -----------------------------------------------------------


@admin.register(EmploymentRecord)
class EmploymentRecordAdmin(PersonColumnsMixin, ScopedExportMixin, EmploymentAdmin):
    resource_classes = (EmploymentRecordResource, EmploymentSheetResource)
    list_display = (
        "person_name",
        "person_id_masked",
        "kind",
        "employer_display",
        "place",
        "monthly_income",
        "start_date",
        "end_date",
    )
    list_filter = (
        ScopedSettlementFilter,
        "kind",
        "place",
        "found_via",
        CurrentJobFilter,
    )
    list_select_related = ("person", "employer")
    autocomplete_fields = ("person", "employer")
    date_hierarchy = None
    fieldsets = (
        (None, {"fields": ("person", "kind", "employer", "employer_name", "position")}),
        (
            _("地点与收入"),
            {"fields": ("place", "work_location", "monthly_income", "found_via")},
        ),
        (_("期间"), {"fields": ("start_date", "end_date", "notes")}),
    )

    @admin.display(description=_("用工主体"))
    def employer_display(self, obj):
        return obj.employer_label or "—"


class EmploymentRecordInline(ScopedAdminMixin, admin.TabularInline):
    """就业台账 on the person page: close a job with its end date and add the next."""

    model = EmploymentRecord
    form = EmploymentRecordInlineForm
    formset = EmploymentRecordFormSet
    fk_name = "person"
    extra = 1
    show_change_link = True
    autocomplete_fields = ("employer",)
    verbose_name_plural = _("就业台账（工作经历）")

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None or not obj.jobs.exists() else 0

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "employer" and isinstance(formfield.widget, RelatedFieldWidgetWrapper):
            # The row must fit the screen; employers are managed on their own page.
            widget = formfield.widget
            widget.can_add_related = widget.can_change_related = widget.can_view_related = False
        return formfield


# --- postings and referrals ------------------------------------------------------------


class ReferralInline(ScopedAdminMixin, admin.TabularInline):
    model = Referral
    extra = 0
    fields = ("person", "referred_on", "outcome", "employment", "notes")
    autocomplete_fields = ("person", "employment")

    # A job is shown as str(job), which names its person: in a read-only row and as the
    # chosen option of an editable one.
    def get_queryset(self, request):
        return super().get_queryset(request).select_related("employment__person")

    def _choice_queryset(self, db_field, request):
        queryset = super()._choice_queryset(db_field, request)
        return queryset.select_related("person") if db_field.name == "employment" else queryset


@admin.register(JobPosting)
class JobPostingAdmin(EmploymentAdmin):
    inlines = (ReferralInline,)
    list_display = (
        "title",
        "employer",
        "openings",
        "place",
        "wage_range",
        "posted_on",
        "closes_on",
        "state",
        "referral_count",
    )
    list_filter = ("state", "place", PostingCountyFilter)
    list_select_related = ("employer",)
    search_fields = ("title", "employer__name")
    autocomplete_fields = ("employer",)

    def get_queryset(self, request):
        # Referrals are counted in the user's scope only: the posting may
        # serve several settlements, the count must not reveal the others.
        referrals = Referral.objects.visible_to(request.user)
        return super().get_queryset(request).annotate(n_referrals=count_of(referrals, "posting"))

    @admin.display(description=_("月薪（元）"))
    def wage_range(self, obj):
        if obj.wage_min is None and obj.wage_max is None:
            return "—"
        low = obj.wage_min if obj.wage_min is not None else ""
        high = obj.wage_max if obj.wage_max is not None else ""
        return f"{low}–{high}"

    @admin.display(description=_("推送人数"), ordering="n_referrals")
    def referral_count(self, obj):
        return obj.n_referrals


@admin.register(Referral)
class ReferralAdmin(PersonColumnsMixin, EmploymentAdmin):
    list_display = ("person_name", "person_id_masked", "posting", "referred_on", "outcome")
    # The dashboards' 岗位推送人次 links to the period's referrals.
    # …and a job posting's page links to all its referrals (an inline shows 50).
    extra_list_lookups = ("referred_on__gte", "referred_on__lte", "posting__id__exact")
    list_filter = (ScopedSettlementFilter, "outcome")
    list_select_related = ("person", "posting__employer")
    autocomplete_fields = ("person", "posting", "employment")


# --- training --------------------------------------------------------------------------


class TrainingAttendanceInline(ScopedAdminMixin, admin.TabularInline):
    model = TrainingAttendance
    extra = 0
    fields = ("person", "completed", "certificate")
    autocomplete_fields = ("person",)


@admin.register(TrainingCourse)
class TrainingCourseAdmin(EmploymentAdmin):
    inlines = (TrainingAttendanceInline,)
    list_display = (
        "name",
        "kind",
        "trade",
        "county",
        "settlement",
        "start_date",
        "end_date",
        "attendee_count",
        "completed_count",
    )
    list_filter = ("kind", CountyFilter)
    list_select_related = ("county", "settlement")
    search_fields = ("name", "trade")
    autocomplete_fields = ("settlement",)

    def get_queryset(self, request):
        attendances = TrainingAttendance.objects.visible_to(request.user)
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_attendees=count_of(attendances, "course"),
                n_completed=count_of(attendances.filter(completed=True), "course"),
            )
        )

    @admin.display(description=_("参训人数"), ordering="n_attendees")
    def attendee_count(self, obj):
        return obj.n_attendees

    @admin.display(description=_("结业人数"), ordering="n_completed")
    def completed_count(self, obj):
        return obj.n_completed


@admin.register(TrainingAttendance)
class TrainingAttendanceAdmin(PersonColumnsMixin, EmploymentAdmin):
    list_display = ("person_name", "person_id_masked", "course", "completed", "certificate")
    list_filter = (ScopedSettlementFilter, "completed", "course__kind")
    # A course's page links to all its attendances (an inline shows 50).
    extra_list_lookups = ("course__id__exact",)
    list_select_related = ("person", "course")
    autocomplete_fields = ("course", "person")


# --- monitoring lines and income -------------------------------------------------------


@admin.register(MonitoringLine)
class MonitoringLineAdmin(ProvinceReferenceAdminMixin, EmploymentAdmin):
    """Reference data: administrators edit, everyone else reads."""

    list_display = ("province", "year", "amount", "source")
    list_filter = ("year",)
    list_select_related = ("province",)
    ordering = ("province_id", "-year")


@admin.register(HouseholdIncome)
class HouseholdIncomeAdmin(ScopedExportMixin, EmploymentAdmin):
    resource_classes = (HouseholdIncomeResource, IncomeSheetResource)
    list_display = (
        "household_number",
        "year",
        "wage_income",
        "business_income",
        "transfer_income",
        "property_income",
        "costs",
        "net_income",
        "household_size",
        "per_capita_net",
    )
    list_filter = (HouseholdSettlementFilter, YearFilter)
    list_select_related = ("household",)
    # Grouped by settlement, newest household first, as on the household list: walked
    # from the households' (settlement, id) index, a county's first page reads its own
    # rows, not the country's from the first household id up to the county's.
    ordering = ("-household__settlement_id", "-household_id", "-year")
    search_fields = ("household__number",)
    search_help_text = _("输入户编号（从头开始）")
    autocomplete_fields = ("household",)
    readonly_fields = ("net_income", "per_capita_net")
    fields = (
        "household",
        "year",
        "wage_income",
        "business_income",
        "transfer_income",
        "property_income",
        "costs",
        "household_size",
        "net_income",
        "per_capita_net",
        "notes",
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "household_size" in form.base_fields:
            form.base_fields["household_size"].required = False
        return form

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().upper()
        if not term:
            return queryset, False
        return queryset.filter(household__number__startswith=term), False

    @admin.display(description=_("户编号"), ordering="household__number")
    def household_number(self, obj):
        return obj.household.number


class HouseholdIncomeInline(ScopedAdminMixin, admin.TabularInline):
    """家庭收入 on the household page: one row per year in the four official parts."""

    model = HouseholdIncome
    form = HouseholdIncomeInlineForm
    formset = HouseholdIncomeFormSet
    extra = 0
    readonly_fields = ("net_income", "per_capita_net")
    fields = (
        "year",
        "wage_income",
        "business_income",
        "transfer_income",
        "property_income",
        "costs",
        "household_size",
        "net_income",
        "per_capita_net",
        "notes",
    )

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None or not obj.incomes.exists() else 0


# --- insurance and loans ---------------------------------------------------------------


@admin.register(InsuranceClaim)
class InsuranceClaimAdmin(PersonColumnsMixin, EmploymentAdmin):
    list_display = (
        "person_name",
        "person_id_masked",
        "reason",
        "occurred_on",
        "claimed_on",
        "amount_claimed",
        "amount_paid",
        "state",
    )
    list_filter = (ScopedSettlementFilter, "reason", "state")
    list_select_related = ("person",)
    autocomplete_fields = ("person",)


@admin.register(BusinessLoan)
class BusinessLoanAdmin(PersonColumnsMixin, EmploymentAdmin):
    list_display = (
        "person_name",
        "person_id_masked",
        "lender",
        "amount",
        "granted_on",
        "due_on",
        "interest_subsidised",
        "state",
    )
    list_filter = (ScopedSettlementFilter, "state", "interest_subsidised")
    list_select_related = ("person",)
    autocomplete_fields = ("person",)


# The sections employment adds to the household and person pages of communities: the
# income and job tables, the work-list filters (the dashboards link to their
# parameters) and the export layouts 「搬迁户就业与收入」/「家庭成员就业情况」.
household_page.add(
    "employment",
    inlines=(HouseholdIncomeInline,),
    list_filters=(HouseholdEmploymentFilter, BelowMonitoringLineFilter),
    export_resources=(HouseholdEmploymentResource,),
)
person_page.add(
    "employment",
    inlines=(EmploymentRecordInline,),
    list_filters=(PersonEmploymentFilter,),
    export_resources=(PersonEmploymentResource,),
)


def _income_year_options(request, today):
    """The 工作清单's 收入年度 (``?year=``) for 低于监测线家庭: the years with monitoring
    lines; by default the last complete one (``default_income_year``)."""
    years = income_years()
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and int(raw) in years else None
    year = year or default_income_year(years, today)
    note = (
        ""
        if year
        else _(
            "尚未登记防返贫监测线，暂不能列出低于监测线的家庭；请系统管理员在“防返贫监测线”中登记。"
        )
    )
    yield WorkListOption("year", _("收入年度"), tuple((y, y) for y in years), year, note)


# Employment's four lists open the 工作清单 page (the core's), before every other app's.
work_lists.add("employment", employment_work_lists, order=10, options=_income_year_options)
