import functools

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import enums
from .crypto import EncryptedCharField, pii_hash
from .history import HistoricalRecords, HistoryRecordingQuerySet
from .history_pii import TokenizedHistoricalRecords
from .ordering import natural
from .read_audit import ReadAuditEntry  # noqa: F401  (a model of this app)
from .scope import ScopedQuerySetMixin, forget_visible_settlements
from .validators import (
    after_today,
    birth_date_from_id,
    normalize_phone,
    normalize_resident_id,
    sex_from_id,
    validate_phone,
    validate_resident_id,
)

RELOCATION_YEAR_MIN = 2016
RELOCATION_YEAR_MAX = 2020


class RegionQuerySet(models.QuerySet):
    def descendants_of(self, region, include_self=True):
        qs = self.filter(code__startswith=region.prefix)
        return qs if include_self else qs.exclude(pk=region.pk)

    def visible_to(self, user):
        """Regions inside the user's scope (their regions and everything below)."""
        from .scope import get_scope

        scope = get_scope(user)
        if scope.unrestricted:
            return self
        q = Q(pk__in=[])
        for prefix in scope.region_prefixes:
            q |= Q(code__startswith=prefix)
        if scope.settlement_ids:
            q |= Q(settlements__in=scope.settlement_ids)
            q |= Q(township_settlements__in=scope.settlement_ids)
        return self.filter(q).distinct()


class Region(models.Model):
    """One node of the administrative division tree, keyed by its real code.

    ``code`` is the GB/T 2260 code (6 digits) for provinces, prefectures and
    counties and the statistics bureau's 9-digit code for townships, so that
    "everything inside" a region is a prefix test (see ``prefix``).
    """

    code = models.CharField(_("区划代码"), max_length=12, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.PositiveSmallIntegerField(_("级别"), choices=enums.RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    division_type = models.CharField(_("类型"), max_length=16, blank=True)
    generated = models.BooleanField(
        _("代码为生成"),
        default=False,
        help_text=_("没有官方代码时在县级代码下生成的乡镇代码。"),
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = pgettext_lazy("plural", "行政区划")
        ordering = ["code"]
        indexes = [
            # Region.objects.filter(code__startswith=...) for subtrees on PostgreSQL.
            models.Index(
                fields=["code"], name="region_code_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    @property
    def prefix(self):
        """The code prefix shared by this region and everything inside it."""
        if self.level == enums.RegionLevel.PROVINCE:
            return self.code[:2]
        if self.level == enums.RegionLevel.PREFECTURE:
            return self.code[:4]
        if self.level == enums.RegionLevel.COUNTY:
            return self.code[:6]
        return self.code

    @property
    def full_name(self):
        names = []
        node = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))


def _then_forget_visible_settlements(method):
    """``method``, after which a request forgets the settlements it listed as in scope
    (``communities.scope.VisibleSettlementsMiddleware``), as after a save."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        finally:
            forget_visible_settlements()

    return wrapper


class SettlementQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = ""

    # An import checked and committed within a request adds and moves settlements so.
    bulk_create = _then_forget_visible_settlements(HistoryRecordingQuerySet.bulk_create)
    bulk_update = _then_forget_visible_settlements(HistoryRecordingQuerySet.bulk_update)
    update = _then_forget_visible_settlements(HistoryRecordingQuerySet.update)
    delete = _then_forget_visible_settlements(HistoryRecordingQuerySet.delete)


class Settlement(models.Model):
    """安置点: a relocation settlement and its planning figures."""

    code = models.CharField(_("安置点编码"), max_length=32, unique=True)
    name = models.CharField(_("安置点名称"), max_length=100)
    county = models.ForeignKey(
        Region,
        verbose_name=_("所在县（市、区）"),
        on_delete=models.PROTECT,
        related_name="settlements",
        limit_choices_to={"level": enums.RegionLevel.COUNTY},
    )
    township = models.ForeignKey(
        Region,
        verbose_name=_("所在乡镇（街道）"),
        on_delete=models.PROTECT,
        related_name="township_settlements",
        null=True,
        blank=True,
        limit_choices_to={"level": enums.RegionLevel.TOWNSHIP},
    )
    community = models.CharField(_("社区居委会"), max_length=100, blank=True)
    kind = models.CharField(
        _("安置方式"),
        max_length=16,
        choices=enums.SettlementKind.choices,
        default=enums.SettlementKind.URBAN,
    )
    year_built = models.PositiveSmallIntegerField(
        _("建成年份"),
        null=True,
        blank=True,
        validators=[MinValueValidator(2000), MaxValueValidator(2030)],
    )
    land_area_mu = models.DecimalField(
        _("占地面积（亩）"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    floor_area_m2 = models.DecimalField(
        _("建筑面积（㎡）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    housing_units = models.PositiveIntegerField(_("安置住房（套）"), null=True, blank=True)
    planned_households = models.PositiveIntegerField(_("计划安置户数"), null=True, blank=True)
    planned_people = models.PositiveIntegerField(_("计划安置人数"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("纬度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(3), MaxValueValidator(54)],
    )
    longitude = models.DecimalField(
        _("经度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(73), MaxValueValidator(136)],
    )

    objects = SettlementQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("安置点历史"))

    class Meta:
        verbose_name = _("安置点")
        verbose_name_plural = pgettext_lazy("plural", "安置点")
        ordering = ["county_id", "code"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.township_id and self.county_id and not self.township_id.startswith(self.county_id):
            raise ValidationError({"township": _("所选乡镇（街道）不属于所在县（市、区）。")})


class SettlementChildQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "settlement"


class Building(models.Model):
    """楼栋 of a settlement, with its building head (楼栋长)."""

    settlement = models.ForeignKey(
        Settlement, verbose_name=_("安置点"), on_delete=models.PROTECT, related_name="buildings"
    )
    name = models.CharField(_("楼栋"), max_length=32, help_text=_("如“3栋”“A区5号楼”"))
    units = models.PositiveSmallIntegerField(_("单元数"), default=1)
    floors = models.PositiveSmallIntegerField(_("层数"), null=True, blank=True)
    housing_units = models.PositiveSmallIntegerField(_("住房套数"), null=True, blank=True)
    head_name = models.CharField(_("楼栋长"), max_length=50, blank=True)
    head_phone = EncryptedCharField(
        _("楼栋长电话"), max_length=20, blank=True, validators=[validate_phone]
    )

    objects = SettlementChildQuerySet.as_manager()
    history = TokenizedHistoricalRecords(
        verbose_name=_("楼栋历史"), pii_fields={"head_phone": "phone"}
    )

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = pgettext_lazy("plural", "楼栋")
        ordering = ["settlement_id", natural("name")]
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "name"],
                name="building_unique_name_per_settlement",
                violation_error_message=_("该安置点已有同名楼栋。"),
            ),
        ]

    def __str__(self):
        return f"{self.settlement.name} {self.name}"


class GridUnit(models.Model):
    """网格: the smallest unit of community governance inside one settlement."""

    settlement = models.ForeignKey(
        Settlement, verbose_name=_("安置点"), on_delete=models.PROTECT, related_name="grid_units"
    )
    name = models.CharField(_("网格名称"), max_length=50)
    buildings = models.ManyToManyField(
        Building, verbose_name=_("包含楼栋"), blank=True, related_name="grid_units"
    )

    objects = SettlementChildQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("网格历史"), m2m_fields=[buildings])

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = pgettext_lazy("plural", "网格")
        ordering = ["settlement_id", natural("name")]
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "name"],
                name="grid_unique_name_per_settlement",
                violation_error_message=_("该安置点已有同名网格。"),
            ),
        ]

    def __str__(self):
        return f"{self.settlement.name} {self.name}"


class GridChildQuerySet(ScopedQuerySetMixin, models.QuerySet):
    scope_path = "grid__settlement"


class GridWorker(models.Model):
    """网格员 of a grid unit; a system user when they log in themselves."""

    grid = models.ForeignKey(
        GridUnit, verbose_name=_("网格"), on_delete=models.CASCADE, related_name="workers"
    )
    name = models.CharField(_("姓名"), max_length=50)
    phone = EncryptedCharField(
        _("联系电话"), max_length=20, blank=True, validators=[validate_phone]
    )
    full_time = models.BooleanField(_("专职"), default=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("系统账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grid_roles",
    )

    objects = GridChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("网格员")
        verbose_name_plural = pgettext_lazy("plural", "网格员")
        ordering = ["grid_id", "name"]

    def __str__(self):
        return self.name


class TenHouseholdGroup(models.Model):
    """十联户: about ten households under a grid, with a lead household."""

    grid = models.ForeignKey(
        GridUnit, verbose_name=_("网格"), on_delete=models.CASCADE, related_name="ten_groups"
    )
    name = models.CharField(_("联户名称"), max_length=50)
    lead_household = models.ForeignKey(
        "Household",
        verbose_name=_("联户长户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = GridChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("十联户")
        verbose_name_plural = pgettext_lazy("plural", "十联户")
        ordering = ["grid_id", natural("name")]

    def __str__(self):
        return f"{self.grid} {self.name}"

    def clean(self):
        if self.lead_household_id and self.grid_id and self.lead_household.grid_id != self.grid_id:
            raise ValidationError({"lead_household": _("联户长户必须属于本网格。")})


# Satellite apps add their rules with ``communities.plugins.add_queryset_methods``.
class HouseholdQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "settlement"


class Household(models.Model):
    """搬迁户: one relocated household and where it lives now."""

    number = models.CharField(_("户编号"), max_length=32, unique=True)
    settlement = models.ForeignKey(
        Settlement,
        verbose_name=_("安置点"),
        on_delete=models.PROTECT,
        related_name="households",
        null=True,
        blank=True,
        # Indexed first in ``household_settlement_order`` (settlement, id), which
        # serves every lookup by settlement; a second index would only cost writes.
        db_index=False,
    )
    building = models.ForeignKey(
        Building,
        verbose_name=_("楼栋"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="households",
    )
    unit = models.PositiveSmallIntegerField(_("单元"), null=True, blank=True)
    room = models.CharField(_("房号"), max_length=16, blank=True)
    grid = models.ForeignKey(
        GridUnit,
        verbose_name=_("网格"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="households",
    )
    ten_group = models.ForeignKey(
        TenHouseholdGroup,
        verbose_name=_("十联户"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="households",
    )
    origin_county = models.ForeignKey(
        Region,
        verbose_name=_("迁出县"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"level": enums.RegionLevel.COUNTY},
        db_index=False,  # indexed in Meta, without the LIKE twin (see there)
    )
    origin_township = models.ForeignKey(
        Region,
        verbose_name=_("迁出乡镇"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"level": enums.RegionLevel.TOWNSHIP},
        db_index=False,  # indexed in Meta, without the LIKE twin (see there)
    )
    origin_village = models.CharField(_("迁出村"), max_length=50, blank=True)
    relocation_year = models.PositiveSmallIntegerField(
        _("搬迁年度"),
        validators=[
            MinValueValidator(RELOCATION_YEAR_MIN),
            MaxValueValidator(RELOCATION_YEAR_MAX),
        ],
    )
    batch = models.CharField(_("搬迁批次"), max_length=20, blank=True)
    category = models.CharField(
        _("搬迁户类别"),
        max_length=20,
        choices=enums.HouseholdCategory.choices,
        default=enums.HouseholdCategory.REGISTERED_POOR,
    )
    moved_in_date = models.DateField(_("入住日期"), null=True, blank=True)
    occupancy_state = models.CharField(
        _("入住状态"),
        max_length=16,
        choices=enums.OccupancyState.choices,
        default=enums.OccupancyState.MOVED_IN,
    )
    hukou_state = models.CharField(
        _("户籍状态"),
        max_length=20,
        choices=enums.HukouState.choices,
        default=enums.HukouState.MOVED_IN,
    )
    housing_area = models.DecimalField(
        _("住房面积（㎡）"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    phone = EncryptedCharField(
        _("联系电话"), max_length=20, blank=True, validators=[validate_phone]
    )
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = HouseholdQuerySet.as_manager()
    history = TokenizedHistoricalRecords(
        verbose_name=_("搬迁户历史"),
        excluded_fields=["created_at", "updated_at"],
        pii_fields={"phone": "phone"},
        # History is read by the record's id, its date and its settlement; an index
        # on the other links would be written for every change and never read.
        no_db_index=["building", "grid", "number", "origin_county", "origin_township", "ten_group"],
    )

    class Meta:
        verbose_name = _("搬迁户")
        verbose_name_plural = pgettext_lazy("plural", "搬迁户")
        ordering = ["-id"]
        permissions = [
            ("import_household", _("可以导入搬迁户")),
            ("export_household", _("可以导出搬迁户")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(relocation_year__gte=RELOCATION_YEAR_MIN)
                & Q(relocation_year__lte=RELOCATION_YEAR_MAX),
                name="household_relocation_year_range",
                violation_error_message=_("搬迁年度应在2016至2020年之间。"),
            ),
        ]
        indexes = [
            # The lists, grouped by settlement and newest first (a backward scan: one
            # settlement or many, PostgreSQL reads them in order and stops when the
            # page is full); the API's pages, settlement by settlement (forward).
            models.Index(fields=["settlement", "id"], name="household_settlement_order"),
            # The API's "changed since" (a synchronisation that finds nothing reads a few
            # index entries instead of the table).
            models.Index(fields=["updated_at"], name="household_updated"),
            # Changelist filter "relocation year" inside a scope.
            models.Index(
                fields=["relocation_year", "settlement"], name="household_year_settlement"
            ),
            # Household search by the start of the household number: the unique
            # column's own index (and on PostgreSQL its ``varchar_pattern_ops``
            # twin, which Django adds to every unique or indexed text column).
            # Households by where they moved from.  Declared here, not as the
            # foreign keys' ``db_index``: Django would add a ``varchar_pattern_ops``
            # twin to each (region codes are text), which no query uses and every
            # new household writes.
            models.Index(fields=["origin_county"], name="household_origin_county"),
            models.Index(fields=["origin_township"], name="household_origin_township"),
        ]

    def __str__(self):
        return self.number

    def clean_fields(self, exclude=None):
        self.phone = normalize_phone(self.phone)
        super().clean_fields(exclude=exclude)

    def clean(self):
        errors = {}
        if self.building_id and self.building.settlement_id != self.settlement_id:
            errors["building"] = _("所选楼栋不属于该安置点。")
        if self.grid_id and self.grid.settlement_id != self.settlement_id:
            errors["grid"] = _("所选网格不属于该安置点。")
        if self.ten_group_id and self.ten_group.grid_id != self.grid_id:
            errors["ten_group"] = _("所选十联户不属于该网格。")
        if (
            self.origin_township_id
            and self.origin_county_id
            and not self.origin_township_id.startswith(self.origin_county_id)
        ):
            errors["origin_township"] = _("迁出乡镇不属于迁出县。")
        if self.moved_in_date and after_today(self.moved_in_date):
            errors["moved_in_date"] = _("入住日期不能晚于今天。")
        if self.occupancy_state == enums.OccupancyState.MOVED_IN and not self.settlement_id:
            errors["settlement"] = _("已入住的搬迁户必须填写安置点。")
        if errors:
            raise ValidationError(errors)


class PersonQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "household__settlement"

    # Birth date and sex follow the ID number on the bulk paths too.
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.set_derived_fields()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs, fields = list(objs), list(fields)
        if "id_number" in fields:
            for obj in objs:
                obj.set_derived_fields()
            fields += [f for f in ("birth_date", "sex", "id_number_hash") if f not in fields]
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs):
        if "id_number" in kwargs:
            value = normalize_resident_id(kwargs["id_number"])
            validate_resident_id(value)
            kwargs.update(
                id_number=value,
                id_number_hash=pii_hash(value),
                birth_date=birth_date_from_id(value),
                sex=sex_from_id(value),
            )
        return super().update(**kwargs)

    update.alters_data = True

    def aged_between(self, low, high, on_date):
        """People aged ``low``..``high`` whole years (inclusive) on ``on_date``."""
        return self.filter(aged_between_q(low, high, on_date))

    def heads_left_alone(self):
        """The 户主 among these people whose households keep members who are not among
        them, each with how many: ``[(head, count)]``, by household number.  Such a
        household would be left without a head if these people left it or were
        deleted (the person page, the delete action, a roster that moves people)."""
        heads = list(
            self.filter(relationship=enums.Relationship.HEAD)
            .select_related("household")
            .order_by("household__number")
        )
        if not heads:
            return []
        staying = dict(
            self.model.objects.filter(household_id__in=[h.household_id for h in heads])
            .exclude(pk__in=self.values("pk"))
            .values_list("household_id")
            .annotate(n=models.Count("pk"))
        )
        return [(h, staying[h.household_id]) for h in heads if staying.get(h.household_id)]


def aged_between_q(low, high, on_date, prefix=""):
    """Q over Person (through ``prefix``): aged ``low``..``high`` whole years (inclusive)
    on ``on_date``; ``high`` None: no upper bound."""
    q = Q(**{f"{prefix}birth_date__lte": shift_years(on_date, -low)})
    if high is not None:
        q &= Q(**{f"{prefix}birth_date__gt": shift_years(on_date, -(high + 1))})
    return q


def covering_q(on_date, prefix=""):
    """Q over a record with a period, ``start_date`` to ``end_date`` (none: still open),
    reached through ``prefix``: the period includes ``on_date`` (both ends inclusive)."""
    return Q(**{f"{prefix}start_date__lte": on_date}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": on_date})
    )


class PeriodQuerySetMixin:
    """Records with a period (``covering_q``): a job, a benefit."""

    def covering(self, on_date):
        """Records whose period includes ``on_date`` (start and end inclusive)."""
        return self.filter(covering_q(on_date))

    def not_covering(self, on_date):
        """The others: ended before ``on_date`` or starting after it.  A condition on the
        row itself: "not among the covering records" (a subquery of the whole table)
        took longer than 15 seconds for a county at 100,000 households."""
        return self.exclude(covering_q(on_date))


def shift_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year + years, day=28)


class Person(models.Model):
    """家庭成员: a member of a relocated household.

    Birth date and sex come from the resident ID number and are never typed.
    The head of the household is the member whose relationship is 户主; the
    database keeps it to at most one per household.
    """

    household = models.ForeignKey(
        Household, verbose_name=_("所属搬迁户"), on_delete=models.CASCADE, related_name="members"
    )
    name = models.CharField(_("姓名"), max_length=50)
    id_number = EncryptedCharField(
        _("身份证号"), max_length=18, validators=[validate_resident_id], hash_field="id_number_hash"
    )
    # HMAC of the ID number (communities.crypto): exact search, uniqueness, import matching.
    # Only ever matched whole: migration 0009 drops the LIKE (varchar_pattern_ops)
    # index PostgreSQL would otherwise keep beside the unique one, and 0013 makes it
    # compare bytes (COLLATE "C"), not language rules: an AlterField of it must keep that.
    id_number_hash = models.CharField(
        _("身份证号检索码"),
        max_length=64,
        unique=True,
        blank=True,
        editable=False,
        error_messages={"unique": _("该身份证号已在系统中登记。")},
    )
    birth_date = models.DateField(_("出生日期"), editable=False)
    sex = models.CharField(_("性别"), max_length=1, choices=enums.Sex.choices, editable=False)
    relationship = models.CharField(
        _("与户主关系"), max_length=20, choices=enums.Relationship.choices
    )
    ethnicity = models.CharField(
        _("民族"), max_length=2, choices=enums.Ethnicity.choices, default=enums.Ethnicity.HAN
    )
    education = models.CharField(
        _("文化程度"), max_length=16, choices=enums.Education.choices, blank=True
    )
    health = models.CharField(
        _("健康状况"), max_length=16, choices=enums.Health.choices, default=enums.Health.HEALTHY
    )
    disability_grade = models.PositiveSmallIntegerField(
        _("残疾等级"), choices=enums.DisabilityGrade.choices, null=True, blank=True
    )
    labour_ability = models.CharField(
        _("劳动技能"),
        max_length=16,
        choices=enums.LabourAbility.choices,
        default=enums.LabourAbility.ORDINARY,
    )
    school_stage = models.CharField(
        _("在校阶段"),
        max_length=20,
        choices=enums.SchoolStage.choices,
        blank=True,
        help_text=_("全日制在校生填写所在阶段；不在校留空。"),
    )
    phone = EncryptedCharField(
        _("联系电话"), max_length=20, blank=True, validators=[validate_phone]
    )
    medical_insurance = models.BooleanField(_("参加医保"), default=True)
    pension_insurance = models.BooleanField(_("参加养老保险"), default=False)
    dibao = models.CharField(
        _("低保"), max_length=8, choices=enums.Dibao.choices, blank=True, default=""
    )
    extreme_poverty_support = models.BooleanField(_("特困供养"), default=False)
    residence_permit = models.BooleanField(_("持新市民居住证"), default=False)
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = PersonQuerySet.as_manager()
    history = TokenizedHistoricalRecords(
        verbose_name=_("家庭成员历史"),
        # The ID number is kept as a token (mask + keyed hash); the search hash is the live row's.
        excluded_fields=["created_at", "updated_at", "id_number_hash"],
        pii_fields={"id_number": "id", "phone": "phone"},
        # Read by the record's id and its date (see the household's history).
        no_db_index=["household"],
    )

    SENSITIVE_FIELDS = ("id_number", "phone")

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = pgettext_lazy("plural", "家庭成员")
        ordering = ["household_id", "id"]
        permissions = [
            ("view_sensitive_personal_data", _("可以查看完整的身份证号和电话")),
            ("import_person", _("可以导入家庭成员")),
            ("export_person", _("可以导出家庭成员")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(relationship=enums.Relationship.HEAD),
                name="person_one_head_per_household",
                violation_error_message=_("每户只能有一名户主。"),
            ),
            models.CheckConstraint(
                condition=Q(disability_grade__isnull=True) | Q(health=enums.Health.DISABLED),
                name="person_disability_grade_only_if_disabled",
                violation_error_message=_("只有健康状况为“残疾”时才能填写残疾等级。"),
            ),
        ]
        indexes = [
            # Labour-force and age-band counts filter on birth date.
            models.Index(fields=["birth_date"], name="person_birth_date"),
            # The API's "changed since".
            models.Index(fields=["updated_at"], name="person_updated"),
            # Search by the start of a name (name__startswith -> LIKE 'x%').
            models.Index(
                fields=["name"], name="person_name_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Derived columns must follow the ID number on every write path.
        self.set_derived_fields()
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None):
        self.id_number = normalize_resident_id(self.id_number)
        self.phone = normalize_phone(self.phone)
        super().clean_fields(exclude=exclude)

    def validate_unique(self, exclude=None):
        # The ID number is unique through its hash column; report it on the ID number.
        exclude = {*(exclude or ()), "id_number_hash"}
        super().validate_unique(exclude=exclude)
        if (
            "id_number" not in exclude
            and Person.objects.filter(id_number=self.id_number).exclude(pk=self.pk).exists()
        ):
            raise ValidationError({"id_number": _("该身份证号已在系统中登记。")})

    def clean(self):
        self.set_derived_fields()
        errors = {}
        if self.disability_grade and self.health != enums.Health.DISABLED:
            errors["disability_grade"] = _("只有健康状况为“残疾”时才能填写残疾等级。")
        if self.health == enums.Health.DISABLED and not self.disability_grade:
            errors["disability_grade"] = _("残疾人员请填写残疾等级。")
        if errors:
            raise ValidationError(errors)

    def set_derived_fields(self):
        """Birth date and sex from the ID number (kept in columns for queries)."""
        self.id_number = normalize_resident_id(self.id_number)
        try:
            validate_resident_id(self.id_number)
        except ValidationError:
            return
        self.birth_date = birth_date_from_id(self.id_number)
        self.sex = sex_from_id(self.id_number)

    def age_on(self, day):
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def is_head(self):
        return self.relationship == enums.Relationship.HEAD


class AreaScope(models.Model):
    """One area a user may work in: a region at any level, or one settlement."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="area_scopes",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("行政区划"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    settlement = models.ForeignKey(
        Settlement,
        verbose_name=_("安置点"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )

    history = HistoricalRecords(verbose_name=_("管辖范围历史"))

    class Meta:
        verbose_name = _("管辖范围")
        verbose_name_plural = pgettext_lazy("plural", "管辖范围")
        constraints = [
            models.CheckConstraint(
                condition=(Q(region__isnull=False) & Q(settlement__isnull=True))
                | (Q(region__isnull=True) & Q(settlement__isnull=False)),
                name="areascope_region_xor_settlement",
                violation_error_message=_("管辖范围须且只能选择一个行政区划或一个安置点。"),
            ),
        ]

    def __str__(self):
        return str(self.region or self.settlement)
