"""Governance and monitoring admin: monitoring.

防返贫监测对象 with their risk types, assistance measures and procedure steps;
the steps are taken from buttons on the record's page (one form per step, see
``governance.monitoring_workflow`` for who may take which); early-warning rules
(per-province reference data) and the alerts of the scan, reviewed from buttons
on the alert's page.  Everything goes through ``ScopedHistoryAdmin``: scope,
masking and change history.
"""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from communities.admin_export import ScopedExportMixin
from communities.admin_filters import AppliedWhenGivenMixin
from communities.admin_reference import ProvinceReferenceAdminMixin
from communities.admin_scope import (
    MaskingHistoryHelper,
    ScopedAdminMixin,
    ScopedHistoryAdmin,
    may_view_sensitive,
)
from communities.audit import record_reads
from communities.enums import RegionLevel
from communities.models import Region
from communities.plugins import work_lists
from communities.worklists import work_row
from relocation.dashboards.live import figure

from .. import monitoring_workflow as workflow
from ..import_resources import MonitoringSheetResource
from ..models.monitoring import (
    IN_PROCEDURE,
    TELLING_FIELDS,
    AlertState,
    AssistanceRecord,
    EarlyWarningAlert,
    EarlyWarningRule,
    LeadSource,
    MonitoringCategory,
    MonitoringRecord,
    MonitoringRisk,
    RecordState,
    RiskType,
    Step,
    WorkflowStep,
)
from ..resources import AlertResource

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Django's admin styles a choice list as one when it carries "radiolist" (its own
# radio_fields do): each choice on one line, in columns (static/relocation/admin.css).
CHOICE_GRID = forms.CheckboxSelectMultiple(attrs={"class": "radiolist choice-grid"})


class MonitoringAdmin(ScopedHistoryAdmin):
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50


# --- work lists ------------------------------------------------------------------------


def _date_param(value):
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


class DateListFilter(AppliedWhenGivenMixin, admin.SimpleListFilter):
    """A filter whose value is a date (the dashboards link with their reference date).

    ``today_choice`` (a label) offers today; a date in the URL is offered as
    ``dated_label``; a value that is no date lists nothing.  Subclasses give ``rows(queryset, day)``.
    """

    today_choice = None
    today_value = None  # the value standing for today, when not the ISO date
    dated_label = ""

    def lookups(self, request, model_admin):
        today = self.today_value or timezone.localdate().isoformat()
        shown = [(today, self.today_choice)] if self.today_choice else []
        value = self.value()
        if value and value != today and _date_param(value):
            shown.append((value, self.dated_label % {"day": value}))
        return shown

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        day = timezone.localdate() if value == self.today_value else _date_param(value)
        if day is None:
            return queryset.none()
        return self.rows(queryset, day)


class OverdueFilter(DateListFilter):
    """逾期: an identification or removal still under way after its 15 days (``1``: today)."""

    title = _("办理时限")
    parameter_name = "overdue"
    today_choice = _("已超过15天未办结")
    today_value = "1"
    dated_label = _("%(day)s已超过15天未办结")

    def rows(self, queryset, day):
        return queryset.overdue(day)


class MonitoredOnFilter(DateListFilter):
    """监测中 on a date (the dashboards' 监测对象户数): identified by then, not removed."""

    title = _("统计日在监测中")
    parameter_name = "monitored_on"
    today_choice = _("今天在监测中")
    dated_label = _("%(day)s在监测中")

    def rows(self, queryset, day):
        return queryset.monitored_on(day)


class RiskGroupFilter(admin.SimpleListFilter):
    """风险大类 (the first two digits of the national code; 02 every natural disaster)."""

    title = _("风险大类")
    parameter_name = "risk_group"

    def lookups(self, request, model_admin):
        from ..indicators.monitoring import RISK_GROUPS

        return [(code, f"{code} {label}") for code, label in RISK_GROUPS]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not (value.isdigit() and len(value) == 2):
            return queryset.none()
        return queryset.filter(risks__code__startswith=value).distinct()


class RiskTypeFilter(admin.SimpleListFilter):
    title = _("风险类型")
    parameter_name = "risk"

    def lookups(self, request, model_admin):
        return RiskType.choices

    def queryset(self, request, queryset):
        if self.value() in RiskType.values:
            return queryset.filter(risks__code=self.value()).distinct()
        return queryset


class NextStepFilter(admin.SimpleListFilter):
    """待办环节: records whose procedure waits for this step."""

    title = _("待办环节")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [(str(step.value), step.label) for step in Step if step != Step.LEAD]

    def queryset(self, request, queryset):
        value = self.value()
        if not value or not value.isdigit() or int(value) not in Step.values:
            return queryset
        # _last_step: MonitoringRecordAdmin's list annotates it.
        return queryset.filter(state__in=IN_PROCEDURE, _last_step=int(value) - 1)


# --- records ------------------------------------------------------------------------------


class RiskInline(ScopedAdminMixin, admin.TabularInline):
    model = MonitoringRisk
    extra = 0


class MeasureInline(ScopedAdminMixin, admin.TabularInline):
    model = AssistanceRecord
    extra = 0


class StepInline(ScopedAdminMixin, admin.TabularInline):
    model = WorkflowStep
    extra = 0
    can_delete = False
    fields = (
        "procedure",
        "round",
        "step",
        "taken_on",
        "taken_by_name",
        "document_number",
        "approved",
        "notice_start",
        "notice_end",
        "notes",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LeadForm(forms.ModelForm):
    """登记线索: the record and its first step, checked by the workflow before saving."""

    taken_on = forms.DateField(label=_("线索日期"), widget=DATE_WIDGET)
    document_number = forms.CharField(label=_("文书编号"), max_length=100, required=False)
    risk_codes = forms.MultipleChoiceField(
        label=_("风险类型"),
        choices=RiskType.choices,
        widget=CHOICE_GRID,
        required=False,
    )

    class Meta:
        model = MonitoringRecord
        fields = ("household", "category", "lead_source", "notes")

    request = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_source"].choices = [
            choice
            for choice in LeadSource.choices
            if choice[0] not in (LeadSource.ALERT, LeadSource.IMPORTED)
        ]
        self.initial.setdefault("taken_on", timezone.localdate())

    def clean(self):
        cleaned = super().clean()
        household = cleaned.get("household")
        if household is None or self.errors:
            return cleaned
        try:
            workflow.check_lead(household, self.request.user, cleaned.get("taken_on"))
        except ValidationError as error:
            self._add_workflow_error(error)
        return cleaned

    def _add_workflow_error(self, error):
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, error)


@admin.register(MonitoringRecord)
class MonitoringRecordAdmin(ScopedExportMixin, MonitoringAdmin):
    resource_classes = (MonitoringSheetResource,)
    list_display = (
        "household_number",
        "settlement_name",
        "category",
        "state_shown",
        "lead_source",
        "procedure_started_on",
        "due_on_shown",
        "waiting_step",
    )
    list_filter = (
        "state",
        "category",
        OverdueFilter,
        NextStepFilter,
        MonitoredOnFilter,
        RiskGroupFilter,
        RiskTypeFilter,
        "lead_source",
    )
    # The dashboards' 风险消除户数 links to the period's removals.
    extra_list_lookups = ("removed_on__gte", "removed_on__lte")
    list_select_related = ("household__settlement",)
    search_fields = ("household__number",)
    search_help_text = _("输入完整的户编号")
    autocomplete_fields = ("household",)
    inlines = (RiskInline, MeasureInline, StepInline)
    change_form_template = "admin/governance/monitoring_record_change_form.html"
    readonly_fields = (
        "household",
        "lead_source",
        "state",
        "procedure_started_on",
        "due_on",
        "identified_on",
        "risk_eliminated",
        "removed_on",
    )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(household__number=term), False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return super().get_readonly_fields(request, obj)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "household",
                "category",
                "lead_source",
                "taken_on",
                "document_number",
                "risk_codes",
                "notes",
            ]
        return [
            "household",
            "category",
            "lead_source",
            "state",
            "procedure_started_on",
            "due_on",
            "identified_on",
            "risk_eliminated",
            "removed_on",
            "notes",
        ]

    def get_fieldsets(self, request, obj=None):
        return [(None, {"fields": self.get_fields(request, obj)})]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = type("LeadForm", (LeadForm,), {"request": request})
            kwargs["fields"] = ["household", "category", "lead_source", "notes"]
        return super().get_form(request, obj, change, **kwargs)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        record = workflow.start_identification(
            data["household"],
            user=request.user,
            category=data["category"],
            lead_source=data["lead_source"],
            taken_on=data["taken_on"],
            risks=data.get("risk_codes") or (),
            document_number=data.get("document_number") or "",
            notes=data.get("notes") or "",
        )
        obj.__dict__.update(
            {f.attname: getattr(record, f.attname) for f in MonitoringRecord._meta.concrete_fields}
        )
        obj._state.adding = False
        obj._state.db = record._state.db
        return None

    def has_delete_permission(self, request, obj=None):
        # The procedure is a record of decisions: it is closed, never deleted.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    @admin.display(description=_("户编号"), ordering="household__number")
    def household_number(self, obj):
        return obj.household.number

    @admin.display(description=_("安置点"))
    def settlement_name(self, obj):
        return obj.household.settlement.name if obj.household.settlement_id else "—"

    @admin.display(description=_("状态"), ordering="state")
    def state_shown(self, obj):
        return obj.get_state_display()

    @admin.display(description=_("应办结日期"), ordering="due_on")
    def due_on_shown(self, obj):
        if obj.is_overdue():
            return format_html(
                '<span class="monitoring-overdue" title="{}">{} {}</span>',
                _("已超过15天未办结"),
                obj.due_on,
                _("（逾期）"),
            )
        if obj.state in IN_PROCEDURE:
            return obj.due_on
        return "—"

    def get_queryset(self, request):
        # 待办环节 of each row and its filter, without a query per row.
        return super().get_queryset(request).annotate(_last_step=workflow.last_step_number())

    @admin.display(description=_("待办环节"))
    def waiting_step(self, obj):
        step = None
        if obj.state in IN_PROCEDURE and obj._last_step is not None:
            step = workflow.step_after(obj._last_step)
        return step.label if step else "—"

    # --- steps ----------------------------------------------------------------------------
    def get_urls(self):
        return [
            path(
                "<path:object_id>/step/",
                self.admin_site.admin_view(self.step_view),
                name="governance_monitoringrecord_step",
            ),
            path(
                "<path:object_id>/removal/",
                self.admin_site.admin_view(self.removal_view),
                name="governance_monitoringrecord_removal",
            ),
            *super().get_urls(),
        ]

    def _visible_record(self, request, object_id):
        record = self.get_object(request, object_id)
        if record is None or not self.has_view_permission(request, record):
            raise Http404
        return record

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        record = self.get_object(request, object_id)
        if record is not None:
            step = workflow.next_step(record)
            settlement = record.household.settlement
            extra_context["monitoring_next_step"] = step
            extra_context["monitoring_may_take"] = bool(
                step and workflow.may_take(request.user, step, settlement)
            )
            extra_context["monitoring_may_remove"] = (
                record.state == RecordState.MONITORED
                and workflow.may_take(request.user, Step.LEAD, settlement)
            )
            extra_context["monitoring_overdue"] = record.is_overdue()
        return super().change_view(request, object_id, form_url, extra_context)

    def step_view(self, request, object_id):
        record = self._visible_record(request, object_id)
        step = workflow.next_step(record)
        form = StepForm(request.POST or None, step=step)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                workflow.take_step(
                    record,
                    int(data["step"]),
                    user=request.user,
                    taken_on=data["taken_on"],
                    document_number=data.get("document_number") or "",
                    approved=data["outcome"] != "no",
                    notice_start=data.get("notice_start"),
                    notice_end=data.get("notice_end"),
                    notes=data.get("notes") or "",
                )
            except ValidationError as error:
                form.add_workflow_error(error)
            else:
                messages.success(
                    request, _("已办理“%(step)s”。") % {"step": Step(int(data["step"])).label}
                )
                return HttpResponseRedirect(
                    reverse("admin:governance_monitoringrecord_change", args=[record.pk])
                )
        may_take = bool(step and workflow.may_take(request.user, step, record.household.settlement))
        return self._step_page(request, record, form, step, may_take, _("办理环节"))

    def removal_view(self, request, object_id):
        record = self._visible_record(request, object_id)
        form = RemovalForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                workflow.start_removal(
                    record,
                    user=request.user,
                    taken_on=data["taken_on"],
                    document_number=data.get("document_number") or "",
                    notes=data.get("notes") or "",
                )
            except ValidationError as error:
                form.add_workflow_error(error)
            else:
                messages.success(request, _("已启动风险消除程序。"))
                return HttpResponseRedirect(
                    reverse("admin:governance_monitoringrecord_change", args=[record.pk])
                )
        may_take = record.state == RecordState.MONITORED and workflow.may_take(
            request.user, Step.LEAD, record.household.settlement
        )
        return self._step_page(request, record, form, Step.LEAD, may_take, _("启动风险消除"))

    def _step_page(self, request, record, form, step, may_take, title):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "record": record,
            "form": form,
            "step": step,
            "may_take": may_take,
            "steps": record.steps.order_by("procedure", "round", "step"),
        }
        return TemplateResponse(request, "admin/governance/monitoring_step.html", context)


class WorkflowErrorsMixin:
    def add_workflow_error(self, error):
        """The workflow's error on its field, or above the form when the field is not shown."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, errors in error.error_dict.items():
            shown = field in self.fields and not self.fields[field].widget.is_hidden
            self.add_error(field if shown else None, errors)


class StepForm(WorkflowErrorsMixin, forms.Form):
    step = forms.TypedChoiceField(
        label=_("环节"), choices=Step.choices, coerce=int, widget=forms.HiddenInput
    )
    taken_on = forms.DateField(label=_("办理日期"), widget=DATE_WIDGET)
    document_number = forms.CharField(label=_("文书编号"), max_length=100, required=False)
    notice_start = forms.DateField(label=_("公示开始日期"), required=False, widget=DATE_WIDGET)
    notice_end = forms.DateField(label=_("公示结束日期"), required=False, widget=DATE_WIDGET)
    outcome = forms.ChoiceField(
        label=_("结论"),
        choices=[("yes", _("通过")), ("no", _("不通过"))],
        initial="yes",
        widget=forms.RadioSelect(attrs={"class": "radiolist inline"}),
    )
    notes = forms.CharField(
        label=_("意见"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, step=None, **kwargs):
        super().__init__(*args, **kwargs)
        if step is not None:
            self.initial.setdefault("step", int(step))
            self.fields["document_number"].label = workflow.DOCUMENT_LABELS.get(step, _("文书编号"))
            if step != Step.VILLAGE:
                del self.fields["notice_start"]
                del self.fields["notice_end"]
            if step in (Step.LEAD, Step.VISIT):
                del self.fields["outcome"]
        self.initial.setdefault("taken_on", timezone.localdate())

    def clean(self):
        cleaned = super().clean()
        cleaned.setdefault("outcome", "yes")
        return cleaned


class RemovalForm(WorkflowErrorsMixin, forms.Form):
    taken_on = forms.DateField(label=_("线索日期"), widget=DATE_WIDGET)
    document_number = forms.CharField(label=_("文书编号"), max_length=100, required=False)
    notes = forms.CharField(label=_("说明"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("taken_on", timezone.localdate())


# --- early warning ------------------------------------------------------------------------


class RuleForm(forms.ModelForm):
    class Meta:
        model = EarlyWarningRule
        fields = ("province", "year", "kind", "parameters", "active", "source")
        help_texts = {
            "parameters": _(
                '阈值，如 {"margin_percent": 10}。各类规则的参数：收入低于监测线 margin_percent；'
                "收入下降 drop_percent；适龄儿童 min_age、max_age；务工结束 days；其余无参数。"
            )
        }


@admin.register(EarlyWarningRule)
class EarlyWarningRuleAdmin(ProvinceReferenceAdminMixin, MonitoringAdmin):
    form = RuleForm
    list_display = ("province", "year", "kind", "parameters", "active")
    list_filter = ("year", "kind", "active")
    change_list_template = "admin/governance/early_warning_rule_change_list.html"

    def _choice_queryset(self, db_field, request):
        if db_field.related_model is Region:
            return Region.objects.filter(level=RegionLevel.PROVINCE)
        return super()._choice_queryset(db_field, request)

    def get_urls(self):
        return [
            path(
                "scan/",
                self.admin_site.admin_view(self.scan_view),
                name="governance_earlywarningrule_scan",
            ),
            *super().get_urls(),
        ]

    def scan_view(self, request):
        """立即扫描: hand the scan to the job worker (POST; administrators of rules only)."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:governance_earlywarningrule_changelist"))
        if not self.has_change_permission(request):
            raise PermissionDenied
        from ..tasks import scan_early_warnings

        scan_early_warnings.enqueue()
        messages.success(
            request, _("预警扫描已交给后台任务执行，完成后新预警会出现在预警信息列表中。")
        )
        return HttpResponseRedirect(reverse("admin:governance_earlywarningrule_changelist"))


class OpenOnFilter(DateListFilter):
    """Open on a date (the dashboards' 待处理预警)."""

    title = _("统计日待处理")
    parameter_name = "open_on"
    today_choice = _("今天待处理")  # the 工作清单's and the dashboards' link
    dated_label = _("%(day)s待处理")

    def rows(self, queryset, day):
        return queryset.open_on(day)


class OpenAlertFilter(admin.SimpleListFilter):
    title = _("待处理")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("1", _("待处理（新预警、已核实）")), ("gone", _("已核实但原因已消失"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.open()  # 待处理: new and verified, as they stand today
        if self.value() == "gone":
            return queryset.filter(state=AlertState.VERIFIED, cause_gone_on__isnull=False)
        return queryset


def _told(alert, value, request):
    return alert.told(value, may_view_sensitive(request.user))


class AlertHistoryHelper(MaskingHistoryHelper):
    """An alert about a member's health keeps its member, detail and exclusion reason
    hidden in its history too, from users who may not see personal data."""

    def prepare_delta_change_value(self, change, value):
        if change.field in TELLING_FIELDS:
            value = self._alert.told(value, self.reveal)
        return super().prepare_delta_change_value(change, value)

    @cached_property
    def _alert(self):
        return self.record.instance


@admin.register(EarlyWarningAlert)
class EarlyWarningAlertAdmin(ScopedExportMixin, MonitoringAdmin):
    resource_classes = (AlertResource,)
    history_helper_class = AlertHistoryHelper
    list_display = (
        "household_number",
        "settlement_name",
        "kind",
        "person_shown",
        "detail_shown",
        "state",
        "raised_on",
        "cause_gone_on",
    )
    list_filter = (OpenAlertFilter, OpenOnFilter, "state", "kind", "raised_on")
    list_select_related = ("household__settlement", "person")
    search_fields = ("household__number",)
    search_help_text = _("输入完整的户编号")
    change_form_template = "admin/governance/early_warning_alert_change_form.html"
    fields = (
        "household",
        "kind",
        "rule",
        "person_shown",
        "detail_shown",
        "state",
        "raised_on",
        "cause_gone_on",
        "reviewed_by",
        "reviewed_on",
        "reason_shown",
    )
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(household__number=term), False

    def audited_reads(self, obj):
        return obj.health_reads()

    def has_add_permission(self, request):
        return False  # raised by the scan only

    def has_delete_permission(self, request, obj=None):
        return False

    def get_list_display(self, request):
        self._request = request
        return super().get_list_display(request)

    def get_readonly_fields(self, request, obj=None):
        self._request = request
        return super().get_readonly_fields(request, obj)

    @admin.display(description=_("户编号"), ordering="household__number")
    def household_number(self, obj):
        return obj.household.number

    @admin.display(description=_("安置点"))
    def settlement_name(self, obj):
        return obj.household.settlement.name if obj.household.settlement_id else "—"

    @admin.display(description=_("涉及成员"))
    def person_shown(self, obj):
        if obj.person_id is None:
            return "—"
        return _told(obj, obj.person.name, self._request)

    @admin.display(description=_("预警内容"))
    def detail_shown(self, obj):
        return _told(obj, obj.detail, self._request)

    @admin.display(description=_("排除理由"))
    def reason_shown(self, obj):
        return _told(obj, obj.reason, self._request) or None  # empty: the page's 「-」

    def get_urls(self):
        return [
            path(
                "<path:object_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="governance_earlywarningalert_review",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        alert = self.get_object(request, object_id)
        if alert is not None:
            extra_context["alert_may_review"] = (
                alert.is_open
                and self.has_change_permission(request, alert)
                and bool(
                    workflow.user_levels(request.user, alert.household.settlement)
                    & set(workflow.ALERT_LEVELS)
                )
            )
            extra_context["alert_state"] = alert.state
        return super().change_view(request, object_id, form_url, extra_context)

    def review_view(self, request, object_id):
        alert = self.get_object(request, object_id)
        if alert is None:
            raise Http404
        if not self.has_change_permission(request, alert):
            raise PermissionDenied
        form = AlertReviewForm(request.POST or None, alert=alert)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["action"] == "verify":
                    workflow.verify_alert(alert, user=request.user)
                    done = _("预警已核实。")
                elif data["action"] == "exclude":
                    workflow.exclude_alert(alert, user=request.user, reason=data.get("reason", ""))
                    done = _("预警已排除。")
                else:
                    record = workflow.monitor_alert(
                        alert,
                        user=request.user,
                        category=data.get("category") or "",
                        risks=data.get("risk_codes") or (),
                    )
                    messages.success(request, _("已纳入监测，识别程序已开始。"))
                    return HttpResponseRedirect(
                        reverse("admin:governance_monitoringrecord_change", args=[record.pk])
                    )
            except ValidationError as error:
                form.add_workflow_error(error)
            else:
                messages.success(request, done)
                return HttpResponseRedirect(
                    reverse("admin:governance_earlywarningalert_change", args=[alert.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("处理预警"),
            "alert": alert,
            "alert_detail": _told(alert, alert.detail, request),
            "form": form,
        }
        response = TemplateResponse(request, "admin/governance/early_warning_review.html", context)
        record_reads(request, alert.health_reads())
        return response


class AlertReviewForm(WorkflowErrorsMixin, forms.Form):
    action = forms.ChoiceField(
        label=_("处理"),
        choices=[
            ("verify", _("核实")),
            ("monitor", _("纳入监测")),
            ("exclude", _("排除")),
        ],
        widget=forms.RadioSelect(attrs={"class": "radiolist inline"}),
    )
    reason = forms.CharField(label=_("排除理由"), max_length=300, required=False)
    category = forms.ChoiceField(
        label=_("监测对象类别"),
        choices=[("", "---------"), *MonitoringCategory.choices],
        required=False,
    )
    risk_codes = forms.MultipleChoiceField(
        label=_("风险类型"),
        choices=RiskType.choices,
        widget=CHOICE_GRID,
        required=False,
    )

    def __init__(self, *args, alert=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.alert = alert

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "monitor" and not cleaned.get("category"):
            self.add_error("category", _("纳入监测时请选择监测对象类别。"))
        return cleaned


def _monitoring_work_lists(request, on_date):
    """The 工作清单's 防返贫 lists on ``on_date``: procedures past their 15 days, and the
    alerts waiting for someone (today's counts from the dashboards' stored figures)."""
    yield work_row(
        request,
        MonitoringRecord,
        "monitoring_overdue",
        _("超期未办结的监测对象"),
        _("统计日识别或消除风险程序已超过15天仍未办结的防返贫监测对象。"),
        lambda records: records.overdue(on_date),
        {"overdue": on_date.isoformat()},
        stored=figure("overdue_identifications"),
        on_date=on_date,
    )
    yield work_row(
        request,
        EarlyWarningAlert,
        "alerts_open",
        _("待处理预警"),
        _("统计日尚未处理完毕（新预警、已核实）的预警。"),
        lambda alerts: alerts.open_on(on_date),
        {"open_on": on_date.isoformat()},
        stored=figure("open_alerts"),
        on_date=on_date,
    )


work_lists.add("governance_monitoring", _monitoring_work_lists, order=30)
