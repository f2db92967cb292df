"""Governance and monitoring: organisation (admin).

Party organisations and members, 居民小组, cadres, pairings, visits and
petitions.  Every admin goes through ``ScopedHistoryAdmin`` (scope on lists,
URLs, filters, FK choices and autocomplete; change history; phones masked for
users without the sensitive-data permission).  The work lists are list
filters: on the household list (no pairing / not visited in N days), on the
visits (needs not followed up) and on the petitions (overdue).  A petition's
state moves only through the 办理 form on its page, one step at a time, and
every move is logged with who and when.
"""

from django import forms
from django.contrib import admin
from django.db.models import Exists, OuterRef, Q
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from communities.admin_export import ScopedExportMixin
from communities.admin_scope import ScopedAdminMixin, ScopedHistoryAdmin, count_of
from communities.models import Household, Settlement
from communities.plugins import household_page, work_lists
from communities.worklists import work_row
from relocation.dashboards.live import CountedFromFigures, figure

from ..import_resources import PetitionSheetResource
from ..models.organisation import (
    OPEN_FOLLOW_UP,
    OPEN_PETITION,
    PETITION_FLOW,
    Cadre,
    Pairing,
    PartyMember,
    PartyOrganisation,
    Petition,
    PetitionCategory,
    PetitionState,
    PetitionTransition,
    ResidentGroup,
    Satisfaction,
    StairLeader,
    Visit,
    unvisited_households,
    visit_interval_days,
)


class GovernanceAdmin(ScopedHistoryAdmin):
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50


class SettlementChoiceFilter(admin.SimpleListFilter):
    """安置点 reached through ``path``; the choices are the user's settlements only."""

    title = _("安置点")
    parameter_name = "settlement"
    path = "household__settlement"

    def lookups(self, request, model_admin):
        return [
            (str(s.pk), s.name)
            for s in Settlement.objects.visible_to(request.user).order_by("code")
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(**{f"{self.path}_id": int(value)})
        return queryset


class OrgSettlementFilter(SettlementChoiceFilter):
    path = "organisation__settlement"


# --- party organisations and members --------------------------------------------------


class PartyMemberInline(ScopedAdminMixin, admin.TabularInline):
    model = PartyMember
    extra = 0
    fields = ("person", "name", "joined_on", "origin", "active")
    autocomplete_fields = ("person",)
    show_change_link = True


@admin.register(PartyOrganisation)
class PartyOrganisationAdmin(GovernanceAdmin):
    list_display = ("name", "kind", "parent", "settlement", "secretary", "member_count")
    list_filter = ("settlement", "kind")
    list_select_related = ("parent", "settlement")
    search_fields = ("name",)
    autocomplete_fields = ("parent", "settlement")
    fields = ("name", "kind", "parent", "settlement", "secretary", "founded_on", "notes")
    inlines = (PartyMemberInline,)

    def get_queryset(self, request):
        members = PartyMember.objects.all()
        return super().get_queryset(request).annotate(n_members=count_of(members, "organisation"))

    @admin.display(description=_("党员数"), ordering="n_members")
    def member_count(self, obj):
        return obj.n_members


@admin.register(PartyMember)
class PartyMemberAdmin(GovernanceAdmin):
    list_display = ("name", "organisation", "origin", "joined_on", "active")
    list_filter = (OrgSettlementFilter, "origin", "active")
    list_select_related = ("organisation",)
    search_fields = ("name",)
    autocomplete_fields = ("organisation", "person")
    fields = ("organisation", "person", "name", "joined_on", "origin", "active", "notes")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        return (queryset.filter(name__startswith=term) if term else queryset), False


class ResidentGroupForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        settlement, buildings = cleaned.get("settlement"), cleaned.get("buildings")
        if settlement and buildings:
            others = [b.name for b in buildings if b.settlement_id != settlement.pk]
            if others:
                self.add_error(
                    "buildings",
                    _(
                        "楼栋「%(names)s」不属于安置点「%(settlement)s」，居民小组只能包含本安置点的楼栋。"
                    )
                    % {"names": "、".join(others), "settlement": settlement.name},
                )
        return cleaned


@admin.register(ResidentGroup)
class ResidentGroupAdmin(GovernanceAdmin):
    form = ResidentGroupForm
    list_display = ("name", "settlement", "leader_name")
    list_filter = ("settlement",)
    list_select_related = ("settlement",)
    search_fields = ("name",)
    # Searched, not listed: the two-box picker put every building in scope on the page
    # (a province's tens of thousands), each reading its settlement for its label.
    autocomplete_fields = ("settlement", "buildings")


class BuildingSettlementFilter(SettlementChoiceFilter):
    path = "building__settlement"


@admin.register(StairLeader)
class StairLeaderAdmin(GovernanceAdmin):
    """总楼长 and 分楼长: the management tree below the building's 楼栋长 (communities.Building)."""

    list_display = ("building", "role", "unit", "name")
    list_filter = (BuildingSettlementFilter, "role")
    list_select_related = ("building__settlement",)
    search_fields = ("name",)
    autocomplete_fields = ("building",)
    fields = ("building", "role", "unit", "name", "phone")


# --- cadres, pairings and visits ------------------------------------------------------


class PairingInline(ScopedAdminMixin, admin.TabularInline):
    model = Pairing
    extra = 0
    fields = ("household", "start_date", "end_date", "notes")
    autocomplete_fields = ("household",)


@admin.register(Cadre)
class CadreAdmin(GovernanceAdmin):
    list_display = ("name", "unit", "position", "settlement", "active", "household_count")
    list_filter = ("settlement", "active")
    list_select_related = ("settlement",)
    search_fields = ("name", "unit")
    autocomplete_fields = ("settlement",)
    fields = ("name", "unit", "position", "phone", "settlement", "active", "notes")
    inlines = (PairingInline,)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_households=count_of(Pairing.objects.filter(end_date__isnull=True), "cadre"))
        )

    @admin.display(description=_("结对户数"), ordering="n_households")
    def household_count(self, obj):
        return obj.n_households


class OpenPairingFilter(admin.SimpleListFilter):
    title = _("结对状态")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("结对中")), ("no", _("已结束"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(end_date__isnull=True)
        if self.value() == "no":
            return queryset.filter(end_date__isnull=False)
        return queryset


@admin.register(Pairing)
class PairingAdmin(GovernanceAdmin):
    list_display = ("cadre", "household", "start_date", "end_date")
    list_filter = (SettlementChoiceFilter, OpenPairingFilter)
    list_select_related = ("cadre", "household")
    search_fields = ("household__number", "cadre__name")
    autocomplete_fields = ("cadre", "household")


class FollowUpFilter(admin.SimpleListFilter):
    """工作清单「诉求未跟进」: visits whose needs are still pending or in progress."""

    title = _("诉求跟进")
    parameter_name = "follow_up"

    def lookups(self, request, model_admin):
        return [("open", _("诉求未跟进完"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(follow_up_state__in=OPEN_FOLLOW_UP)
        return queryset


@admin.register(Visit)
class VisitAdmin(GovernanceAdmin):
    list_display = ("household", "visited_on", "way", "visitor", "needs_short", "follow_up_state")
    list_filter = (SettlementChoiceFilter, FollowUpFilter, "way", "follow_up_state")
    # The dashboards' 走访次数 links to the period's visits.
    extra_list_lookups = ("visited_on__gte", "visited_on__lte")
    list_select_related = ("household", "cadre", "grid_worker")
    search_fields = ("household__number",)
    search_help_text = _("输入户编号（从头开始）")
    autocomplete_fields = ("household", "cadre")
    fields = (
        "household",
        "visited_on",
        "way",
        "cadre",
        "grid_worker",
        "findings",
        "needs",
        "follow_up",
        "follow_up_state",
    )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().upper()
        return (queryset.filter(household__number__startswith=term) if term else queryset), False

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("visited_on", timezone.localdate())
        worker = request.user.grid_roles.first() if request.user.is_authenticated else None
        if worker is not None and "grid_worker" not in initial:
            initial["grid_worker"] = worker.pk
        return initial

    @admin.display(description=_("走访人"))
    def visitor(self, obj):
        return obj.cadre.name if obj.cadre_id else obj.grid_worker.name

    @admin.display(description=_("提出的诉求"))
    def needs_short(self, obj):
        return (obj.needs[:30] + "…") if len(obj.needs) > 30 else (obj.needs or "—")


class HouseholdPairingFilter(CountedFromFigures, admin.SimpleListFilter):
    """Household work lists: no open pairing; paired but not visited in N days."""

    title = _("结对帮扶")
    parameter_name = "pairing"

    def lookups(self, request, model_admin):
        return [
            ("none", _("未结对")),
            ("unvisited", _("结对户超过%(days)s天未走访") % {"days": visit_interval_days()}),
        ]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(~_paired())
        if self.value() == "unvisited":
            return unvisited_households(queryset)
        return queryset

    #: The dashboards' figure that counts the same households (its 工作清单 row too).
    from_figures = {"unvisited": figure("pairings_unvisited")}


def _paired():
    return Exists(Pairing.objects.filter(household=OuterRef("pk"), end_date__isnull=True))


household_page.add("governance_org", list_filters=(HouseholdPairingFilter,))


# --- petitions ------------------------------------------------------------------------


@admin.register(PetitionCategory)
class PetitionCategoryAdmin(GovernanceAdmin):
    """Reference data shared by all areas: administrators edit, everyone else reads
    (community workers get the view permission only: ``communities.roles.WORKER_LIMITED``)."""

    list_display = ("name", "due_days", "active")
    list_filter = ("active",)
    search_fields = ("name",)


class OverdueFilter(admin.SimpleListFilter):
    """工作清单「超期诉求」: open petitions past their due date."""

    title = _("办理期限")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("已超期")), ("open", _("办理中未超期"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "yes":
            return overdue_petitions(queryset)
        if self.value() == "open":
            return queryset.filter(state__in=OPEN_PETITION, due_on__gte=today)
        return queryset


def overdue_petitions(petitions):
    """超期诉求: open today and past their due date (``PetitionQuerySet.overdue``, which the
    dashboards' 超期未办结诉求 counts too)."""
    return petitions.overdue()


def _organisation_work_lists(request, on_date):
    """The 工作清单's governance lists of households and petitions (as they stand today)."""
    days = visit_interval_days()
    yield work_row(
        request,
        Household,
        "pairing_unvisited",
        _("结对户超过%(days)s天未走访") % {"days": days},
        _(
            "有在结的帮扶结对、但最近%(days)s天没有走访记录的搬迁户（按当前情况，不随统计日期变化）。"
        )
        % {"days": days},
        unvisited_households,
        {"pairing": "unvisited"},
        stored=HouseholdPairingFilter.from_figures["unvisited"],
        on_date=timezone.localdate(),
    )
    yield work_row(
        request,
        Petition,
        "petitions_overdue",
        _("超期诉求"),
        _("已过办理期限、仍在受理或办理中的利益诉求（按当前情况，不随统计日期变化）。"),
        overdue_petitions,
        {"overdue": "yes"},
        stored=figure("petitions_overdue"),
        on_date=timezone.localdate(),
    )


work_lists.add("governance_organisation", _organisation_work_lists, order=40)


class PetitionForm(forms.ModelForm):
    """The petition's own fields, and on an existing one the next step of its handling."""

    next_state = forms.ChoiceField(label=_("办理"), required=False)
    action_date = forms.DateField(label=_("办理日期"), required=False)
    resolution = forms.CharField(label=_("办理结果"), required=False, widget=forms.Textarea)
    satisfaction = forms.ChoiceField(
        label=_("满意度"), required=False, choices=[("", "---------"), *Satisfaction.choices]
    )
    reject_reason = forms.CharField(label=_("不予受理理由"), required=False, widget=forms.Textarea)
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea)

    class Meta:
        model = Petition
        fields = (
            "settlement",
            "number",
            "household",
            "person",
            "group",
            "phone",
            "category",
            "channel",
            "received_on",
            "summary",
            "handler",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "next_state" in self.fields:
            allowed = PETITION_FLOW.get(self.instance.state, ()) if self.instance.pk else ()
            self.fields["next_state"].choices = [("", _("（不变）"))] + [
                (s, PetitionState(s).label) for s in allowed
            ]
            self.fields["action_date"].initial = timezone.localdate()

    def clean(self):
        cleaned = super().clean()
        to_state = cleaned.get("next_state")
        if to_state and self.instance.pk:
            try:
                self.instance.check_transition(
                    to_state,
                    on_date=cleaned.get("action_date"),
                    resolution=cleaned.get("resolution", ""),
                    satisfaction=cleaned.get("satisfaction", ""),
                    reason=cleaned.get("reject_reason", ""),
                )
            except forms.ValidationError as error:
                self.add_error(None, error)
        return cleaned


class PetitionTransitionInline(ScopedAdminMixin, admin.TabularInline):
    model = PetitionTransition
    on_add_page = False  # the record's steps: none before it is saved
    extra = 0
    can_delete = False
    fields = ("from_state", "to_state", "on_date", "by", "at", "note")
    readonly_fields = fields
    verbose_name_plural = _("办理记录")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


PETITION_ACTION_FIELDS = (
    "next_state",
    "action_date",
    "resolution",
    "satisfaction",
    "reject_reason",
    "note",
)


@admin.register(Petition)
class PetitionAdmin(ScopedExportMixin, GovernanceAdmin):
    resource_classes = (PetitionSheetResource,)
    form = PetitionForm
    list_display = (
        "number",
        "received_on",
        "who_display",
        "category",
        "channel",
        "handler",
        "due_display",
        "state",
        "satisfaction",
    )
    list_filter = ("settlement", OverdueFilter, "state", "category", "channel")
    # The dashboards link to the period's received and closed petitions.
    extra_list_lookups = (
        "received_on__gte",
        "received_on__lte",
        "closed_on__gte",
        "closed_on__lte",
        "followed_up_on__gte",
        "followed_up_on__lte",
    )
    list_select_related = ("category", "household", "person")
    search_fields = ("household__number", "number")
    search_help_text = _("输入户编号或登记编号（从头开始）")
    autocomplete_fields = ("settlement", "household", "person")
    inlines = (PetitionTransitionInline,)
    readonly_fields = (
        "due_on",
        "state",
        "resolution",
        "closed_on",
        "followed_up_on",
        "satisfaction",
        "reject_reason",
    )

    class Media:
        css = {"all": ("governance/petitions.css",)}

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().upper()
        if not term:
            return queryset, False
        return queryset.filter(
            Q(household__number__startswith=term) | Q(number__startswith=term)
        ), False

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(None, {"fields": PetitionForm.Meta.fields})]
        if obj is not None:
            fieldsets.append(
                (
                    _("办理情况"),
                    {
                        "fields": (
                            "state",
                            "due_on",
                            "resolution",
                            "closed_on",
                            "followed_up_on",
                            "satisfaction",
                            "reject_reason",
                        )
                    },
                )
            )
            if PETITION_FLOW.get(obj.state):
                fieldsets.append((_("下一步办理"), {"fields": PETITION_ACTION_FIELDS}))
        # Masking (phone) is applied by ScopedAdminMixin on the fieldsets built here.
        swaps = self._sensitive_swaps(request, obj)
        return [
            (name, {**opts, "fields": [swaps.get(f, f) for f in opts["fields"]]})
            for name, opts in fieldsets
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None or not PETITION_FLOW.get(obj.state):
            for name in PETITION_ACTION_FIELDS:
                form.base_fields.pop(name, None)
        return form

    def save_model(self, request, obj, form, change):
        adding = obj.pk is None
        super().save_model(request, obj, form, change)
        if adding:
            PetitionTransition.objects.create(
                petition=obj,
                from_state="",
                to_state=PetitionState.ACCEPTED,
                on_date=obj.received_on,
                by=request.user,
            )
            return
        data = form.cleaned_data
        if data.get("next_state"):
            obj.transition(
                data["next_state"],
                user=request.user,
                on_date=data["action_date"],
                note=data.get("note", ""),
                resolution=data.get("resolution", ""),
                satisfaction=data.get("satisfaction", ""),
                reason=data.get("reject_reason", ""),
            )

    @admin.display(description=_("诉求人"))
    def who_display(self, obj):
        return obj.who or "—"

    @admin.display(description=_("办结期限"), ordering="due_on")
    def due_display(self, obj):
        if obj.is_overdue():
            return format_html(
                '<span class="petition-overdue" title="{}">{} {}</span>',
                _("已超过办结期限"),
                formats.localize(obj.due_on),
                _("超期"),
            )
        return obj.due_on
