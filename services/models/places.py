"""Services and culture: places and events.

Facilities (服务设施) of a settlement, the service standards (服务标准) that say
which kinds of facility every settlement must have, funded projects (资金项目),
community activities (活动), honours (评选表彰) and collective assets (集体资产).

Every record hangs off a settlement (an honour off a household), so area scope
follows from ``communities.scope``.  The kinds of facility, activity and honour
are data an administrator extends; the kinds the product ships carry a fixed
``code`` that the dashboards break their figures down by (kinds added later
count under "其他").
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.history import HistoricalRecords, HistoryRecordingQuerySet
from communities.models import Household, Person, Region, Settlement
from communities.scope import ScopedQuerySetMixin

__all__ = [
    "ActivityKind",
    "Activity",
    "AssetIncome",
    "AssetKind",
    "CollectiveAsset",
    "Facility",
    "FacilityKind",
    "FacilityState",
    "FundedProject",
    "FundingSource",
    "Honour",
    "HonourKind",
    "ProjectState",
    "ServiceStandard",
    "SettlementCoverage",
    "FACILITY_KINDS",
    "ACTIVITY_KINDS",
    "HONOUR_KINDS",
    "ensure_reference_kinds",
    "in_use_q",
    "settlement_coverage",
]

YEAR_VALIDATORS = [
    MinValueValidator(2000, message=_("年度不能早于2000年。")),
    MaxValueValidator(2100, message=_("年度不能晚于2100年。")),
]
NOT_NEGATIVE_AMOUNT = MinValueValidator(Decimal("0"), message=_("金额不能为负数。"))
NOT_NEGATIVE_COUNT = MinValueValidator(0, message=_("不能为负数。"))
# Ceilings for the amounts of a collective asset (万元): more is an amount typed in 元.
ASSET_VALUE_MAX = MaxValueValidator(
    Decimal("100000"), message=_("资产价值不能超过10亿元，请核对金额（单位：万元）。")
)
ASSET_INCOME_MAX = MaxValueValidator(
    Decimal("10000"), message=_("年收益不能超过1亿元，请核对金额（单位：万元）。")
)

# The kinds the product ships (code, Chinese name).  Administrators add more;
# the dashboards break figures down by these codes.
FACILITY_KINDS = (
    ("party_centre", _("党群服务中心")),
    ("employment_centre", _("就业创业服务中心/站")),
    ("governance_centre", _("综治中心")),
    ("police_room", _("警务室")),
    ("fire_station", _("微型消防站")),
    ("clinic", _("卫生室/医疗机构")),
    ("kindergarten", _("幼儿园")),
    ("primary_school", _("小学")),
    ("middle_school", _("初中")),
    ("library", _("图书室/农家书屋")),
    ("children_centre", _("儿童活动中心")),
    ("day_care", _("日间照料中心")),
    ("store", _("综合便利超市")),
    ("service_hall", _("综合服务大厅")),
    ("civilisation_station", _("新时代文明实践站")),
    ("canteen", _("爱心食堂")),
)
ACTIVITY_KINDS = (
    ("gratitude", _("感恩教育")),
    ("law", _("普法教育")),
    ("citizenship", _("市民意识培训")),
    ("skills_meeting", _("技能培训会")),
    ("safety_training", _("安全培训")),
    ("fire_drill", _("消防演练")),
    ("culture", _("文化文艺")),
    ("care", _("关爱活动")),
    ("volunteer", _("志愿服务")),
)
HONOUR_KINDS = (
    ("civilised_family", _("文明家庭")),
    ("best_family", _("最美家庭")),
    ("model_household", _("勤劳致富模范户")),
    ("good_person", _("身边好人")),
)


def not_after_today(obj, field, message):
    """{field: message} when ``obj``'s date ``field`` lies after today, else {}."""
    day = getattr(obj, field)
    return {field: message} if day and day > timezone.localdate() else {}


class KindBase(models.Model):
    code = models.SlugField(
        _("代码"),
        max_length=40,
        unique=True,
        help_text=_("英文字母、数字、下划线；系统内置种类的代码请勿修改。"),
    )
    name = models.CharField(_("名称"), max_length=50, unique=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        abstract = True
        ordering = ["order", "pk"]

    def __str__(self):
        return self.name


class FacilityKind(KindBase):
    history = HistoricalRecords(verbose_name=_("设施种类历史"))
    objects = HistoryRecordingQuerySet.as_manager()

    class Meta(KindBase.Meta):
        verbose_name = _("设施种类")
        verbose_name_plural = pgettext_lazy("plural", "设施种类")


class ActivityKind(KindBase):
    history = HistoricalRecords(verbose_name=_("活动种类历史"))
    objects = HistoryRecordingQuerySet.as_manager()

    class Meta(KindBase.Meta):
        verbose_name = _("活动种类")
        verbose_name_plural = pgettext_lazy("plural", "活动种类")


class HonourKind(KindBase):
    history = HistoricalRecords(verbose_name=_("表彰种类历史"))
    objects = HistoryRecordingQuerySet.as_manager()

    class Meta(KindBase.Meta):
        verbose_name = _("表彰种类")
        verbose_name_plural = pgettext_lazy("plural", "表彰种类")


def ensure_reference_kinds(facility_kind=None, activity_kind=None, honour_kind=None):
    """Create the shipped kinds that are missing (the migration and the demo call it)."""
    from django.utils import translation

    pairs = (
        (facility_kind or FacilityKind, FACILITY_KINDS),
        (activity_kind or ActivityKind, ACTIVITY_KINDS),
        (honour_kind or HonourKind, HONOUR_KINDS),
    )
    with translation.override("zh-hans"):
        for model, kinds in pairs:
            known = set(model.objects.values_list("code", flat=True))
            model.objects.bulk_create(
                [
                    model(code=code, name=str(name), order=(index + 1) * 10)
                    for index, (code, name) in enumerate(kinds)
                    if code not in known
                ]
            )


class SettlementRecordQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "settlement"


class HouseholdRecordQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "household__settlement"


class AssetIncomeQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "asset__settlement"


class FacilityState(models.TextChoices):
    IN_USE = "in_use", _("在用")
    BUILDING = "building", _("在建")
    CLOSED = "closed", _("停用")


class Facility(models.Model):
    """服务设施 of a settlement, possibly serving other settlements of the same county."""

    settlement = models.ForeignKey(
        Settlement,
        verbose_name=_("所在安置点"),
        on_delete=models.CASCADE,
        related_name="facilities",
    )
    also_serves = models.ManyToManyField(
        Settlement,
        verbose_name=_("同时服务的安置点"),
        blank=True,
        related_name="served_by_facilities",
        help_text=_("与所在安置点同一县（市、区）的其他安置点。"),
    )
    kind = models.ForeignKey(
        FacilityKind, verbose_name=_("设施种类"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("设施名称"), max_length=100)
    capacity = models.PositiveIntegerField(
        _("容量（座位/床位/学位）"), null=True, blank=True, validators=[NOT_NEGATIVE_COUNT]
    )
    teachers = models.PositiveIntegerField(_("教师数"), default=0, validators=[NOT_NEGATIVE_COUNT])
    medical_staff = models.PositiveIntegerField(
        _("医务人员数"), default=0, validators=[NOT_NEGATIVE_COUNT]
    )
    opened_on = models.DateField(_("启用日期"), null=True, blank=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=FacilityState.choices, default=FacilityState.IN_USE
    )
    notes = models.TextField(_("备注"), blank=True)

    objects = SettlementRecordQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("服务设施历史"), m2m_fields=[also_serves])

    EDIT_FIELDS = (
        "settlement",
        "kind",
        "name",
        "also_serves",
        "capacity",
        "teachers",
        "medical_staff",
        "opened_on",
        "state",
        "notes",
    )

    class Meta:
        verbose_name = _("服务设施")
        verbose_name_plural = pgettext_lazy("plural", "服务设施")
        ordering = ["settlement_id", "kind__order", "name"]
        permissions = [
            ("import_facility", _("可以导入服务设施")),
            ("export_facility", _("可以导出服务设施")),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        future = self.opened_on and self.opened_on > timezone.localdate()
        if future and self.state == FacilityState.IN_USE:
            raise ValidationError({"opened_on": _("启用日期在今天之后的设施，状态应为“在建”。")})

    @staticmethod
    def other_county_settlements(settlement, served):
        """The settlements of ``served`` outside ``settlement``'s county."""
        return [s for s in served if s.county_id != settlement.county_id]


def served_error(settlement, served):
    """The Chinese message refusing served settlements of another county, or None."""
    others = Facility.other_county_settlements(settlement, served)
    if not others:
        return None
    return _("“%(names)s”不在所在安置点的县（市、区），设施不能跨县服务。") % {
        "names": "、".join(s.name for s in others)
    }


class ServiceStandard(models.Model):
    """服务标准: the facility kinds every settlement of a province or prefecture must have."""

    name = models.CharField(_("标准名称"), max_length=100)
    region = models.ForeignKey(
        Region,
        verbose_name=_("适用地区（省或市州）"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level__in": (1, 2)},
    )
    year = models.PositiveSmallIntegerField(
        _("起始年度"),
        validators=YEAR_VALIDATORS,
        help_text=_("从该年起适用，直到同一地区有更晚的标准。"),
    )
    kinds = models.ManyToManyField(
        FacilityKind, verbose_name=_("须具备的设施种类"), related_name="+"
    )
    notes = models.TextField(_("说明"), blank=True)

    objects = HistoryRecordingQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("服务标准历史"), m2m_fields=[kinds])

    class Meta:
        verbose_name = _("服务标准")
        verbose_name_plural = pgettext_lazy("plural", "服务标准")
        ordering = ["region_id", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year"],
                name="service_standard_region_year",
                violation_error_message=_("该地区该年度已有服务标准。"),
            )
        ]

    def __str__(self):
        return f"{self.name}（{self.year}）"

    def clean(self):
        if self.region_id and self.region.level not in (1, 2):
            raise ValidationError({"region": _("适用地区须是省或市（州）。")})


class SettlementCoverage(Settlement):
    """The settlements seen through the service standard: the work list 缺少达标设施的安置点."""

    class Meta:
        proxy = True
        verbose_name = _("安置点设施达标情况")
        verbose_name_plural = pgettext_lazy("plural", "安置点设施达标情况")
        default_permissions = ("view",)


class FundingSource(models.TextChoices):
    CENTRAL = "central", _("中央衔接资金")
    EAST_WEST = "east_west", _("东西部协作")
    PROVINCIAL = "provincial", _("省级")
    LOCAL = "local", _("市县级")
    SOCIAL = "social", _("社会帮扶")


class ProjectState(models.TextChoices):
    PLANNED = "planned", _("计划")
    UNDERWAY = "underway", _("实施中")
    DONE = "done", _("已完工")


class FundedProject(models.Model):
    """资金项目: money put into a settlement, counted on the date it was allocated."""

    settlement = models.ForeignKey(
        Settlement,
        verbose_name=_("安置点"),
        on_delete=models.CASCADE,
        related_name="funded_projects",
    )
    purpose = models.CharField(_("项目名称/用途"), max_length=200)
    amount = models.DecimalField(
        _("金额（万元）"), max_digits=12, decimal_places=2, validators=[NOT_NEGATIVE_AMOUNT]
    )
    source = models.CharField(_("资金来源"), max_length=20, choices=FundingSource.choices)
    year = models.PositiveSmallIntegerField(_("资金年度"), validators=YEAR_VALIDATORS)
    allocated_on = models.DateField(
        _("下达日期"), help_text=_("资金下达的日期；看板按此日期计入统计期。")
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=ProjectState.choices, default=ProjectState.PLANNED
    )
    notes = models.TextField(_("备注"), blank=True)

    objects = SettlementRecordQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("资金项目历史"))

    EDIT_FIELDS = (
        "settlement",
        "purpose",
        "amount",
        "source",
        "year",
        "allocated_on",
        "state",
        "notes",
    )

    class Meta:
        verbose_name = _("资金项目")
        verbose_name_plural = pgettext_lazy("plural", "资金项目")
        ordering = ["-allocated_on", "pk"]
        permissions = [
            ("import_fundedproject", _("可以导入资金项目")),
            ("export_fundedproject", _("可以导出资金项目")),
        ]

    def __str__(self):
        return self.purpose

    def clean(self):
        errors = not_after_today(self, "allocated_on", _("下达日期不能晚于今天。"))
        if errors:
            raise ValidationError(errors)


class Activity(models.Model):
    """活动: a community activity held on a day, with its participants (人次)."""

    settlement = models.ForeignKey(
        Settlement, verbose_name=_("安置点"), on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.ForeignKey(
        ActivityKind, verbose_name=_("活动种类"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("活动名称"), max_length=200)
    held_on = models.DateField(_("活动日期"))
    organiser = models.CharField(_("组织单位"), max_length=100, blank=True)
    participants = models.PositiveIntegerField(_("参与人次"), validators=[NOT_NEGATIVE_COUNT])
    households = models.ManyToManyField(
        Household, verbose_name=_("参与户"), blank=True, related_name="activities"
    )
    people = models.ManyToManyField(
        Person, verbose_name=_("参与人员"), blank=True, related_name="activities"
    )
    notes = models.TextField(_("备注"), blank=True)

    objects = SettlementRecordQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("活动历史"), m2m_fields=[households, people])

    EDIT_FIELDS = ("settlement", "kind", "title", "held_on", "organiser", "participants", "notes")

    class Meta:
        verbose_name = _("社区活动")
        verbose_name_plural = pgettext_lazy("plural", "社区活动")
        ordering = ["-held_on", "pk"]
        permissions = [
            ("import_activity", _("可以导入社区活动")),
            ("export_activity", _("可以导出社区活动")),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        errors = not_after_today(self, "held_on", _("活动日期不能晚于今天：请在活动举办后登记。"))
        if errors:
            raise ValidationError(errors)


class Honour(models.Model):
    """评选表彰: an honour given to a household, or to one of its members."""

    household = models.ForeignKey(
        Household, verbose_name=_("搬迁户"), on_delete=models.CASCADE, related_name="honours"
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("获表彰人员"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="honours",
        help_text=_("表彰个人（如身边好人）时填写，须是该户成员；表彰家庭时留空。"),
    )
    kind = models.ForeignKey(
        HonourKind, verbose_name=_("表彰种类"), on_delete=models.PROTECT, related_name="+"
    )
    awarded_on = models.DateField(_("表彰日期"))
    awarded_by = models.CharField(_("表彰单位"), max_length=100, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    objects = HouseholdRecordQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("评选表彰历史"))

    class Meta:
        verbose_name = _("评选表彰")
        verbose_name_plural = pgettext_lazy("plural", "评选表彰")
        ordering = ["-awarded_on", "pk"]
        permissions = [
            ("import_honour", _("可以导入评选表彰")),
            ("export_honour", _("可以导出评选表彰")),
        ]

    def __str__(self):
        return f"{self.kind}（{self.awarded_on.year}）" if self.kind_id and self.awarded_on else ""

    def clean(self):
        errors = not_after_today(self, "awarded_on", _("表彰日期不能晚于今天。"))
        if self.person_id and self.household_id and self.person.household_id != self.household_id:
            errors["person"] = _("获表彰人员不是该户成员。")
        if self.kind_id and self.household_id and self.awarded_on and not errors:
            same = Honour.objects.filter(
                kind_id=self.kind_id,
                household_id=self.household_id,
                person_id=self.person_id,
                awarded_on__year=self.awarded_on.year,
            ).exclude(pk=self.pk)
            if same.exists():
                errors["kind"] = _("该户（人）本年度已登记过此项表彰。")
        if errors:
            raise ValidationError(errors)


class AssetKind(models.TextChoices):
    SHOP = "shop", _("商铺门面")
    WORKSHOP = "workshop", _("厂房/车间")
    GREENHOUSE = "greenhouse", _("大棚/基地")
    PARKING = "parking", _("停车场")
    OTHER = "other", _("其他")


class CollectiveAsset(models.Model):
    """集体资产 of a settlement's community: shops, workshops, greenhouses …"""

    settlement = models.ForeignKey(
        Settlement,
        verbose_name=_("安置点"),
        on_delete=models.CASCADE,
        related_name="collective_assets",
    )
    name = models.CharField(_("资产名称"), max_length=100)
    kind = models.CharField(_("资产类型"), max_length=20, choices=AssetKind.choices)
    area_m2 = models.DecimalField(
        _("面积（平方米）"),
        max_digits=10,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"), message=_("面积不能为负数。"))],
    )
    value = models.DecimalField(
        _("资产价值（万元）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[NOT_NEGATIVE_AMOUNT, ASSET_VALUE_MAX],
    )
    acquired_on = models.DateField(_("形成日期"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    objects = SettlementRecordQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("集体资产历史"))

    class Meta:
        verbose_name = _("集体资产")
        verbose_name_plural = pgettext_lazy("plural", "集体资产")
        ordering = ["settlement_id", "name"]
        permissions = [
            ("import_collectiveasset", _("可以导入集体资产")),
            ("export_collectiveasset", _("可以导出集体资产")),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = not_after_today(self, "acquired_on", _("形成日期不能晚于今天。"))
        if errors:
            raise ValidationError(errors)


class AssetIncome(models.Model):
    """One year's income of a collective asset and how it was shared."""

    asset = models.ForeignKey(
        CollectiveAsset,
        verbose_name=_("集体资产"),
        on_delete=models.CASCADE,
        related_name="incomes",
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    income = models.DecimalField(
        _("收益（万元）"),
        max_digits=12,
        decimal_places=2,
        validators=[NOT_NEGATIVE_AMOUNT, ASSET_INCOME_MAX],
    )
    distributed = models.DecimalField(
        _("其中分配给搬迁户（万元）"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[NOT_NEGATIVE_AMOUNT, ASSET_INCOME_MAX],
    )
    sharing = models.CharField(
        _("分配方式"),
        max_length=200,
        blank=True,
        help_text=_("如：按户均分、公益岗位工资、社区公共开支。"),
    )

    objects = AssetIncomeQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("集体资产收益历史"))

    class Meta:
        verbose_name = _("集体资产收益")
        verbose_name_plural = pgettext_lazy("plural", "集体资产收益")
        ordering = ["asset_id", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "year"],
                name="asset_income_asset_year",
                violation_error_message=_("该资产该年度的收益已登记。"),
            )
        ]

    def __str__(self):
        return f"{self.year}"

    def clean(self):
        errors = {}
        if self.year and self.year > timezone.localdate().year:
            errors["year"] = _("年度不能晚于今年。")
        if (
            self.income is not None
            and self.distributed is not None
            and self.distributed > self.income
        ):
            errors["distributed"] = _("分配给搬迁户的金额不能大于当年收益。")
        if errors:
            raise ValidationError(errors)


def in_use_q(on_date, prefix=""):
    """Q over a Facility (through ``prefix``): in use on ``on_date``.

    A facility counts when its state is 在用 and it opened on or before the date
    (or its opening date is not known).  The state is the current one: a
    facility closed later stops counting in past periods too.
    """
    return models.Q(**{f"{prefix}state": FacilityState.IN_USE}) & (
        models.Q(**{f"{prefix}opened_on__isnull": True})
        | models.Q(**{f"{prefix}opened_on__lte": on_date})
    )


def applicable_standards(on_date):
    """{region code: (standard, required kind ids)}: per region, the latest standard
    of a year on or before ``on_date``'s year (two queries)."""
    chosen = {}
    for standard in ServiceStandard.objects.filter(year__lte=on_date.year).order_by("year"):
        chosen[standard.region_id] = standard
    through = ServiceStandard.kinds.through.objects.filter(
        servicestandard_id__in=[s.pk for s in chosen.values()]
    )
    required = {}
    for standard_id, kind_id in through.values_list("servicestandard_id", "facilitykind_id"):
        required.setdefault(standard_id, set()).add(kind_id)
    return {code: (s, required.get(s.pk, set())) for code, s in chosen.items()}


def standard_for(county_code, standards):
    """The standard of a county's prefecture, else of its province, or None."""
    for code in (county_code[:4] + "00", county_code[:2] + "0000"):
        if code in standards:
            return standards[code]
    return None


def settlement_coverage(settlement_ids, on_date, counties=None):
    """{settlement id: (standard, required kind ids, present kind ids)} on ``on_date``.

    Only settlements under a standard appear.  A settlement has a kind when a
    facility of that kind in use on the date stands in it or also serves it.
    A few queries whatever the number of settlements; ``counties`` ({settlement
    id: county code}, when the caller has it) saves one.
    """
    settlement_ids = list(settlement_ids)
    standards = applicable_standards(on_date)
    if not standards or not settlement_ids:
        return {}
    if counties is None:
        counties = dict(
            Settlement.objects.filter(pk__in=settlement_ids).values_list("pk", "county_id")
        )
    present = {}
    own = (
        Facility.objects.filter(in_use_q(on_date), settlement_id__in=settlement_ids)
        .values_list("settlement_id", "kind_id")
        .distinct()
        .order_by()
    )
    served = (
        Facility.also_serves.through.objects.filter(
            in_use_q(on_date, "facility__"), settlement_id__in=settlement_ids
        )
        .values_list("settlement_id", "facility__kind_id")
        .distinct()
        .order_by()
    )
    for settlement_id, kind_id in [*own, *served]:
        present.setdefault(settlement_id, set()).add(kind_id)
    result = {}
    for settlement_id, county in counties.items():
        found = standard_for(county, standards)
        if found is not None:
            standard, required = found
            result[settlement_id] = (standard, required, present.get(settlement_id, set()))
    return result
