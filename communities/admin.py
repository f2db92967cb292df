import unicodedata

from django.contrib import admin, messages
from django.db import IntegrityError
from django.db.models import OuterRef, Subquery
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import audit_admin, enums  # noqa: F401  (audit_admin registers the read audit)
from .admin_export import ScopedExportMixin
from .admin_reference import RegionWriteRulesMixin
from .admin_scope import (
    SWAP_ALWAYS,
    DropdownChoicesFilter,
    ScopedAdminMixin,
    ScopedHistoryAdmin,
    UsedRelatedFieldListFilter,
    count_of,
    form_for_user,
    may_view_sensitive,
    scoped_queryset,
    settlement_choices,
)
from .admin_users import grantable_regions, manageable_users
from .forms import (
    HOUSEHOLD_FIELD_GROUPS,
    HouseholdForm,
    MembersFormSet,
    PersonForm,
    suggest_for_settlement,
)
from .import_resources import RosterResource
from .models import (
    Building,
    GridUnit,
    GridWorker,
    Household,
    Person,
    Region,
    Settlement,
    TenHouseholdGroup,
)
from .ordering import natural
from .plugins import household_page, person_page
from .resources import HouseholdResource, PersonResource

admin.site.site_header = _("易地扶贫搬迁后续扶持社区管理系统")
admin.site.site_title = _("搬迁社区管理")
admin.site.index_title = _("工作台")


def classify_search(term):
    """What a search term is: ``("id", …)``, ``("number", …)`` or ``("name", …)``.

    An 18-character ID number, a household number (digits and Latin letters) or
    the start of a name.  The branches never mix, so each search is a single
    indexed equality or prefix match and stays fast at millions of people.
    """
    term = term.strip()
    # Typed with a Chinese input method: full-width digits and letters (５２２３…, ＸＮ01).
    compact = unicodedata.normalize("NFKC", term).replace(" ", "").upper()
    if not compact:
        return None, ""
    if len(compact) == 18 and compact[:17].isascii() and compact[:17].isdigit():
        return "id", compact
    if compact.isascii() and compact.isalnum():
        return "number", compact
    return "name", term


@admin.register(Region)
class RegionAdmin(RegionWriteRulesMixin, admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "division_type", "generated")
    list_filter = ("level", "generated")
    search_fields = ("=code", "name")
    list_select_related = ("parent",)
    ordering = ("code",)
    show_full_result_count = False
    autocomplete_fields = ("parent",)

    def get_search_results(self, request, queryset, search_term):
        # Autocomplete for a settlement's county/township: only regions in scope.
        source = (request.GET.get("app_label"), request.GET.get("model_name"))
        if source == ("communities", "settlement"):
            queryset = queryset.visible_to(request.user)
        elif source == ("communities", "areascope"):
            queryset = queryset & grantable_regions(request.user)
        if search_term.isdigit():
            return queryset.filter(code__startswith=search_term), False
        return super().get_search_results(request, queryset, search_term)


class GridWorkerInline(ScopedAdminMixin, admin.TabularInline):
    model = GridWorker
    extra = 0
    fields = ("name", "phone", "full_time", "user")

    def _choice_queryset(self, db_field, request):
        if db_field.name == "user":
            return manageable_users(request.user)
        return super()._choice_queryset(db_field, request)


class TenHouseholdGroupInline(ScopedAdminMixin, admin.TabularInline):
    model = TenHouseholdGroup
    extra = 0
    fields = ("name", "lead_household")
    autocomplete_fields = ("lead_household",)


@admin.register(Settlement)
class SettlementAdmin(ScopedHistoryAdmin):
    list_display = (
        "name",
        "code",
        "county",
        "township",
        "kind",
        "community",
        "household_count",
        "planned_people",
        "housing_units",
    )
    list_filter = ("kind", ("county", UsedRelatedFieldListFilter))
    search_fields = ("name", "=code", "community")
    list_select_related = ("county", "township")
    autocomplete_fields = ("county", "township")
    fieldsets = (
        (None, {"fields": ("code", "name", "county", "township", "community", "kind")}),
        (
            _("规模"),
            {
                "fields": (
                    "year_built",
                    "land_area_mu",
                    "floor_area_m2",
                    "housing_units",
                    "planned_households",
                    "planned_people",
                )
            },
        ),
        (_("位置"), {"fields": ("address", "latitude", "longitude")}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_households=count_of(Household.objects.all(), "settlement"))
        )

    @admin.display(description=_("搬迁户数"), ordering="n_households")
    def household_count(self, obj):
        return obj.n_households

    def _choice_queryset(self, db_field, request):
        if db_field.related_model is Region:
            return Region.objects.visible_to(request.user)
        return super()._choice_queryset(db_field, request)


def numbered_name(model):
    """A list's name column that sorts by the numbers in the names when clicked
    (第2网格 before 第10网格, as the list's own order: communities.ordering)."""

    @admin.display(description=model._meta.get_field("name").verbose_name, ordering=natural("name"))
    def name(obj):
        return obj.name

    return name


@admin.register(Building)
class BuildingAdmin(ScopedHistoryAdmin):
    list_display = (
        numbered_name(Building),
        "settlement",
        "units",
        "floors",
        "housing_units",
        "head_name",
        "head_phone_masked",
    )
    list_filter = ("settlement",)
    search_fields = ("name", "settlement__name", "head_name")
    list_select_related = ("settlement",)
    autocomplete_fields = ("settlement",)


@admin.register(GridUnit)
class GridUnitAdmin(ScopedHistoryAdmin):
    list_display = (numbered_name(GridUnit), "settlement", "worker_count", "household_count")
    list_filter = ("settlement",)
    search_fields = ("name", "settlement__name")
    list_select_related = ("settlement",)
    autocomplete_fields = ("settlement", "buildings")
    inlines = (GridWorkerInline, TenHouseholdGroupInline)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_workers=count_of(GridWorker.objects.all(), "grid"),
                n_households=count_of(Household.objects.all(), "grid"),
            )
        )

    @admin.display(description=_("网格员数"), ordering="n_workers")
    def worker_count(self, obj):
        return obj.n_workers

    @admin.display(description=_("户数"), ordering="n_households")
    def household_count(self, obj):
        return obj.n_households


@admin.register(TenHouseholdGroup)
class TenHouseholdGroupAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = (numbered_name(TenHouseholdGroup), "grid", "lead_household")
    list_select_related = ("grid__settlement", "lead_household")
    search_fields = ("name", "grid__name", "grid__settlement__name")
    autocomplete_fields = ("grid", "lead_household")


class PersonInline(ScopedAdminMixin, admin.TabularInline):
    model = Person
    form = PersonForm
    # A table on a computer, one card per member on a phone (templates/admin/edit_inline/tabular.html).
    cards = True
    formset = MembersFormSet
    extra = 1
    min_num = 1
    show_change_link = True
    fields = (
        "name",
        "id_number",
        "relationship",
        "ethnicity",
        "education",
        "health",
        "labour_ability",
        "school_stage",
        "phone",
    )

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = form_for_user(self.form, request)
        kwargs["form"].request_user = request.user
        return super().get_formset(request, obj, **kwargs)

    def get_extra(self, request, obj=None, **kwargs):
        return 3 if obj is None else 1


class SettlementFilter(admin.SimpleListFilter):
    """安置点 for people (through their household), choices in scope only."""

    title = _("安置点")
    parameter_name = "settlement"

    def lookups(self, request, model_admin):
        return [(str(s.pk), s.name) for s in settlement_choices(request) or ()]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(household__settlement_id=value)
        return queryset


class RelocationYearFilter(admin.SimpleListFilter):
    title = _("搬迁年度")
    parameter_name = "relocation_year"
    path = "relocation_year"

    def lookups(self, request, model_admin):
        return [(str(y), str(y)) for y in range(2016, 2021)]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(**{self.path: int(value)})
        return queryset


class PersonRelocationYearFilter(RelocationYearFilter):
    path = "household__relocation_year"


@admin.register(Household)
class HouseholdAdmin(ScopedExportMixin, ScopedHistoryAdmin):
    form = HouseholdForm
    # Each followed by what apps add to the page (communities.plugins).
    resource_classes = household_page.extend("resource_classes", (HouseholdResource,))
    inlines = household_page.extend("inlines", (PersonInline,))
    list_display = (
        "number",
        "head_name",
        # In clear for users who may see personal data (the number to call from a
        # work list, read-audited), masked for the others (LIST_SWAPS); beside the
        # head's name so that it is on screen on a phone.
        "phone",
        "member_count",
        "settlement",
        "address_display",
        "relocation_year",
        "category",
        "occupancy_state",
    )
    list_filter = (
        "settlement",
        "building",
        "grid",
        RelocationYearFilter,
        "category",
        "occupancy_state",
        "hukou_state",
    )
    # Followed by the filters apps add: employment's work lists (工作清单), whose
    # parameter names the dashboards link to.
    list_filter = household_page.extend("list_filter", list_filter)
    # Grouped by settlement, newest first: index household_settlement_order, backwards.
    ordering = ("-settlement_id", "-id")
    list_select_related = ("settlement", "building")
    search_fields = ("number",)
    search_help_text = _("输入户编号、户主或成员姓名（从第一个字起）、或完整的18位身份证号")
    show_full_result_count = False
    # Facet counts would COUNT(*) the whole table once per filter choice.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    autocomplete_fields = (
        "settlement",
        "building",
        "grid",
        "ten_group",
        "origin_county",
        "origin_township",
    )
    unscoped_fk_fields = ("origin_county", "origin_township")
    fieldsets = tuple((title, {"fields": group}) for title, group in HOUSEHOLD_FIELD_GROUPS)

    class Media:
        js = ("admin/js/jquery.init.js", "relocation/household_number.js")

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = form_for_user(self.form, request)
        form = super().get_form(request, obj, change, **kwargs)
        form.request_user = request.user
        form.suggest_url = reverse("admin:communities_household_suggest_number")
        return form

    def get_urls(self):
        own = [
            path(
                "suggest-number/",
                self.admin_site.admin_view(self.suggest_number_view),
                name="communities_household_suggest_number",
            )
        ]
        return own + super().get_urls()

    def suggest_number_view(self, request):
        """``?settlement=<pk>``: the next 户编号 of that settlement's county, as JSON.

        Only for a settlement the user sees and may add households to; any other
        (out of scope, missing, malformed) is a plain 404.
        """
        if not self.has_add_permission(request):
            raise Http404
        raw = request.GET.get("settlement", "")
        settlement = None
        if raw.isdigit() and len(raw) <= 18:
            settlement = scoped_queryset(Settlement, request.user).filter(pk=int(raw)).first()
        if settlement is None:
            raise Http404
        return JsonResponse({"number": suggest_for_settlement(settlement)})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError:
            if object_id is not None or request.method != "POST":
                raise
            # Two workers saved the same 户编号 at once: the other save is now
            # committed, so a second pass shows the form's own Chinese message
            # (or, for a number left blank, takes the next one).
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_queryset(self, request):
        head = Person.objects.filter(
            household=OuterRef("pk"), relationship=enums.Relationship.HEAD
        ).values("name")[:1]
        return (
            super()
            .get_queryset(request)
            .annotate(
                head_name=Subquery(head), n_members=count_of(Person.objects.all(), "household")
            )
        )

    def get_search_results(self, request, queryset, search_term):
        kind, value = classify_search(search_term)
        if kind == "number":
            return queryset.filter(number__startswith=value), False
        if kind == "id":
            members = Person.objects.filter(id_number=value)
        elif kind == "name":
            members = Person.objects.filter(name__startswith=value)
        else:
            return queryset, False
        return queryset.filter(pk__in=members.values("household_id")), False

    @admin.display(description=_("户主"), ordering="head_name")
    def head_name(self, obj):
        return obj.head_name or "—"

    @admin.display(description=_("人数"), ordering="n_members")
    def member_count(self, obj):
        return obj.n_members

    @admin.display(description=_("楼栋/房号"))
    def address_display(self, obj):
        parts = [obj.building.name if obj.building_id else ""]
        if obj.unit:
            parts.append(_("%(unit)s单元") % {"unit": obj.unit})
        if obj.room:
            parts.append(obj.room)
        return " ".join(p for p in parts if p) or "—"


def _heads_stay(blocked):
    """Why the 户主 of ``PersonQuerySet.heads_left_alone`` cannot be deleted: a line each."""
    return [
        _(
            "不能删除户主%(name)s：搬迁户 %(household)s 还有 %(count)d 名成员。"
            "请先在搬迁户页面把另一名成员改为“户主”。"
        )
        % {"name": head.name, "household": head.household.number, "count": count}
        for head, count in blocked
    ]


@admin.register(Person)
class PersonAdmin(ScopedExportMixin, ScopedHistoryAdmin):
    form = PersonForm
    # RosterResource: the import page's 花名册 layout, so an export re-imports unchanged.
    # Each followed by what apps add to the page (communities.plugins).
    resource_classes = person_page.extend(
        "resource_classes", (PersonResource,), last=(RosterResource,)
    )
    inlines = person_page.extend("inlines", ())
    list_display = (
        "name",
        # Beside the name, so that a worker on a phone sees whom to call without
        # scrolling sideways: clear and read-audited, or masked (as on the household list).
        "phone",
        "id_number_masked",
        "sex",
        "age",
        "relationship",
        "household_link",
        "settlement_name",
        "ethnicity",
        "labour_ability",
        "health",
    )
    list_filter = (
        SettlementFilter,
        PersonRelocationYearFilter,
        "sex",
        ("relationship", DropdownChoicesFilter),
        ("ethnicity", DropdownChoicesFilter),
        "labour_ability",
        "health",
        "school_stage",
        "dibao",
        "medical_insurance",
    )
    # Followed by the filters apps add (employment's work lists; linked to by the dashboards).
    list_filter = person_page.extend("list_filter", list_filter)
    # Grouped by settlement, newest household first: starts from the
    # household (settlement, id) index, so a scoped list reads only its rows.
    ordering = ("-household__settlement_id", "-household_id", "id")
    # By the household's unique number, walked in its index: 80–110 ms for the whole
    # country's 2 million people (benchmarks/list_sorting.py); the other columns sort
    # lists of at most 10,000 people (communities.admin_lookups.ScopedChangeList).
    sortable_at_any_size = ("household_link",)
    list_select_related = ("household__settlement",)
    search_fields = ("name",)
    search_help_text = _("输入姓名（从第一个字起）、户编号、或完整的18位身份证号")
    show_full_result_count = False
    # Facet counts would COUNT(*) the whole table once per filter choice.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    autocomplete_fields = ("household",)
    readonly_fields = ("birth_date", "sex")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "household",
                    "name",
                    "id_number",
                    "birth_date",
                    "sex",
                    "relationship",
                    "ethnicity",
                    "phone",
                )
            },
        ),
        (
            _("教育与健康"),
            {
                "fields": (
                    "education",
                    "school_stage",
                    "health",
                    "disability_grade",
                    "labour_ability",
                )
            },
        ),
        (
            _("社会保障"),
            {
                "fields": (
                    "medical_insurance",
                    "pension_insurance",
                    "dibao",
                    "extreme_poverty_support",
                    "residence_permit",
                )
            },
        ),
        (None, {"fields": ("notes",)}),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = form_for_user(self.form, request)
        form = super().get_form(request, obj, change, **kwargs)
        form.request_user = request.user
        return form

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if may_view_sensitive(request.user):
            return shown
        return [name for name in shown if name not in SWAP_ALWAYS]

    def get_list_filter(self, request):
        shown = super().get_list_filter(request)
        if may_view_sensitive(request.user):
            return shown
        return [f for f in shown if not (isinstance(f, str) and f in SWAP_ALWAYS)]

    def delete_view(self, request, object_id, extra_context=None):
        person = self.get_object(request, object_id)
        if person is not None and self.has_delete_permission(request, person):
            blocked = Person.objects.filter(pk=person.pk).heads_left_alone()
            if blocked and request.method == "POST":
                self._refuse_deleting_heads(request, blocked)
                return redirect(reverse("admin:communities_person_change", args=[person.pk]))
            if blocked:  # the page says why, without the button (delete_confirmation.html)
                extra_context = {**(extra_context or {}), "heads_stay": _heads_stay(blocked)}
        return super().delete_view(request, object_id, extra_context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            delete, name, description = actions["delete_selected"]

            def delete_selected(modeladmin, request, queryset):
                blocked = queryset.heads_left_alone()
                if blocked:
                    self._refuse_deleting_heads(request, blocked)
                    return None  # back to the list, nothing deleted
                return delete(modeladmin, request, queryset)

            actions["delete_selected"] = (delete_selected, name, description)
        return actions

    def _refuse_deleting_heads(self, request, blocked):
        for line in _heads_stay(blocked[:5]):
            self.message_user(request, line, messages.ERROR)

    def get_search_results(self, request, queryset, search_term):
        kind, value = classify_search(search_term)
        lookup = {
            "id": "id_number",
            "number": "household__number__startswith",
            "name": "name__startswith",
        }.get(kind)
        return (queryset.filter(**{lookup: value}) if lookup else queryset), False

    @admin.display(description=_("年龄"), ordering="-birth_date")
    def age(self, obj):
        return obj.age_on(timezone.localdate())

    @admin.display(description=_("所属搬迁户"), ordering="household__number")
    def household_link(self, obj):
        url = reverse("admin:communities_household_change", args=[obj.household_id])
        return format_html('<a href="{}">{}</a>', url, obj.household.number)

    @admin.display(description=_("安置点"))
    def settlement_name(self, obj):
        settlement = obj.household.settlement
        return settlement.name if settlement else "—"
