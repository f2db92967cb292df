"""Employment and income: employers, jobs, referrals, training and household income.

Every record hangs off a person or a household (and through them a settlement),
or off a county for things a county registers once and all its settlements use
(employers, job postings, training courses); area scope follows from that.
The indicator rules of INDICATORS.md live in ``employment.querysets`` so that
screens and dashboards share them.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.crypto import EncryptedCharField
from communities.history import HistoricalRecords, HistoryRecordingQuerySet
from communities.history_pii import TokenizedHistoricalRecords
from communities.models import Household, PeriodQuerySetMixin, Person, Region, Settlement
from communities.scope import ScopedQuerySetMixin, get_scope
from communities.validators import normalize_phone, validate_phone

from . import enums
from .querysets import IncomeQuerySetMixin
from .validators import normalize_credit_code, validate_credit_code

INCOME_YEAR_MIN = 2016
MONEY = {"max_digits": 12, "decimal_places": 2}
NON_NEGATIVE = [MinValueValidator(Decimal("0"), message=_("金额不能为负数。"))]


def visible_county_q(user, field="county"):
    """Q over a model with a county FK: counties the user's scope touches.

    A county-level record (an employer, a course) is visible to everyone whose
    area lies in or contains that county: the county's own officials, the
    prefecture and province above, township officials and community workers
    inside it.
    """
    scope = get_scope(user)
    if scope.unrestricted:
        return Q()
    q = Q(pk__in=[])
    for code in scope.region_prefixes:
        if len(code) > 6:  # township: its county
            q |= Q(**{f"{field}_id": code[:6]})
        else:
            q |= Q(**{f"{field}__code__startswith": code})
    if scope.settlement_ids:
        counties = set(
            Settlement.objects.filter(pk__in=scope.settlement_ids).values_list(
                "county_id", flat=True
            )
        )
        q |= Q(**{f"{field}_id__in": sorted(counties)})
    return q


class CountyScopedQuerySet(HistoryRecordingQuerySet):
    county_path = "county"

    def visible_to(self, user):
        scope = get_scope(user)
        if scope.unrestricted:
            return self
        if scope.empty:
            return self.none()
        return self.filter(visible_county_q(user, self.county_path))


class Employer(models.Model):
    """用工主体: an enterprise, assistance workshop, cooperative, collective or post provider."""

    name = models.CharField(_("单位名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=enums.EmployerKind.choices)
    credit_code = models.CharField(
        _("统一社会信用代码"),
        max_length=18,
        blank=True,
        validators=[validate_credit_code],
        help_text=_("18位，已知时填写；填写后系统校验其校验位。"),
    )
    county = models.ForeignKey(
        Region,
        verbose_name=_("登记县（市、区）"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": 3},
        help_text=_("负责登记和管理该单位的县级行政区。"),
    )
    settlement = models.ForeignKey(
        Settlement,
        verbose_name=_("服务安置点"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="employers",
        help_text=_("帮扶车间等设在或主要服务某个安置点时填写。"),
    )
    location = models.CharField(
        _("相对安置点位置"), max_length=20, choices=enums.EmployerLocation.choices
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    industry = models.CharField(_("行业"), max_length=50, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = EncryptedCharField(
        _("联系电话"), max_length=20, blank=True, validators=[validate_phone]
    )
    active = models.BooleanField(_("在营"), default=True)
    notes = models.TextField(_("备注"), blank=True)

    objects = CountyScopedQuerySet.as_manager()
    history = TokenizedHistoricalRecords(
        verbose_name=_("用工主体历史"), pii_fields={"contact_phone": "phone"}
    )

    # What a user enters, in order: the admin form, the export and the import sheet.
    EDIT_FIELDS = (
        "name",
        "kind",
        "credit_code",
        "county",
        "settlement",
        "location",
        "address",
        "industry",
        "contact_name",
        "contact_phone",
        "active",
        "notes",
    )

    class Meta:
        verbose_name = _("用工主体")
        verbose_name_plural = pgettext_lazy("plural", "用工主体")
        ordering = ["county_id", "name"]
        permissions = [
            ("import_employer", _("可以导入用工主体")),
            ("export_employer", _("可以导出用工主体")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="employer_credit_code_unique",
                violation_error_message=_("该统一社会信用代码已登记。"),
            ),
        ]

    def __str__(self):
        return self.name

    def clean_fields(self, exclude=None):
        self.credit_code = normalize_credit_code(self.credit_code)
        self.contact_phone = normalize_phone(self.contact_phone)
        super().clean_fields(exclude=exclude)

    def clean(self):
        if self.settlement_id and self.county_id and self.settlement.county_id != self.county_id:
            raise ValidationError({"settlement": _("服务安置点不在该单位的登记县内。")})


class PersonRecordQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "person__household__settlement"


class EmploymentRecordQuerySet(PeriodQuerySetMixin, PersonRecordQuerySet):
    def employed_kinds(self):
        return self.filter(kind__in=enums.EMPLOYED_KINDS)


class EmploymentRecord(models.Model):
    """就业台账: one person's job over a period; an open record is a current job."""

    person = models.ForeignKey(
        Person,
        verbose_name=_("人员"),
        on_delete=models.CASCADE,
        related_name="jobs",
        # Served by the composite index that starts with it (below): no index of its own.
        db_index=False,
    )
    kind = models.CharField(_("就业类型"), max_length=20, choices=enums.EmploymentKind.choices)
    employer = models.ForeignKey(
        Employer,
        verbose_name=_("用工主体"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jobs",
        help_text=_("在系统登记的单位；外出务工单位未登记时填写下方“单位名称”。"),
    )
    employer_name = models.CharField(_("单位名称"), max_length=100, blank=True)
    position = models.CharField(_("岗位/工种"), max_length=50, blank=True)
    place = models.CharField(_("就业地点"), max_length=20, choices=enums.WorkPlace.choices)
    work_location = models.CharField(
        _("务工地"), max_length=100, blank=True, help_text=_("如“广东省东莞市”。")
    )
    monthly_income = models.DecimalField(
        _("月收入（元）"), **MONEY, null=True, blank=True, validators=NON_NEGATIVE
    )
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    found_via = models.CharField(
        _("就业渠道"), max_length=20, choices=enums.FoundVia.choices, default=enums.FoundVia.SELF
    )
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = EmploymentRecordQuerySet.as_manager()
    history = HistoricalRecords(
        verbose_name=_("就业台账历史"),
        excluded_fields=["created_at", "updated_at"],
        no_db_index=["person", "employer"],
    )

    class Meta:
        verbose_name = _("就业台账")
        verbose_name_plural = pgettext_lazy("plural", "就业台账")
        ordering = ["-start_date", "-id"]
        permissions = [
            ("import_employmentrecord", _("可以导入就业台账")),
            ("export_employmentrecord", _("可以导出就业台账")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="employment_end_after_start",
                violation_error_message=_("结束日期不能早于开始日期。"),
            ),
            models.CheckConstraint(
                condition=Q(monthly_income__isnull=True) | Q(monthly_income__gte=0),
                name="employment_income_not_negative",
                violation_error_message=_("月收入不能为负数。"),
            ),
        ]
        indexes = [
            # "Employed on a date" looks up a person's records by start date.
            models.Index(fields=["person", "start_date"], name="employment_person_start"),
            # "Job ended in the last 30 days".
            models.Index(fields=["end_date"], name="employment_end_date"),
            # The 就业台账 list's own order (newest first), read backwards: without it a
            # county's first page sorted the whole table (1.8 s at 2 million people).
            models.Index(fields=["start_date", "id"], name="employment_start_order"),
            # The API's "changed since".
            models.Index(fields=["updated_at"], name="employment_updated"),
        ]

    def __str__(self):
        return f"{self.person} · {self.get_kind_display()}"

    @property
    def employer_label(self):
        return self.employer.name if self.employer_id else self.employer_name

    def is_current(self, on_date=None):
        on_date = on_date or timezone.localdate()
        return self.start_date <= on_date and (self.end_date is None or self.end_date >= on_date)

    def clean(self):
        errors = {}
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors["end_date"] = _("结束日期不能早于开始日期。")
        today = timezone.localdate()
        if self.start_date and self.start_date > today + datetime.timedelta(days=366):
            errors["start_date"] = _("开始日期不能晚于一年以后。")
        if self.kind == enums.EmploymentKind.PUBLIC_WELFARE and self.place not in (
            "",
            enums.WorkPlace.IN_COUNTY,
        ):
            errors["place"] = _("公益性岗位应在县内。")
        if (
            self.employer_id
            and self.employer.kind == enums.EmployerKind.PUBLIC_WELFARE
            and self.kind
            and self.kind != enums.EmploymentKind.PUBLIC_WELFARE
        ):
            errors["kind"] = _("公益性岗位开发单位提供的岗位应登记为“公益性岗位”。")
        if errors:
            raise ValidationError(errors)
        overlap = self.overlapping_exclusive()
        if overlap is not None:
            raise ValidationError(
                _(
                    "该人员在%(start)s起已有一份“%(kind)s”就业记录（%(employer)s），"
                    "时间与本记录重叠；请先填写那份工作的结束日期。"
                ),
                code="overlapping_job",
                params={
                    "start": overlap.start_date.isoformat(),
                    "kind": overlap.get_kind_display(),
                    "employer": overlap.employer_label or "—",
                },
            )

    def overlapping_exclusive(self, others=None):
        """Another exclusive job of this person whose period overlaps this one."""
        if self.kind not in enums.EXCLUSIVE_KINDS or not self.person_id or not self.start_date:
            return None
        if others is None:
            others = EmploymentRecord.objects.filter(
                person_id=self.person_id, kind__in=enums.EXCLUSIVE_KINDS
            ).exclude(pk=self.pk)
        far_future = datetime.date.max
        mine_end = self.end_date or far_future
        for other in others:
            if other.kind not in enums.EXCLUSIVE_KINDS or (self.pk and other.pk == self.pk):
                continue
            if other.start_date is None:
                continue
            if other.start_date <= mine_end and self.start_date <= (other.end_date or far_future):
                return other
        return None


class JobPostingQuerySet(CountyScopedQuerySet):
    county_path = "employer__county"


class JobPosting(models.Model):
    """岗位: a post an employer offers, published to the settlements."""

    employer = models.ForeignKey(
        Employer, verbose_name=_("用工主体"), on_delete=models.PROTECT, related_name="postings"
    )
    title = models.CharField(_("岗位名称"), max_length=100)
    openings = models.PositiveIntegerField(_("招聘人数"), default=1)
    place = models.CharField(_("工作地点"), max_length=20, choices=enums.WorkPlace.choices)
    work_location = models.CharField(_("详细地点"), max_length=100, blank=True)
    wage_min = models.DecimalField(
        _("月薪下限（元）"), **MONEY, null=True, blank=True, validators=NON_NEGATIVE
    )
    wage_max = models.DecimalField(
        _("月薪上限（元）"), **MONEY, null=True, blank=True, validators=NON_NEGATIVE
    )
    requirements = models.TextField(_("任职要求"), blank=True)
    posted_on = models.DateField(_("发布日期"), default=timezone.localdate)
    closes_on = models.DateField(_("截止日期"), null=True, blank=True)
    state = models.CharField(
        _("状态"),
        max_length=10,
        choices=enums.PostingState.choices,
        default=enums.PostingState.OPEN,
    )

    objects = JobPostingQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("岗位历史"))

    class Meta:
        verbose_name = _("招聘岗位")
        verbose_name_plural = pgettext_lazy("plural", "招聘岗位")
        ordering = ["-posted_on", "-id"]

    def __str__(self):
        return f"{self.employer} · {self.title}"

    def clean(self):
        errors = {}
        if (
            self.wage_min is not None
            and self.wage_max is not None
            and self.wage_max < self.wage_min
        ):
            errors["wage_max"] = _("月薪上限不能低于下限。")
        if self.closes_on and self.posted_on and self.closes_on < self.posted_on:
            errors["closes_on"] = _("截止日期不能早于发布日期。")
        if errors:
            raise ValidationError(errors)


class Referral(models.Model):
    """岗位推送: a person referred to a posting, and what came of it."""

    person = models.ForeignKey(
        Person, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="referrals"
    )
    posting = models.ForeignKey(
        JobPosting, verbose_name=_("岗位"), on_delete=models.PROTECT, related_name="referrals"
    )
    referred_on = models.DateField(_("推送日期"), default=timezone.localdate)
    outcome = models.CharField(
        _("结果"),
        max_length=12,
        choices=enums.ReferralOutcome.choices,
        default=enums.ReferralOutcome.PENDING,
    )
    employment = models.ForeignKey(
        EmploymentRecord,
        verbose_name=_("形成的就业记录"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    objects = PersonRecordQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("岗位推送历史"))

    class Meta:
        verbose_name = _("岗位推送")
        verbose_name_plural = pgettext_lazy("plural", "岗位推送")
        ordering = ["-referred_on", "-id"]
        indexes = [models.Index(fields=["referred_on"], name="referral_date")]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "posting"],
                name="referral_once_per_posting",
                violation_error_message=_("该人员已推送过这个岗位。"),
            )
        ]

    def __str__(self):
        return f"{self.person} → {self.posting}"

    def clean(self):
        if self.employment_id and self.employment.person_id != self.person_id:
            raise ValidationError({"employment": _("就业记录必须属于被推送的人员。")})
        if self.employment_id and self.outcome != enums.ReferralOutcome.HIRED:
            raise ValidationError({"outcome": _("关联了就业记录时，结果应为“已录用”。")})


class TrainingCourse(models.Model):
    """技能培训: a course a county runs, possibly at one settlement."""

    name = models.CharField(_("培训名称"), max_length=100)
    kind = models.CharField(_("培训类型"), max_length=20, choices=enums.TrainingKind.choices)
    trade = models.CharField(
        _("培训工种"), max_length=50, blank=True, help_text=_("如“家政服务”“电工”。")
    )
    organiser = models.CharField(_("承办机构"), max_length=100, blank=True)
    county = models.ForeignKey(
        Region,
        verbose_name=_("组织县（市、区）"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": 3},
    )
    settlement = models.ForeignKey(
        Settlement,
        verbose_name=_("举办安置点"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="training_courses",
    )
    start_date = models.DateField(_("开班日期"))
    end_date = models.DateField(_("结业日期"))
    hours = models.PositiveSmallIntegerField(_("课时"), null=True, blank=True)

    objects = CountyScopedQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("培训班历史"))

    class Meta:
        verbose_name = _("培训班")
        verbose_name_plural = pgettext_lazy("plural", "培训班")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="training_end_after_start",
                violation_error_message=_("结业日期不能早于开班日期。"),
            )
        ]

    def __str__(self):
        return f"{self.name}（{self.start_date:%Y-%m-%d}）"

    def clean(self):
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("结业日期不能早于开班日期。")
        if self.settlement_id and self.county_id and self.settlement.county_id != self.county_id:
            errors["settlement"] = _("举办安置点不在组织县内。")
        if errors:
            raise ValidationError(errors)


class TrainingAttendance(models.Model):
    """One person on one course: attended, completed, certificate."""

    course = models.ForeignKey(
        TrainingCourse,
        verbose_name=_("培训班"),
        on_delete=models.CASCADE,
        related_name="attendances",
    )
    person = models.ForeignKey(
        Person, verbose_name=_("学员"), on_delete=models.CASCADE, related_name="trainings"
    )
    completed = models.BooleanField(_("已结业"), default=False)
    certificate = models.CharField(
        _("取得证书"), max_length=100, blank=True, help_text=_("如“家政服务员（五级）”。")
    )

    objects = PersonRecordQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("培训记录历史"))

    class Meta:
        verbose_name = _("培训记录")
        verbose_name_plural = pgettext_lazy("plural", "培训记录")
        ordering = ["-course__start_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "person"],
                name="attendance_once_per_course",
                violation_error_message=_("该学员已在这个培训班中。"),
            )
        ]

    def __str__(self):
        return f"{self.person} · {self.course}"

    def clean(self):
        if self.certificate and not self.completed:
            raise ValidationError({"certificate": _("未结业的学员不能登记证书。")})


class MonitoringLine(models.Model):
    """防返贫监测线 of one province for one year (元/人/年), entered by an administrator."""

    province = models.ForeignKey(
        Region,
        verbose_name=_("省份"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": 1},
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    amount = models.DecimalField(_("监测线（元/人/年）"), **MONEY, validators=NON_NEGATIVE)
    source = models.CharField(
        _("依据"), max_length=200, blank=True, help_text=_("文件名称或说明。")
    )

    history = HistoricalRecords(verbose_name=_("监测线历史"))

    class Meta:
        verbose_name = _("防返贫监测线")
        verbose_name_plural = pgettext_lazy("plural", "防返贫监测线")
        ordering = ["province_id", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "year"],
                name="monitoring_line_once_per_year",
                violation_error_message=_("该省份该年度的监测线已登记。"),
            )
        ]

    def __str__(self):
        return f"{self.province.name} {self.year}：{self.amount} 元"

    def clean(self):
        if self.year and not (INCOME_YEAR_MIN <= self.year <= timezone.localdate().year + 1):
            raise ValidationError({"year": _("年度应在2016年至明年之间。")})


def quantize_money(value):
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class HouseholdIncomeQuerySet(IncomeQuerySetMixin, ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "household__settlement"

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.set_derived_fields()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs, fields = list(objs), list(fields)
        for obj in objs:
            obj.set_derived_fields()
        fields += [f for f in ("net_income", "per_capita_net") if f not in fields]
        return super().bulk_update(objs, fields, *args, **kwargs)


class HouseholdIncome(models.Model):
    """收入: a household's income for one year in the four official parts.

    纯收入 = 工资性 + 生产经营性 + 转移性 + 财产性 − 生产经营费用支出; 人均纯收入 is that
    over the household size at the year end.  Both are stored (kept in step on
    every write path) so that areas sum them in one query.
    """

    household = models.ForeignKey(
        Household,
        verbose_name=_("搬迁户"),
        on_delete=models.CASCADE,
        related_name="incomes",
        # Served by the composite index that starts with it (below): no index of its own.
        db_index=False,
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    wage_income = models.DecimalField(_("工资性收入"), **MONEY, default=0, validators=NON_NEGATIVE)
    business_income = models.DecimalField(
        _("生产经营性收入"), **MONEY, default=0, validators=NON_NEGATIVE
    )
    transfer_income = models.DecimalField(
        _("转移性收入"), **MONEY, default=0, validators=NON_NEGATIVE
    )
    property_income = models.DecimalField(
        _("财产性收入"), **MONEY, default=0, validators=NON_NEGATIVE
    )
    costs = models.DecimalField(_("生产经营费用支出"), **MONEY, default=0, validators=NON_NEGATIVE)
    household_size = models.PositiveSmallIntegerField(
        _("年末家庭人口"),
        validators=[MinValueValidator(1, message=_("家庭人口至少为1人。"))],
        help_text=_("不填时取当前家庭成员人数。"),
    )
    net_income = models.DecimalField(_("家庭纯收入"), **MONEY, editable=False)
    per_capita_net = models.DecimalField(_("人均纯收入"), **MONEY, editable=False)
    notes = models.CharField(_("备注"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = HouseholdIncomeQuerySet.as_manager()
    history = HistoricalRecords(
        verbose_name=_("家庭收入历史"), excluded_fields=["updated_at"], no_db_index=["household"]
    )

    PARTS = ("wage_income", "business_income", "transfer_income", "property_income")

    class Meta:
        verbose_name = _("家庭收入")
        verbose_name_plural = pgettext_lazy("plural", "家庭收入")
        ordering = ["household_id", "-year"]
        permissions = [
            ("import_householdincome", _("可以导入家庭收入")),
            ("export_householdincome", _("可以导出家庭收入")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "year"],
                name="income_once_per_household_year",
                violation_error_message=_("该户该年度的收入已登记。"),
            ),
            models.CheckConstraint(
                condition=Q(year__gte=INCOME_YEAR_MIN),
                name="income_year_from_2016",
                violation_error_message=_("收入年度不能早于2016年。"),
            ),
            models.CheckConstraint(
                condition=Q(wage_income__gte=0)
                & Q(business_income__gte=0)
                & Q(transfer_income__gte=0)
                & Q(property_income__gte=0)
                & Q(costs__gte=0),
                name="income_parts_not_negative",
                violation_error_message=_("收入和支出金额不能为负数。"),
            ),
            models.CheckConstraint(
                condition=Q(household_size__gte=1),
                name="income_household_size_positive",
                violation_error_message=_("家庭人口至少为1人。"),
            ),
        ]
        indexes = [
            models.Index(fields=["year", "household"], name="income_year_household"),
            # 低于监测线: the incomes of a year under a line (below_monitoring_line).
            models.Index(fields=["year", "per_capita_net"], name="income_year_per_capita"),
            # The API's "changed since".
            models.Index(fields=["updated_at"], name="income_updated"),
        ]

    def __str__(self):
        return f"{self.household} · {self.year}"

    def save(self, *args, **kwargs):
        self.set_derived_fields()
        super().save(*args, **kwargs)

    @property
    def gross_income(self):
        return sum((getattr(self, p) or Decimal(0)) for p in self.PARTS)

    def set_derived_fields(self):
        if not self.household_size and self.household_id:
            self.household_size = Person.objects.filter(household_id=self.household_id).count()
        self.net_income = quantize_money(self.gross_income - (self.costs or Decimal(0)))
        size = self.household_size or 0
        self.per_capita_net = quantize_money(self.net_income / size) if size else Decimal("0")

    def clean_fields(self, exclude=None):
        exclude = set(exclude or ())
        if not self.household_size and self.household_id:
            self.household_size = (
                Person.objects.filter(household_id=self.household_id).count() or None
            )
        super().clean_fields(exclude=exclude)

    def clean(self):
        this_year = timezone.localdate().year
        if self.year and not (INCOME_YEAR_MIN <= self.year <= this_year):
            raise ValidationError(
                {"year": _("收入年度应在2016年至%(year)d年之间。") % {"year": this_year}}
            )
        self.set_derived_fields()


class InsuranceClaim(models.Model):
    """就业险 claim: a relocated worker's employment insurance and what it paid."""

    person = models.ForeignKey(
        Person, verbose_name=_("参保人"), on_delete=models.CASCADE, related_name="insurance_claims"
    )
    policy_number = models.CharField(_("保单号"), max_length=50, blank=True)
    reason = models.CharField(_("出险原因"), max_length=20, choices=enums.ClaimReason.choices)
    occurred_on = models.DateField(_("出险日期"))
    claimed_on = models.DateField(_("申报日期"))
    amount_claimed = models.DecimalField(_("申报金额（元）"), **MONEY, validators=NON_NEGATIVE)
    amount_paid = models.DecimalField(
        _("赔付金额（元）"), **MONEY, null=True, blank=True, validators=NON_NEGATIVE
    )
    state = models.CharField(
        _("状态"),
        max_length=10,
        choices=enums.ClaimState.choices,
        default=enums.ClaimState.SUBMITTED,
    )
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    objects = PersonRecordQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("就业险理赔历史"))

    class Meta:
        verbose_name = _("就业险理赔")
        verbose_name_plural = pgettext_lazy("plural", "就业险理赔")
        ordering = ["-claimed_on", "-id"]

    def __str__(self):
        return f"{self.person} · {self.get_reason_display()}"

    def clean(self):
        errors = {}
        if self.occurred_on and self.claimed_on and self.claimed_on < self.occurred_on:
            errors["claimed_on"] = _("申报日期不能早于出险日期。")
        if self.state == enums.ClaimState.PAID and self.amount_paid is None:
            errors["amount_paid"] = _("已赔付的理赔请填写赔付金额。")
        if (
            self.amount_paid is not None
            and self.amount_claimed is not None
            and self.amount_paid > self.amount_claimed
        ):
            errors["amount_paid"] = _("赔付金额不能超过申报金额。")
        if errors:
            raise ValidationError(errors)


class BusinessLoan(models.Model):
    """创业担保贷款: entrepreneurship guarantee loan to a self-employed person."""

    person = models.ForeignKey(
        Person, verbose_name=_("借款人"), on_delete=models.CASCADE, related_name="business_loans"
    )
    lender = models.CharField(_("贷款银行"), max_length=100)
    amount = models.DecimalField(
        _("贷款金额（元）"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))]
    )
    granted_on = models.DateField(_("放款日期"))
    due_on = models.DateField(_("到期日期"))
    interest_subsidised = models.BooleanField(_("财政贴息"), default=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=enums.LoanState.choices, default=enums.LoanState.GRANTED
    )

    objects = PersonRecordQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("创业担保贷款历史"))

    class Meta:
        verbose_name = _("创业担保贷款")
        verbose_name_plural = pgettext_lazy("plural", "创业担保贷款")
        ordering = ["-granted_on", "-id"]

    def __str__(self):
        return f"{self.person} · {self.amount} 元"

    def clean(self):
        if self.granted_on and self.due_on and self.due_on <= self.granted_on:
            raise ValidationError({"due_on": _("到期日期应晚于放款日期。")})
