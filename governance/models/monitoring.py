"""Governance and monitoring: monitoring (models).

防返贫监测: monitored household records with their risk types and assistance
measures, the identification / removal procedure as workflow steps, early-warning
rules as data and the alerts their scan raises.

Everything hangs off a household, and through it a settlement: area scope follows
(``scope_path``).  Rules belong to a province and a year and are reference data.

The documents of a step (the household's signed authorisation, the notice, the
township's and county's decisions) are recorded by their **document number**
(文号/编号), not uploaded: the signed originals are kept in the village's and
township's paper archives as the procedure requires, and the product has no file
storage whose downloads would pass through area scope and masking; a public
media URL would leak signed personal papers to anyone holding the link.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.history import HistoricalRecords, HistoryRecordingQuerySet
from communities.masking import HIDDEN
from communities.models import Household, Person, Region
from communities.scope import ScopedQuerySetMixin

__all__ = [
    "AlertState",
    "AssistanceMeasure",
    "AssistanceRecord",
    "EarlyWarningAlert",
    "EarlyWarningRule",
    "LeadSource",
    "MonitoringCategory",
    "MonitoringRecord",
    "MonitoringRisk",
    "Procedure",
    "RecordState",
    "RiskType",
    "RuleKind",
    "Step",
    "WorkflowStep",
]

#: Days the whole procedure normally takes, from the lead to the county's decision.
PROCEDURE_DAYS = 15
#: Shortest public notice, in days counting the first and the last.
NOTICE_MIN_DAYS = 5


class MonitoringCategory(models.TextChoices):
    UNSTABLE = "unstable", _("脱贫不稳定户")
    EDGE = "edge", _("边缘易致贫户")
    SUDDEN = "sudden", _("突发严重困难户")


class RiskType(models.TextChoices):
    """Risk types by their national codes (02 is always recorded with its sub-code)."""

    ILLNESS = "01", _("01 因病")
    FLOOD = "0201", _("0201 因自然灾害（洪涝）")
    GEOLOGICAL = "0202", _("0202 因自然灾害（地质灾害）")
    DROUGHT = "0203", _("0203 因自然灾害（旱灾）")
    BIOLOGICAL = "0204", _("0204 因自然灾害（生物灾害）")
    WEATHER = "0205", _("0205 因自然灾害（气象灾害）")
    EARTHQUAKE = "0206", _("0206 因自然灾害（地震）")
    DISASTER_OTHER = "0299", _("0299 因自然灾害（其他）")
    DISABILITY = "03", _("03 因残")
    LABOUR = "04", _("04 因缺劳动力")
    ACCIDENT = "05", _("05 因意外事故")
    INDUSTRY = "06", _("06 因产业项目失败")
    UNSTABLE_JOB = "07", _("07 因务工就业不稳")
    SCHOOLING = "09", _("09 因学")
    OTHER = "99", _("99 其他")


class AssistanceMeasure(models.TextChoices):
    INDUSTRY = "industry", _("产业帮扶")
    EMPLOYMENT = "employment", _("就业帮扶")
    FINANCE = "finance", _("金融帮扶")
    PUBLIC_WELFARE = "public_welfare", _("公益岗位帮扶")
    HOUSING = "housing", _("住房安全保障")
    WATER = "water", _("饮水安全保障")
    HEALTH = "health", _("健康帮扶")
    COMPULSORY_EDUCATION = "compulsory_education", _("义务教育保障")
    OTHER_EDUCATION = "other_education", _("其他教育帮扶")
    SOCIAL_SECURITY = "social_security", _("综合保障")
    SOCIAL = "social", _("社会帮扶")
    RELOCATION = "relocation", _("搬迁")
    LIVING_CONDITIONS = "living_conditions", _("生产生活条件改善")
    INFRASTRUCTURE = "infrastructure", _("基础设施建设")


class LeadSource(models.TextChoices):
    APPLICATION = "application", _("农户申请")
    SURVEY = "survey", _("干部排查")
    DEPARTMENT = "department", _("部门预警")
    ALERT = "alert", _("预警信息")
    IMPORTED = "imported", _("表格导入（已认定）")


class Procedure(models.TextChoices):
    IDENTIFY = "identify", _("识别纳入")
    REMOVE = "remove", _("风险消除")


class Step(models.IntegerChoices):
    LEAD = 1, _("线索")
    VISIT = 2, _("入户核实（签署授权书）")
    VILLAGE = 3, _("村（社区）民主评议和公示")
    TOWNSHIP = 4, _("乡镇审核")
    COUNTY = 5, _("县级审定")


class RecordState(models.TextChoices):
    IDENTIFYING = "identifying", _("识别中")
    MONITORED = "monitored", _("监测中（风险未消除）")
    REMOVING = "removing", _("风险消除办理中")
    REMOVED = "removed", _("风险已消除")
    NOT_INCLUDED = "not_included", _("未纳入")


OPEN_STATES = (RecordState.IDENTIFYING, RecordState.MONITORED, RecordState.REMOVING)
IN_PROCEDURE = (RecordState.IDENTIFYING, RecordState.REMOVING)


def monitored_q(day, prefix=""):
    """Q: monitored on ``day`` - identified (县级审定) on or before it and not removed by then."""
    return Q(**{f"{prefix}identified_on__lte": day}) & (
        Q(**{f"{prefix}removed_on__isnull": True}) | Q(**{f"{prefix}removed_on__gt": day})
    )


def overdue_q(day):
    """Q: a procedure under way whose 15 days ended before ``day``."""
    return Q(state__in=IN_PROCEDURE, due_on__lt=day)


class MonitoringQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "household__settlement"

    def open(self):
        """Households under monitoring or being identified (not removed, not refused)."""
        return self.filter(state__in=OPEN_STATES)

    def overdue(self, on_date):
        """Identification or removal still under way after its 15 days."""
        return self.filter(overdue_q(on_date))

    def monitored_on(self, day):
        return self.filter(monitored_q(day))


class MonitoringRecord(models.Model):
    """防返贫监测对象: one household's monitoring, from the lead to the removal of risk."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("搬迁户"),
        on_delete=models.PROTECT,
        related_name="monitoring_records",
    )
    category = models.CharField(
        _("监测对象类别"), max_length=12, choices=MonitoringCategory.choices
    )
    lead_source = models.CharField(_("线索来源"), max_length=12, choices=LeadSource.choices)
    alert = models.ForeignKey(
        "EarlyWarningAlert",
        verbose_name=_("来源预警"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField(
        _("状态"),
        max_length=12,
        choices=RecordState.choices,
        default=RecordState.IDENTIFYING,
        editable=False,
    )
    procedure_started_on = models.DateField(_("本次程序开始日期"), editable=False)
    due_on = models.DateField(_("应办结日期"), editable=False)
    identified_on = models.DateField(_("识别纳入日期"), null=True, blank=True, editable=False)
    risk_eliminated = models.BooleanField(_("风险消除"), default=False, editable=False)
    removed_on = models.DateField(_("风险消除日期"), null=True, blank=True, editable=False)
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)

    objects = MonitoringQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("监测对象历史"))

    class Meta:
        verbose_name = _("防返贫监测对象")
        verbose_name_plural = pgettext_lazy("plural", "防返贫监测对象")
        ordering = ["-procedure_started_on", "-pk"]
        permissions = [
            ("import_monitoringrecord", _("可以导入防返贫监测对象")),
            ("export_monitoringrecord", _("可以导出防返贫监测对象")),
        ]
        indexes = [
            models.Index(fields=["state", "due_on"], name="monitoring_state_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(state__in=["identifying", "monitored", "removing"]),
                name="monitoring_one_open_record",
                violation_error_message=_("该户已有未结束的监测记录。"),
            )
        ]

    def __str__(self):
        return f"{self.household.number} {self.get_category_display()}"

    @property
    def procedure(self):
        return Procedure.REMOVE if self.state in (RecordState.REMOVING,) else Procedure.IDENTIFY

    def is_overdue(self, on_date=None):
        on_date = on_date or timezone.localdate()
        return self.state in IN_PROCEDURE and self.due_on < on_date


class RecordChildQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "record__household__settlement"


class MonitoringRisk(models.Model):
    record = models.ForeignKey(
        MonitoringRecord, verbose_name=_("监测对象"), on_delete=models.CASCADE, related_name="risks"
    )
    code = models.CharField(_("风险类型"), max_length=4, choices=RiskType.choices)

    objects = RecordChildQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("风险类型历史"))

    class Meta:
        verbose_name = _("风险类型")
        verbose_name_plural = pgettext_lazy("plural", "风险类型")
        constraints = [
            models.UniqueConstraint(
                fields=["record", "code"],
                name="monitoring_risk_once",
                violation_error_message=_("该风险类型已登记。"),
            )
        ]

    def __str__(self):
        return self.get_code_display()


class AssistanceRecord(models.Model):
    """A measure of assistance taken for a monitored household, from a date."""

    record = models.ForeignKey(
        MonitoringRecord,
        verbose_name=_("监测对象"),
        on_delete=models.CASCADE,
        related_name="measures",
    )
    measure = models.CharField(_("帮扶措施"), max_length=24, choices=AssistanceMeasure.choices)
    start_date = models.DateField(_("落实日期"))
    notes = models.CharField(_("内容"), max_length=200, blank=True)

    objects = RecordChildQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("帮扶措施历史"))

    class Meta:
        verbose_name = _("帮扶措施")
        verbose_name_plural = pgettext_lazy("plural", "帮扶措施")
        ordering = ["start_date", "pk"]

    def __str__(self):
        return f"{self.get_measure_display()}（{self.start_date}）"

    def clean(self):
        if self.start_date and self.start_date > timezone.localdate():
            raise ValidationError({"start_date": _("落实日期不能晚于今天。")})


class WorkflowStep(models.Model):
    """One step of the identification or removal procedure: who, when, which document."""

    record = models.ForeignKey(
        MonitoringRecord, verbose_name=_("监测对象"), on_delete=models.CASCADE, related_name="steps"
    )
    procedure = models.CharField(_("程序"), max_length=8, choices=Procedure.choices)
    round = models.PositiveSmallIntegerField(_("第几次"), default=1)
    step = models.PositiveSmallIntegerField(_("环节"), choices=Step.choices)
    taken_on = models.DateField(_("办理日期"))
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    taken_by_name = models.CharField(_("办理人姓名"), max_length=150, blank=True)
    document_number = models.CharField(
        _("文书编号"),
        max_length=100,
        blank=True,
        help_text=_("授权书、公示、审核或审定文书的编号；原件按规定存档。"),
    )
    approved = models.BooleanField(_("通过"), default=True)
    notice_start = models.DateField(_("公示开始日期"), null=True, blank=True)
    notice_end = models.DateField(_("公示结束日期"), null=True, blank=True)
    notes = models.CharField(_("意见"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = RecordChildQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("办理环节历史"))

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = pgettext_lazy("plural", "办理环节")
        ordering = ["record", "procedure", "round", "step"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "procedure", "round", "step"],
                name="monitoring_step_once",
                violation_error_message=_("该环节已办理。"),
            )
        ]

    def __str__(self):
        return f"{self.get_procedure_display()}·{self.get_step_display()}"


class RuleKind(models.TextChoices):
    """The kinds of early-warning rule: each is code (``governance.early_warning``)."""

    LOW_INCOME = "low_income", _("人均纯收入低于监测线或在监测线上浮范围内")
    ZERO_EMPLOYMENT = "zero_employment", _("有劳动力但无人就业（零就业）")
    INCOME_DROP = "income_drop", _("人均纯收入同比下降超过阈值")
    ILL_WITHOUT_INSURANCE = "ill_uninsured", _("大病或残疾成员未参加医保")
    CHILD_OUT_OF_SCHOOL = "out_of_school", _("义务教育阶段适龄儿童未在校")
    NOT_MOVED_IN = "not_moved_in", _("已分房未入住")
    JOB_ENDED = "job_ended", _("务工结束超过规定天数未再就业")


class RuleQuerySet(HistoryRecordingQuerySet):
    def for_year(self, year):
        return self.filter(year=year, active=True)


class EarlyWarningRule(models.Model):
    """One early-warning rule of a province for a year; its thresholds are data.

    ``parameters`` holds the thresholds by name (see ``RULE_PARAMETERS`` in
    ``governance.early_warning``), so a new threshold or a new year needs no migration.
    """

    kind = models.CharField(_("规则类型"), max_length=20, choices=RuleKind.choices)
    province = models.ForeignKey(
        Region,
        verbose_name=_("省份"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": 1},
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    parameters = models.JSONField(_("参数"), default=dict, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    source = models.CharField(_("依据"), max_length=200, blank=True)

    objects = RuleQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("预警规则历史"))

    class Meta:
        verbose_name = _("预警规则")
        verbose_name_plural = pgettext_lazy("plural", "预警规则")
        ordering = ["province_id", "-year", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "province", "year"],
                name="early_warning_rule_once",
                violation_error_message=_("该省份该年度已有此类预警规则。"),
            )
        ]

    def __str__(self):
        return f"{self.province.name} {self.year} {self.get_kind_display()}"

    def clean(self):
        from governance.monitoring_scan import validate_parameters

        if self.kind:
            errors = validate_parameters(self.kind, self.parameters)
            if errors:
                raise ValidationError({"parameters": errors})


class AlertState(models.TextChoices):
    NEW = "new", _("新预警")
    VERIFIED = "verified", _("已核实")
    MONITORED = "monitored", _("纳入监测")
    EXCLUDED = "excluded", _("已排除")
    CLEARED = "cleared", _("预警原因已消失")


OPEN_ALERT_STATES = (AlertState.NEW, AlertState.VERIFIED)
#: Alerts whose member, detail and exclusion reason (``TELLING_FIELDS``) tell a member's
#: health (大病或残疾): shown, on the pages, in exports and in the history, only to users
#: who may see personal data (``EarlyWarningAlert.told``).
HEALTH_ALERT_KINDS = frozenset({RuleKind.ILL_WITHOUT_INSURANCE})
TELLING_FIELDS = ("person", "detail", "reason")


def open_alert_q(day):
    """Q: an alert raised by ``day`` and still open on it (closed by a review or by the scan later)."""
    closed_by_review = Q(state__in=(AlertState.MONITORED, AlertState.EXCLUDED)) & Q(
        reviewed_on__lte=day
    )
    closed_by_scan = Q(state=AlertState.CLEARED) & Q(cause_gone_on__lte=day)
    return Q(raised_on__lte=day) & ~closed_by_review & ~closed_by_scan


class AlertQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "household__settlement"

    def open(self):
        return self.filter(state__in=OPEN_ALERT_STATES)

    def open_on(self, day):
        return self.filter(open_alert_q(day))


class EarlyWarningAlert(models.Model):
    """An alert raised by the scan: one cause (rule kind, household, person) while it is open."""

    rule = models.ForeignKey(
        EarlyWarningRule,
        verbose_name=_("预警规则"),
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    kind = models.CharField(_("预警类型"), max_length=20, choices=RuleKind.choices, editable=False)
    household = models.ForeignKey(
        Household, verbose_name=_("搬迁户"), on_delete=models.CASCADE, related_name="alerts"
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("涉及成员"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    # The cause's subject: the person's id for a rule about one member, "" for the household.
    subject = models.CharField(_("预警对象"), max_length=20, blank=True, editable=False)
    detail = models.CharField(_("预警内容"), max_length=200, blank=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=AlertState.choices, default=AlertState.NEW
    )
    raised_on = models.DateField(_("预警日期"))
    cause_gone_on = models.DateField(_("原因消失日期"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_on = models.DateField(_("处理日期"), null=True, blank=True)
    reason = models.CharField(_("排除理由"), max_length=300, blank=True)

    objects = AlertQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("预警历史"))

    class Meta:
        verbose_name = _("预警信息")
        verbose_name_plural = pgettext_lazy("plural", "预警信息")
        ordering = ["-raised_on", "-pk"]
        permissions = [("export_earlywarningalert", _("可以导出预警信息"))]
        indexes = [models.Index(fields=["kind", "state"], name="alert_kind_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "household", "subject"],
                condition=Q(state__in=["new", "verified"]),
                name="alert_one_open_per_cause",
                violation_error_message=_("同一原因的预警尚未处理完毕。"),
            )
        ]

    def __str__(self):
        return f"{self.household.number} {self.get_kind_display()}"

    def age_days(self, on_date=None):
        return ((on_date or timezone.localdate()) - self.raised_on).days

    @property
    def is_open(self):
        """待处理: a new or verified alert."""
        return self.state in OPEN_ALERT_STATES

    def told(self, value, reveal_sensitive):
        """``value`` of one of its ``TELLING_FIELDS`` as a user who may
        (``reveal_sensitive``) or may not see personal data is shown it: 「（已隐藏）」 for
        an alert about a member's health, to the latter; an empty value stays empty."""
        if value in (None, "") or reveal_sensitive or not self.tells_health:
            return value
        return HIDDEN

    @property
    def tells_health(self):
        """An alert about a member's health (``HEALTH_ALERT_KINDS``)."""
        return self.kind in HEALTH_ALERT_KINDS

    def health_reads(self):
        """What its member, detail and exclusion reason tell when shown in clear, for the
        read audit (``communities.audit``): the member's health, for an alert about it."""
        if self.tells_health and self.person_id:
            return [(self.person, ("health",))]
        return []


def due_date(start):
    return start + datetime.timedelta(days=PROCEDURE_DAYS)
