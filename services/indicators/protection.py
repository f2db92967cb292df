"""Services and culture: protection (indicators).

Social protection and rights figures of INDICATORS.md ("Public services and
social protection") in the section 服务保障.  The counting rules are those of
``services.models.protection`` (``has_benefit_q``, ``school_age_q``,
``pension_base_q``, ``rights_complete``), the same the work lists use, so a figure
and the list behind it agree.  Stocks are counted on the reference date from
the dated records (a person without records of a benefit from their field);
临时救助 is a flow over the period.  Three sources, each one grouped query per
call whatever the number of settlements.
"""

from collections import defaultdict

from django.db import connection
from django.db.models import Count, F, Min, Q, Sum
from django.utils.translation import gettext_lazy as _

from communities.models import Household, Person, Settlement, covering_q
from relocation.dashboards import bydate, links
from relocation.dashboards.changes import changed, household_settlements, person_settlements
from relocation.dashboards.registry import (
    DOWN,
    NEUTRAL,
    PERCENT,
    UP,
    Indicator,
    Table,
    TableColumn,
    TableRow,
    registry,
)

from ..models.protection import (
    BENEFIT_FIELDS,
    BenefitKind,
    BenefitRecord,
    HouseholdRight,
    RightsCategory,
    RightsItem,
    RightState,
    TemporaryAssistance,
    pension_base_q,
    provinces_of_user,
    school_age_q,
)

SECTION = "services"


#: Benefits counted as stocks: component -> (kind, person field, the field's value, only the pension base)
BENEFIT_COMPONENTS = {
    "medical_insured": (BenefitKind.MEDICAL, "medical_insurance", True, False),
    "pension_insured": (BenefitKind.PENSION, "pension_insurance", True, True),
    "dibao_urban": (BenefitKind.DIBAO_URBAN, "dibao", "urban", False),
    "dibao_rural": (BenefitKind.DIBAO_RURAL, "dibao", "rural", False),
    "extreme_poverty": (BenefitKind.EXTREME_POVERTY, "extreme_poverty_support", True, False),
    "disability_living": (BenefitKind.DISABILITY_LIVING, None, None, False),
    "disability_care": (BenefitKind.DISABILITY_CARE, None, None, False),
}
KIND_COMPONENTS = {kind: component for component, (kind, *_rest) in BENEFIT_COMPONENTS.items()}
#: The kinds counted only among the people of the pension base.
BASE_KINDS = [kind for kind, _field, _value, in_base in BENEFIT_COMPONENTS.values() if in_base]
STOCK_KEYS = (
    "protection_people",
    "medical_insured",
    "pension_base",
    "pension_insured",
    "dibao_urban",
    "dibao_rural",
    "extreme_poverty",
    "school_age_children",
    "school_age_in_school",
    "school_age_out_of_school",
    "disability_living",
    "disability_care",
)


def _group_of(kind):
    """The kinds whose records decide the same person field as ``kind`` (the two 低保 share one)."""
    for kinds, _none in BENEFIT_FIELDS.values():
        if kind in kinds:
            return list(kinds)
    return [kind]


def _shadowed(kind, field, value, only=None):
    """People whose ``field`` says ``value`` and who have records of that field (``only``: and match it)."""
    return Count(
        "person",
        distinct=True,
        filter=Q(kind__in=_group_of(kind), **{f"person__{field}": value}) & (only or Q()),
    )


def _by_kind(rows):
    """Rows of a settlement's counts of one kind (``kind``, ``covered…`` columns) as rows
    of that kind's component (``<component>…``)."""
    for row in rows:
        component = KIND_COMPONENTS[row.pop("kind")]
        yield {
            component + name.removeprefix("covered") if name.startswith("covered") else name: n
            for name, n in row.items()
        }


def protection_changes(since):
    return person_settlements(changed(Person, since)) | person_settlements(
        changed(BenefitRecord, since, "person_id")
    )


@registry.source(
    "social_protection",
    components=STOCK_KEYS,
    changes=protection_changes,
    watch=(Person, BenefitRecord),
    by_dates=True,
    cost=35,
)
def social_protection(settlements, windows):
    """Three grouped queries whatever the number of dates; a benefit count is the rule of
    ``has_benefit_q``, in sums:

    covered = people with a record of the kind covering the day
            + people whose field says so
            − people whose field says so but who have records of that field (the records decide).

    Counts that depend on the day (ages, records covering it) are repeated per
    date (``bydate``); the others are counted once.
    """
    people = {"protection_people": Count("pk")}
    shadowed = {}
    for component, (kind, field, value, in_base) in BENEFIT_COMPONENTS.items():
        if field is not None and not in_base:
            people[f"field_{component}"] = Count("pk", filter=Q(**{field: value}))
            shadowed[component] = _shadowed(kind, field, value)

    def people_on(day):
        school_age = school_age_q(day)
        base = pension_base_q(day)
        counts = {
            "pension_base": Count("pk", filter=base),
            "school_age_children": Count("pk", filter=school_age),
            "school_age_in_school": Count("pk", filter=school_age & ~Q(school_stage="")),
            "school_age_out_of_school": Count("pk", filter=school_age & Q(school_stage="")),
        }
        for component, (_kind, field, value, in_base) in BENEFIT_COMPONENTS.items():
            if field is not None and in_base:
                counts[f"field_{component}"] = Count("pk", filter=Q(**{field: value}) & base)
        return counts

    def covering_on(day):
        # Grouped by kind: each record meets one kind's conditions, so a date costs one
        # distinct count, not one per kind (at 500,000 households, 14 dates, one connection and
        # no parallel workers: 16.9 → 11.5 s for this query).
        return {
            "covered": Count(
                "person",
                distinct=True,
                filter=bydate.per_date_only(windows, covering_q(day))
                & (~Q(kind__in=BASE_KINDS) | pension_base_q(day, "person__")),
            )
        }

    def shadowed_on(day):
        person_base = pension_base_q(day, "person__")
        return {
            component: _shadowed(kind, field, value, person_base)
            for component, (kind, field, value, in_base) in BENEFIT_COMPONENTS.items()
            if field is not None and in_base
        }

    in_area = {"person__household__settlement__in": settlements}
    key = "person__household__settlement_id"
    last = max(window.reference_date for window in windows)
    queries = (
        (
            1,
            Person.objects.filter(household__settlement__in=settlements),
            "household__settlement_id",
            {**people, **bydate.per_date(windows, people_on)},
        ),
        (
            -1,
            BenefitRecord.objects.filter(**in_area),
            key,
            {**shadowed, **bydate.per_date(windows, shadowed_on)},
        ),
    )
    # {reference date: {settlement: {component: count}}}
    figures = {window.reference_date: {} for window in windows}
    for sign, qs, group, counts in queries:
        rows = qs.values(group).annotate(**counts).order_by()
        bydate.add_rows(figures, rows, group, windows, sign)
    covered = (
        BenefitRecord.objects.filter(
            bydate.where(windows, covering_q, Q(start_date__lte=last)),
            kind__in=list(KIND_COMPONENTS),
            **in_area,
        )
        .values(key, "kind")
        .annotate(**bydate.per_date(windows, covering_on))
        .order_by()
    )
    bydate.add_rows(figures, _by_kind(covered), key, windows)
    for on_day in figures.values():
        for row in on_day.values():
            for component, (_kind, field, _value, _in_base) in BENEFIT_COMPONENTS.items():
                if field is not None:
                    row[component] = row.get(component, 0) + row.pop(f"field_{component}", 0)
            for component in STOCK_KEYS:
                row.setdefault(component, 0)
    return lambda window: figures[window.reference_date]


def assistance_changes(since):
    return person_settlements(changed(TemporaryAssistance, since, "person_id"))


@registry.source(
    "temporary_assistance",
    components=("temporary_assistance_count", "temporary_assistance_amount"),
    changes=assistance_changes,
    flow=True,
    watch=(TemporaryAssistance,),
    by_dates=True,
)
def temporary_assistance(settlements, windows):
    figures = {bydate.span(window): {} for window in windows}
    bydate.add_flows(
        figures,
        TemporaryAssistance.objects.filter(person__household__settlement__in=settlements),
        "person__household__settlement_id",
        "granted_on",
        windows,
        lambda on: {
            "temporary_assistance_count": Count("pk", filter=on),
            "temporary_assistance_amount": Sum("amount", filter=on),
        },
    )
    return lambda window: figures[bydate.span(window)]


RIGHTS_KEYS = (
    "rights_applicable",
    "rights_secured",
    "rights_households",
    "rights_households_complete",
)


def rights_changes(since):
    ids = household_settlements(changed(HouseholdRight, since, "household_id"))
    ids |= household_settlements(changed(Household, since))
    # A changed checklist moves every settlement of its province.
    categories = changed(RightsItem, since, "category_id") | changed(RightsCategory, since)
    provinces = set(
        RightsCategory.objects.filter(pk__in=categories).values_list("province_id", flat=True)
    )
    if provinces:
        in_provinces = Q(pk__in=[])
        for code in provinces:
            in_provinces |= Q(county__code__startswith=code[:2])
        ids |= set(Settlement.objects.filter(in_provinces).values_list("pk", flat=True))
    return ids


@registry.source(
    "rights",
    components=RIGHTS_KEYS,
    changes=rights_changes,
    watch=(HouseholdRight, Household, RightsItem, RightsCategory),
    by_dates=True,
    cost=15,
)
def rights(settlements, windows):
    """The rule of ``rights_complete`` (the work lists') in four queries, whatever the
    number of settlements and dates.

    Per household, the rows recorded by each day give ``secured`` and ``n/a``
    counts; they are grouped again by (day, settlement, secured, n/a), a handful
    of rows per settlement and day.  A household without rows by the day has
    every item applicable and none secured.  ``items`` is the number of active
    items of the province.
    """
    households = dict(
        Household.objects.filter(settlement__in=settlements)
        .values("settlement_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("settlement_id", "n")
    )
    if not households:
        return lambda window: {}
    per_province = RightsItem.objects.active_per_province()
    county = dict(Settlement.objects.filter(pk__in=list(households)).values_list("pk", "county_id"))
    # A household has one row per item at most (``household_right_once``): no more rows
    # than the active items of every province.
    packed = bydate.Packed(windows, sum(per_province.values()))
    per_household = (
        HouseholdRight.objects.filter(
            household__settlement__in=settlements,
            item__active=True,
            recorded_on__lte=max(window.reference_date for window in windows),
        )
        .values("household_id")
        # An aggregate, not a column of the grouping: grouped by the household alone,
        # PostgreSQL expects a group per household and hashes them, where grouped by
        # household and settlement it expected a group per row and sorted them all.
        .annotate(settlement=Min("household__settlement_id"), **_state_sums(packed))
        .order_by()
    )
    sql, params = per_household.query.sql_with_params()
    q = connection.ops.quote_name

    def column(name):
        return f"t.{q(name)}"

    grouped = " UNION ALL ".join(
        f"SELECT {i}, t.{q('settlement')}, {secured}, {na}, COUNT(*) FROM t "
        f"GROUP BY t.{q('settlement')}, {secured}, {na}"
        for i, secured, na in (
            (
                i,
                packed.sql(column, "secured", window.reference_date),
                packed.sql(column, "na", window.reference_date),
            )
            for i, window in enumerate(windows)
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(f"WITH t AS ({sql}) {grouped}", params)
        combos = defaultdict(list)
        for i, *combo in cursor.fetchall():
            combos[windows[i].reference_date].append(combo)
    combos = dict(combos)

    def figures_for(window):
        figures = {}
        recorded = {}
        for settlement_id, secured, na, n in combos.get(window.reference_date, ()):
            recorded[settlement_id] = recorded.get(settlement_id, 0) + n
            items = per_province.get(f"{county[settlement_id][:2]}0000", 0)
            _add_households(figures, settlement_id, items - na, secured, n)
        for settlement_id, n in households.items():
            items = per_province.get(f"{county[settlement_id][:2]}0000", 0)
            unrecorded = n - recorded.get(settlement_id, 0)
            _add_households(figures, settlement_id, items, 0, unrecorded)
        return figures

    return figures_for


def _state_sums(packed):
    """Rights rows secured and not applicable, recorded by each day (``secured`` and
    ``na``), packed (``bydate.Packed``): two sums per chunk of dates, not two filtered
    counts per date (at 500,000 households and 14 dates, the rights' query 19.5 → 12.2 s
    on one process; with the state tested once per sum, not once per date, and the
    households hashed, 18.7 → 15.2 s for the rights and 12.1 → 9.3 s for the items at 13
    dates on a slower day)."""
    return {
        **packed.sums("secured", Q(state=RightState.SECURED), "recorded_on"),
        **packed.sums("na", Q(state=RightState.NOT_APPLICABLE), "recorded_on"),
    }


def _add_households(figures, settlement_id, applicable, secured, n):
    """Add ``n`` households with ``applicable`` items of which ``secured`` are secured."""
    if applicable <= 0 or n <= 0:
        return
    f = figures.setdefault(settlement_id, dict.fromkeys(RIGHTS_KEYS, 0))
    f["rights_applicable"] += applicable * n
    f["rights_secured"] += secured * n
    f["rights_households"] += n
    if secured >= applicable:
        f["rights_households_complete"] += n


ITEM_PREFIX = "rights_item_"


def item_prefix(item_id):
    """The components of one item are ``rights_item_<pk>_applicable`` and ``…_secured``."""
    return f"{ITEM_PREFIX}{item_id}_"


@registry.source(
    "rights_items",
    components=(),
    prefixes=(ITEM_PREFIX,),
    changes=rights_changes,
    watch=(HouseholdRight, Household, RightsItem, RightsCategory),
    by_dates=True,
    cost=8,
)
def rights_items(settlements, windows):
    """Per settlement and active item of its province: households it applies to, and secured.

    The rule of ``item_households`` (the lists behind the figures) in three
    queries whatever the number of settlements and dates: the active items per
    province, households per settlement, and the rows recorded by each day
    grouped by (settlement, item).  Applicable: the households less those
    recorded as not applicable; secured: those recorded as secured.
    """
    items = {}
    for pk, province in RightsItem.objects.active().values_list("pk", "category__province_id"):
        items.setdefault(province, []).append(pk)
    households = {}
    if items:
        households = {
            sid: (county, n)
            for sid, county, n in Household.objects.filter(settlement__in=settlements)
            .values("settlement_id")
            .annotate(county=F("settlement__county_id"), n=Count("pk"))
            .order_by()
            .values_list("settlement_id", "county", "n")
        }
    recorded = []  # {settlement, item, packed secured and n/a counts}
    # An item's count in a settlement is at most its households (``household_right_once``).
    packed = bydate.Packed(windows, max((n for _county, n in households.values()), default=0))
    if households:
        recorded = list(
            HouseholdRight.objects.filter(
                household__settlement__in=settlements,
                item__active=True,
                recorded_on__lte=max(window.reference_date for window in windows),
                state__in=(RightState.SECURED, RightState.NOT_APPLICABLE),
            )
            .values("household__settlement_id", "item_id")
            .annotate(**_state_sums(packed))
            .order_by()
        )
    # One string per component name, shared by every settlement and date.
    names = {
        item: (f"{item_prefix(item)}applicable", f"{item_prefix(item)}secured")
        for province_items in items.values()
        for item in province_items
    }

    def figures_for(window):
        day = window.reference_date
        on_day = {
            (row["household__settlement_id"], row["item_id"]): (
                packed.count(row, "secured", day),
                packed.count(row, "na", day),
            )
            for row in recorded
        }
        figures = {}
        for sid, (county, n) in households.items():
            row = figures[sid] = {}
            for item in items.get(f"{county[:2]}0000", ()):
                secured, na = on_day.get((sid, item), (0, 0))
                applicable, secured_key = names[item]
                row[applicable] = n - na
                row[secured_key] = secured
        return figures

    return figures_for


def _area_provinces(area, user):
    """Province codes whose checklist applies to a dashboard area (None: every province)."""
    if area.settlement is not None:
        return {f"{area.settlement.county_id[:2]}0000"}
    if area.region is not None:
        return {f"{area.region.code[:2]}0000"}
    return provinces_of_user(user)


def _item_link(item_id):
    states = {"applicable": "applicable", "secured": "secured", "open": "open", "rate": "secured"}

    def link(area, window, column):
        return links.households(
            area,
            rights_item=item_id,
            rights_item_state=states[column],
            rights_item_on=window.reference_date.isoformat(),
        )

    return link


def item_rows(area, user):
    """One row per active item of the area's province(s), grouped by category (one query)."""
    provinces = _area_provinces(area, user)
    items = RightsItem.objects.active().select_related("category__province")
    if provinces is not None:
        items = items.filter(category__province_id__in=sorted(provinces))
    items = items.order_by("category__province_id", "category__order", "category_id", "order", "pk")
    several = provinces is None or len(provinces) > 1
    rows = []
    for item in items:
        group = str(item.category)
        if several:
            group = f"{item.category.province.name} · {group}"
        rows.append(TableRow(item_prefix(item.pk), item.name, group, _item_link(item.pk)))
    return rows


registry.table(
    Table(
        key="rights_items",
        label=_("权益事项落实情况"),
        section=SECTION,
        row_label=_("权益事项"),
        columns=(
            TableColumn(
                "applicable",
                _("适用户数"),
                _("户"),
                total="applicable",
                description=_("统计日前未核实为不适用的搬迁户（未核实的也算适用）。"),
            ),
            TableColumn(
                "secured",
                _("已落实户数"),
                _("户"),
                total="secured",
                description=_("统计日前核实为已落实的搬迁户。"),
            ),
            TableColumn(
                "open",
                _("待落实或未核实户数"),
                _("户"),
                difference=("applicable", "secured"),
                description=_("适用户数 − 已落实户数。"),
            ),
            TableColumn(
                "rate",
                _("落实率"),
                PERCENT,
                numerator="secured",
                denominator="applicable",
                decimals=2,
                description=_("已落实户数 ÷ 适用户数（各级由汇总后的户数计算）。"),
            ),
        ),
        rows=item_rows,
        prefix_pattern=f"{ITEM_PREFIX}<事项编号>_",
        description=_(
            "本省权益清单中每个在用事项一行，按类别分组；户数按统计日期计，核实日期晚于统计日期的记录不计。"
        ),
    )
)


# --- indicators --------------------------------------------------------------------------


def _people(value):
    def link(area, window):
        return links.persons(
            area, protection=value, protection_on=window.reference_date.isoformat()
        )

    return link


def _count(key, label, description, link, unit=None, direction=NEUTRAL, headline=True):
    return Indicator(
        key=key,
        label=label,
        section=SECTION,
        unit=unit or _("人"),
        total=key,
        description=description,
        link=link,
        direction=direction,
        headline=headline,
    )


def _rate(key, label, numerator, denominator, description, link=None, headline=True):
    return Indicator(
        key=key,
        label=label,
        section=SECTION,
        unit=PERCENT,
        numerator=numerator,
        denominator=denominator,
        decimals=2,
        description=description,
        direction=UP,
        link=link,
        headline=headline,
    )


def _assistance_link(area, window):
    return links.changelist(
        "services.temporaryassistance",
        area,
        granted_on__gte=window.start.isoformat(),
        granted_on__lte=window.reference_date.isoformat(),
    )


registry.register(
    _count(
        "medical_insured",
        _("医保参保人数"),
        _("统计日参加基本医疗保险的搬迁人口（有待遇记录的按记录，否则按人员登记）。"),
        _people("medical_insured"),
        direction=UP,
    ),
    _rate(
        "medical_insurance_rate",
        _("医保参保率"),
        "medical_insured",
        "protection_people",
        _("医保参保人数 ÷ 搬迁人口。"),
        _people("medical_insured"),
    ),
    _count(
        "pension_insured",
        _("养老保险参保人数"),
        _("统计日年满16周岁、不是全日制在校生、参加基本养老保险的人数。"),
        _people("pension_insured"),
        direction=UP,
    ),
    _rate(
        "pension_insurance_rate",
        _("养老保险参保率"),
        "pension_insured",
        "pension_base",
        _("养老保险参保人数 ÷ 统计日年满16周岁且不是全日制在校生的人数。"),
        _people("pension_insured"),
    ),
    _count(
        "dibao_urban",
        _("城市低保人数"),
        _("统计日享受城市低保的人数。"),
        _people("dibao_urban"),
    ),
    _count(
        "dibao_rural",
        _("农村低保人数"),
        _("统计日享受农村低保的人数。"),
        _people("dibao_rural"),
    ),
    _count(
        "extreme_poverty",
        _("特困供养人数"),
        _("统计日享受特困人员救助供养的人数。"),
        _people("extreme_poverty"),
        headline=False,
    ),
    _count(
        "school_age_children",
        _("适龄儿童人数"),
        _("统计日年满6周岁、未满16周岁的人数（当天满6周岁的计入）。"),
        _people("school_age"),
    ),
    _rate(
        "in_school_rate",
        _("适龄儿童在校率"),
        "school_age_in_school",
        "school_age_children",
        _("适龄儿童中全日制在校生 ÷ 适龄儿童人数（在校阶段为人员当前登记）。"),
        _people("in_school"),
    ),
    _count(
        "school_age_out_of_school",
        _("适龄儿童未在校人数"),
        _("适龄儿童中未登记在校阶段的人数（目标为0）。"),
        _people("child_not_in_school"),
        direction=DOWN,
    ),
    _count(
        "disability_living",
        _("困难残疾人生活补贴人数"),
        _("统计日享受困难残疾人生活补贴的人数。"),
        _people("disability_living"),
        headline=False,
    ),
    _count(
        "disability_care",
        _("重度残疾人护理补贴人数"),
        _("统计日享受重度残疾人护理补贴的人数。"),
        _people("disability_care"),
        headline=False,
    ),
    Indicator(
        key="temporary_assistance_count",
        label=_("临时救助人次"),
        section=SECTION,
        unit=_("人次"),
        total="temporary_assistance_count",
        basis="flow",
        description=_("统计期内（期初至统计日）发放临时救助的人次。"),
        link=_assistance_link,
        headline=False,
    ),
    Indicator(
        key="temporary_assistance_amount",
        label=_("临时救助金额"),
        section=SECTION,
        unit=_("元"),
        total="temporary_assistance_amount",
        basis="flow",
        description=_("统计期内发放的临时救助金额合计。"),
        link=_assistance_link,
        headline=False,
    ),
    _rate(
        "rights_coverage_rate",
        _("权益落实率"),
        "rights_secured",
        "rights_applicable",
        _(
            "本省权益清单中适用于各户的事项里，统计日前核实为已落实的比例（不适用的不计；未核实的算未落实）。"
        ),
        lambda area, window: links.changelist(
            "services.householdright", area, state__exact=RightState.SECURED
        ),
    ),
    _count(
        "rights_households_complete",
        _("权益全部落实户数"),
        _("适用的权益事项全部已落实的搬迁户数。"),
        lambda area, window: links.households(
            area, rights="complete", rights_on=window.reference_date.isoformat()
        ),
        unit=_("户"),
        direction=UP,
    ),
    _rate(
        "rights_complete_rate",
        _("权益全部落实户占比"),
        "rights_households_complete",
        "rights_households",
        _("权益全部落实户数 ÷ 有适用权益事项的搬迁户数。"),
        headline=False,
    ),
)
