"""Services and culture: protection (models).

Social protection (社会保障) and the rights a household keeps after moving (权益保障).

**Benefit records and the person's own fields.**  A person carries the current
state of five benefits as fields (``communities.models.Person``: 参加医保,
参加养老保险, 低保 城市/农村, 特困供养; 居住证 is not a benefit and has no records).
A ``BenefitRecord`` is the dated history of one benefit of one person: it
starts on ``start_date`` and, once stopped, ends on ``end_date`` (both days
inclusive).  The rule, per person and per *field* (``BENEFIT_FIELDS``):

* a person with at least one record of a benefit that maps to a field (the two
  低保 kinds share the 低保 field) is counted **from the records** on any date:
  covered when one of them covers that date;
* a person without any such record is counted **from the field**, the same on
  every date (what was registered before records were kept);
* saving or deleting a record, in a form or through an import, puts the
  person's field in step with the records on today (``sync_person_fields``), so
  the person page shows the current state.

The two 残疾人两项补贴 have no field on the person: they count from records only.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Abs, Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.enums import Health, RegionLevel
from communities.history import HistoricalRecords, HistoryRecordingQuerySet
from communities.masking import may_view_sensitive
from communities.models import (
    Household,
    PeriodQuerySetMixin,
    Person,
    Region,
    Settlement,
    aged_between_q,
)
from communities.scope import ScopedQuerySetMixin, get_scope

__all__ = [
    "BENEFIT_FIELDS",
    "HEALTH_KINDS",
    "BenefitKind",
    "BenefitRecord",
    "HouseholdRight",
    "RightSide",
    "RightState",
    "RightsCategory",
    "RightsItem",
    "TemporaryAssistance",
    "sync_person_fields",
]


class BenefitKind(models.TextChoices):
    MEDICAL = "medical", _("基本医疗保险")
    PENSION = "pension", _("基本养老保险")
    DIBAO_URBAN = "dibao_urban", _("城市低保")
    DIBAO_RURAL = "dibao_rural", _("农村低保")
    EXTREME_POVERTY = "extreme_poverty", _("特困供养")
    DISABILITY_LIVING = "disability_living", _("困难残疾人生活补贴")
    DISABILITY_CARE = "disability_care", _("重度残疾人护理补贴")


#: Person field -> (kinds whose records decide it, the field's value for each kind, value for none)
BENEFIT_FIELDS = {
    "medical_insurance": ({BenefitKind.MEDICAL: True}, False),
    "pension_insurance": ({BenefitKind.PENSION: True}, False),
    "dibao": ({BenefitKind.DIBAO_URBAN: "urban", BenefitKind.DIBAO_RURAL: "rural"}, ""),
    "extreme_poverty_support": ({BenefitKind.EXTREME_POVERTY: True}, False),
}
#: Kinds that reveal a disability: special-category data, shown only to users who may see health.
HEALTH_KINDS = (BenefitKind.DISABILITY_LIVING, BenefitKind.DISABILITY_CARE)

MONEY = {"max_digits": 12, "decimal_places": 2}
#: The largest single temporary-assistance payment (元): more is a slip of the keyboard or of the unit.
ASSISTANCE_MAX = Decimal("100000")


class RightSide(models.TextChoices):
    ORIGIN = "origin", _("迁出地")
    DESTINATION = "destination", _("迁入地")


class RightState(models.TextChoices):
    SECURED = "secured", _("已落实")
    PENDING = "pending", _("待落实")
    NOT_APPLICABLE = "not_applicable", _("不适用")


class PersonRecordQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "person__household__settlement"


class BenefitRecordQuerySet(PeriodQuerySetMixin, PersonRecordQuerySet):
    def readable_by(self, user):
        """In ``user``'s area; the disability subsidies only for users who may see health."""
        qs = self.visible_to(user)
        return qs if may_view_sensitive(user) else qs.exclude(kind__in=HEALTH_KINDS)


class BenefitRecord(models.Model):
    """待遇记录: one benefit of one person from the day it starts to the day it stops."""

    person = models.ForeignKey(
        Person,
        verbose_name=_("人员"),
        on_delete=models.CASCADE,
        related_name="benefits",
        # Served by the composite index that starts with it (below): no index of its own.
        db_index=False,
    )
    kind = models.CharField(_("待遇类型"), max_length=20, choices=BenefitKind.choices)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(
        _("停止日期"), null=True, blank=True, help_text=_("仍在享受时留空；停止当天仍计入。")
    )
    monthly_amount = models.DecimalField(
        _("月发放金额（元）"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"), message=_("金额不能为负数。"))],
        help_text=_("低保、特困供养和两项补贴填写；保险留空。"),
    )
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    objects = BenefitRecordQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("待遇记录历史"), no_db_index=["person"])

    class Meta:
        verbose_name = _("待遇记录")
        verbose_name_plural = pgettext_lazy("plural", "待遇记录")
        ordering = ["person_id", "kind", "-start_date"]
        permissions = [
            ("import_benefitrecord", _("可以导入待遇记录")),
            ("export_benefitrecord", _("可以导出待遇记录")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="benefit_end_after_start",
                violation_error_message=_("停止日期不能早于开始日期。"),
            ),
            models.CheckConstraint(
                condition=Q(monthly_amount__isnull=True) | Q(monthly_amount__gte=0),
                name="benefit_amount_not_negative",
                violation_error_message=_("金额不能为负数。"),
            ),
        ]
        indexes = [models.Index(fields=["person", "kind", "start_date"], name="benefit_person")]

    def __str__(self):
        return f"{self.person} {self.get_kind_display()} {self.start_date}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        sync_person_fields([self.person_id])

    def delete(self, *args, **kwargs):
        person_id = self.person_id
        result = super().delete(*args, **kwargs)
        sync_person_fields([person_id])
        return result

    def health_reads(self):
        """What it tells when shown, for the read audit (``communities.audit``): a disability
        subsidy (``HEALTH_KINDS``) tells the person's disability, which is health data."""
        return [(self.person, ("health",))] if self.kind in HEALTH_KINDS else []

    def clean(self):
        errors = {}
        today = timezone.localdate()
        if self.start_date and self.start_date > today + datetime.timedelta(days=366):
            errors["start_date"] = _("开始日期不能晚于一年以后。")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("停止日期不能早于开始日期。")
        elif self.person_id and self.kind and self.start_date and self.overlapping():
            errors["start_date"] = _(
                "该人员同一待遇已有与此时段重叠的记录，请先填写原记录的停止日期。"
            )
        if errors:
            raise ValidationError(errors)

    def overlapping(self, others=None):
        """Records of the same person and kind whose period meets this one's."""
        end = self.end_date or datetime.date.max
        if others is not None:
            return [
                o
                for o in others
                if o.kind == self.kind
                and o.start_date <= end
                and (o.end_date is None or o.end_date >= self.start_date)
            ]
        qs = BenefitRecord.objects.filter(
            person_id=self.person_id, kind=self.kind, start_date__lte=end
        ).filter(Q(end_date__isnull=True) | Q(end_date__gte=self.start_date))
        return qs.exclude(pk=self.pk) if self.pk else qs


def sync_person_fields(person_ids, on_date=None):
    """Put the benefit fields of these people in step with their records on ``on_date`` (today).

    Only fields of which a person has records are touched; people without any
    record keep what was registered.  Writes go through ``update`` (recorded in
    the person's history), one per changed person.
    """
    on_date = on_date or timezone.localdate()
    ids = sorted({pk for pk in person_ids if pk})
    if not ids:
        return 0
    records = {}
    for record in BenefitRecord.objects.filter(person_id__in=ids).exclude(kind__in=HEALTH_KINDS):
        records.setdefault(record.person_id, []).append(record)
    changed = 0
    for person in Person.objects.filter(pk__in=records):
        values = {}
        for field, (kinds, none_value) in BENEFIT_FIELDS.items():
            own = [r for r in records[person.pk] if r.kind in kinds]
            if not own:
                continue
            current = [
                r for r in own if r.start_date <= on_date and (r.end_date or on_date) >= on_date
            ]
            value = kinds[current[0].kind] if current else none_value
            if getattr(person, field) != value:
                values[field] = value
        if values:
            Person.objects.filter(pk=person.pk).update(**values)
            changed += 1
    return changed


class TemporaryAssistance(models.Model):
    """临时救助: a one-off payment to a person in hardship."""

    person = models.ForeignKey(
        Person, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="temporary_aid"
    )
    granted_on = models.DateField(_("救助日期"))
    amount = models.DecimalField(
        _("救助金额（元）"),
        **MONEY,
        validators=[
            MinValueValidator(Decimal("0.01"), message=_("救助金额必须大于0。")),
            MaxValueValidator(
                ASSISTANCE_MAX, message=_("单笔临时救助不能超过10万元，请核对金额（单位：元）。")
            ),
        ],
    )
    reason = models.CharField(_("救助事由"), max_length=200, blank=True)

    objects = PersonRecordQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("临时救助历史"))

    class Meta:
        verbose_name = _("临时救助")
        verbose_name_plural = pgettext_lazy("plural", "临时救助")
        ordering = ["-granted_on", "-id"]
        permissions = [
            ("import_temporaryassistance", _("可以导入临时救助")),
            ("export_temporaryassistance", _("可以导出临时救助")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="temporary_assistance_amount_positive",
                violation_error_message=_("救助金额必须大于0。"),
            ),
        ]
        indexes = [models.Index(fields=["granted_on"], name="temp_assistance_date")]

    def __str__(self):
        return f"{self.person} {self.granted_on} {self.amount}"

    def clean(self):
        if self.granted_on and self.granted_on > timezone.localdate():
            raise ValidationError({"granted_on": _("救助日期不能晚于今天。")})
        if self.person_id and self.granted_on and self.amount is not None and self.same_payment():
            raise ValidationError(
                {"amount": _("该人员在同一天已登记过同样金额的临时救助，请勿重复登记。")}
            )

    def same_payment(self):
        """Another payment to the same person on the same day of the same amount (a double entry).

        The import matches rows by exactly these three (and checks the file
        itself for repeats), so it replaces this query by its own answer.
        """
        qs = TemporaryAssistance.objects.filter(
            person_id=self.person_id, granted_on=self.granted_on, amount=self.amount
        )
        return (qs.exclude(pk=self.pk) if self.pk else qs).exists()


class RightsCategory(models.Model):
    """权益类别 of one province's checklist, on the origin side or the destination side."""

    province = models.ForeignKey(
        Region,
        verbose_name=_("省份"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": RegionLevel.PROVINCE},
    )
    name = models.CharField(_("类别名称"), max_length=50)
    side = models.CharField(_("权益所在地"), max_length=12, choices=RightSide.choices)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    objects = HistoryRecordingQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("权益类别历史"))

    class Meta:
        verbose_name = _("权益类别")
        verbose_name_plural = pgettext_lazy("plural", "权益类别")
        ordering = ["province_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "name"],
                name="rights_category_name_unique",
                violation_error_message=_("该省份已有同名权益类别。"),
            )
        ]

    def __str__(self):
        return f"{self.name}（{self.get_side_display()}）"


class RightsItemQuerySet(HistoryRecordingQuerySet):
    def active(self):
        return self.filter(active=True)

    def active_per_province(self):
        """{province code: number of active items of its checklist} (a handful of rows)."""
        return dict(
            self.active()
            .values("category__province_id")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("category__province_id", "n")
        )


class RightsItem(models.Model):
    """权益事项: one right of a province's checklist (承包地, 户籍, 医保转移接续 …)."""

    category = models.ForeignKey(
        RightsCategory, verbose_name=_("权益类别"), on_delete=models.PROTECT, related_name="items"
    )
    name = models.CharField(_("权益事项"), max_length=50)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(
        _("在用"), default=True, help_text=_("停用的事项不再计入覆盖率，已有记录保留。")
    )

    objects = RightsItemQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("权益事项历史"))

    class Meta:
        verbose_name = _("权益事项")
        verbose_name_plural = pgettext_lazy("plural", "权益事项")
        ordering = ["category__province_id", "category__order", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "name"],
                name="rights_item_name_unique",
                violation_error_message=_("该类别已有同名权益事项。"),
            )
        ]

    def __str__(self):
        return f"{self.category.name}·{self.name}"

    @property
    def province_id(self):
        return self.category.province_id


def household_province(household):
    """Code of the province a household's checklist comes from (its settlement's), or None."""
    settlement = household.settlement if household.settlement_id else None
    return f"{settlement.county_id[:2]}0000" if settlement else None


class HouseholdRightQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "household__settlement"

    def recorded_by(self, on_date):
        return self.filter(recorded_on__lte=on_date)


class HouseholdRight(models.Model):
    """One household's state of one right: secured, pending or not applicable, and since when."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("搬迁户"),
        on_delete=models.CASCADE,
        related_name="rights",
        # Served by the unique (household, item) index: no index of its own.
        db_index=False,
    )
    item = models.ForeignKey(
        RightsItem, verbose_name=_("权益事项"), on_delete=models.PROTECT, related_name="households"
    )
    state = models.CharField(_("落实情况"), max_length=16, choices=RightState.choices)
    recorded_on = models.DateField(_("核实日期"), default=timezone.localdate)
    notes = models.CharField(_("说明"), max_length=200, blank=True)

    objects = HouseholdRightQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("权益落实历史"), no_db_index=["household", "item"])

    class Meta:
        verbose_name = _("权益落实情况")
        verbose_name_plural = pgettext_lazy("plural", "权益落实情况")
        ordering = ["household_id", "item__category__order", "item__order", "item_id"]
        permissions = [
            ("import_householdright", _("可以导入权益落实情况")),
            ("export_householdright", _("可以导出权益落实情况")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "item"],
                name="household_right_once",
                violation_error_message=_("该户的这一权益事项已有记录，请修改原记录。"),
            )
        ]

    def __str__(self):
        return f"{self.household} {self.item} {self.get_state_display()}"

    def clean(self):
        errors = {}
        if self.recorded_on and self.recorded_on > timezone.localdate():
            errors["recorded_on"] = _("核实日期不能晚于今天。")
        if self.household_id and self.item_id:
            province = household_province(self.household)
            if province is None:
                errors["household"] = _("该户尚未分配安置点，无法确定适用哪个省份的权益清单。")
            elif self.item.category.province_id != province:
                errors["item"] = _(
                    "权益事项“%(item)s”属于%(province)s的清单，不适用于本户所在省份。"
                ) % {
                    "item": self.item.name,
                    "province": self.item.category.province.name,
                }
        if errors:
            raise ValidationError(errors)


def has_benefit_q(kind, on_date):
    """Q over Person: covered by ``kind`` on ``on_date``.

    From the records when the person has a record of the field ``kind`` maps
    to, else from the field (see the module docstring).
    """
    covering = BenefitRecord.objects.filter(person=OuterRef("pk"), kind=kind).covering(on_date)
    q = Q(Exists(covering))
    for field, (kinds, _none) in BENEFIT_FIELDS.items():
        if kind in kinds:
            any_record = BenefitRecord.objects.filter(person=OuterRef("pk"), kind__in=list(kinds))
            q |= ~Exists(any_record) & Q(**{field: kinds[kind]})
    return q


# --- the rules the work lists and the dashboards share -----------------------------------


def school_age_q(on_date):
    """适龄儿童: aged 6 to 15 (inclusive) on ``on_date``; a sixth birthday on the day counts."""
    return aged_between_q(SCHOOL_AGE[0], SCHOOL_AGE[1], on_date)


def pension_base_q(on_date, prefix=""):
    """养老保险 denominator: aged 16 or over and not a full-time student (Person through ``prefix``)."""
    return aged_between_q(PENSION_AGE, None, on_date, prefix) & Q(**{f"{prefix}school_stage": ""})


SCHOOL_AGE = (6, 15)
PENSION_AGE = 16
ELDERLY_AGE = 60
SERIOUS_HEALTH = (Health.SERIOUS, Health.DISABLED)


def _benefit_list(kind):
    return lambda qs, d: qs.filter(has_benefit_q(kind, d))


#: ``?protection=`` value -> (label, rule(Person queryset, date, reveal))
PERSON_LISTS = {
    "sick_no_medical": (
        _("患大病或残疾但未参加医保"),
        lambda qs, d: qs.filter(health__in=SERIOUS_HEALTH).exclude(
            has_benefit_q(BenefitKind.MEDICAL, d)
        ),
    ),
    "child_not_in_school": (
        _("适龄儿童（6至15周岁）未在校"),
        lambda qs, d: qs.filter(school_age_q(d), school_stage=""),
    ),
    "elderly_no_pension": (
        _("60周岁以上未参加养老保险"),
        lambda qs, d: qs.filter(aged_between_q(ELDERLY_AGE, None, d)).exclude(
            has_benefit_q(BenefitKind.PENSION, d)
        ),
    ),
    "medical_insured": (_("参加医保"), _benefit_list(BenefitKind.MEDICAL)),
    "pension_base": (
        _("16周岁以上非在校生"),
        lambda qs, d: qs.filter(pension_base_q(d)),
    ),
    "pension_insured": (
        _("16周岁以上非在校生中参加养老保险"),
        lambda qs, d: qs.filter(pension_base_q(d)).filter(has_benefit_q(BenefitKind.PENSION, d)),
    ),
    "dibao_urban": (_("城市低保"), _benefit_list(BenefitKind.DIBAO_URBAN)),
    "dibao_rural": (_("农村低保"), _benefit_list(BenefitKind.DIBAO_RURAL)),
    "extreme_poverty": (_("特困供养"), _benefit_list(BenefitKind.EXTREME_POVERTY)),
    "school_age": (
        _("适龄儿童（6至15周岁）"),
        lambda qs, d: qs.filter(school_age_q(d)),
    ),
    "in_school": (
        _("适龄儿童在校"),
        lambda qs, d: qs.filter(school_age_q(d)).exclude(school_stage=""),
    ),
    "disability_living": (
        _("享受困难残疾人生活补贴"),
        _benefit_list(BenefitKind.DISABILITY_LIVING),
    ),
    "disability_care": (_("享受重度残疾人护理补贴"), _benefit_list(BenefitKind.DISABILITY_CARE)),
}
#: Lists that reveal health or disability: only for users who may see health.
HEALTH_LISTS = frozenset({"sick_no_medical", "disability_living", "disability_care"})


def province_items(households):
    """``households`` annotated with ``rights_items``: the active items of its province's checklist.

    The number per province is read once (a handful of rows) and written into
    the query as a ``CASE`` on the settlement's county code, so the database
    computes nothing per household for it.
    """
    per_province = RightsItem.objects.active_per_province()
    return households.annotate(
        rights_items=Case(
            *(
                When(settlement__county__pk__startswith=province[:2], then=Value(n))
                for province, n in per_province.items()
            ),
            default=Value(0),
            output_field=models.IntegerField(),
        )
    )


def rights_done(on_date, secured_only=False):
    """Per outer household: its rows of active items recorded by ``on_date`` as secured or
    not applicable, counted (``NULL`` for a household without such rows).

    ``secured_only``: ``NULL`` too when none of them is secured.  One correlated
    sub-query, one look at the household's rows.
    """
    rows = (
        HouseholdRight.objects.filter(
            household=OuterRef("pk"), item__active=True, recorded_on__lte=on_date
        )
        .order_by()
        .values("household")
        .annotate(
            secured=Count("pk", filter=Q(state=RightState.SECURED)),
            done=Count("pk", filter=Q(state__in=[RightState.SECURED, RightState.NOT_APPLICABLE])),
        )
    )
    if secured_only:
        rows = rows.filter(secured__gt=0)
    return Subquery(rows.values("done")[:1], output_field=models.IntegerField())


def rights_complete(households, on_date):
    """适用权益全部落实 on ``on_date``: some item applies and every applicable item is secured.

    Applicable: the active items of the province's checklist less those recorded
    as not applicable by then; an item without a record counts as not yet
    secured.  Secured: active items recorded as secured by then.  With ``items``,
    ``na`` and ``secured`` so counted, "items − na > 0 and secured = items − na" is
    "secured > 0 and secured + na = items": one look at the household's rows.
    The dashboards count the same (``services.indicators.protection.rights``).
    """
    # As a difference, not "done = items": PostgreSQL would take an equality between
    # the household's sub-query and the settlement's CASE for a hash join key and run
    # the sub-query for every household of the table before joining.  And as
    # "|difference| < 1", not "= 0": it guesses an equality on an expression true for
    # one row in 200, so for a county's page of 50 it would compute the sub-query for
    # all 67,000 households and sort them (1.4 s); for an inequality it guesses one in
    # three, and reads the households in the list's order until the page is full (7 ms).
    return (
        province_items(households)
        .alias(rights_open=Abs(F("rights_items") - rights_done(on_date, secured_only=True)))
        .filter(rights_open__lt=1)
    )


def rights_incomplete(households, on_date):
    """尚有适用权益未落实 on ``on_date``: "items − na > 0 and secured < items − na".

    That is "secured + na < items" (secured is never negative), which a
    household without rows meets when its province has items.
    """
    return (
        province_items(households)
        .alias(rights_done=Coalesce(rights_done(on_date), 0))
        .filter(rights_items__gt=0, rights_done__lt=F("rights_items"))
    )


HOUSEHOLD_LISTS = {
    "complete": (_("适用权益全部落实"), rights_complete),
    "incomplete": (_("尚有适用权益未落实"), rights_incomplete),
}


def item_households(households, item, state, on_date):
    """Households of ``item``'s province by their state of that item on ``on_date``.

    ``applicable``: not recorded as not applicable by then (a household without a
    record counts); ``secured``: recorded as secured by then; ``open``: applicable
    and not secured (待落实, or not verified yet).  The per-item figures of the
    dashboards count the same (``services.indicators.protection.rights_items``).
    """
    rows = HouseholdRight.objects.filter(
        household=OuterRef("pk"), item=item, recorded_on__lte=on_date
    )
    in_province = households.filter(
        settlement__county__code__startswith=item.category.province_id[:2]
    )
    secured = Exists(rows.filter(state=RightState.SECURED))
    applicable = ~Exists(rows.filter(state=RightState.NOT_APPLICABLE))
    if state == "secured":
        return in_province.filter(secured)
    if state == "applicable":
        return in_province.filter(applicable)
    return in_province.filter(applicable & ~secured)


#: ``?rights_item_state=`` value -> label (with ``rights_item=<pk>``)
ITEM_STATES = {
    "applicable": _("适用"),
    "secured": _("已落实"),
    "open": _("待落实或未核实"),
}


def provinces_of_user(user):
    """Province codes the user's area touches (None: every province)."""
    scope = get_scope(user)
    if scope.unrestricted:
        return None
    codes = {f"{p[:2]}0000" for p in scope.region_prefixes}
    if scope.settlement_ids:
        codes |= {
            f"{county[:2]}0000"
            for county in Settlement.objects.filter(pk__in=scope.settlement_ids).values_list(
                "county_id", flat=True
            )
        }
    return codes


def items_for_user(user):
    """Active rights items of the provinces the user's area touches."""
    items = RightsItem.objects.active().select_related("category__province")
    codes = provinces_of_user(user)
    return items if codes is None else items.filter(category__province_id__in=codes)
