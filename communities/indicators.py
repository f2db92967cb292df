"""Population and housing figures (INDICATORS.md, "Population and housing").

Components are counted per settlement in two grouped queries; the dashboards
sum them up the region tree and derive the shares from the sums.
"""

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from relocation.dashboards import links
from relocation.dashboards.changes import changed, household_settlements, person_settlements
from relocation.dashboards.registry import NEUTRAL, PERCENT, UP, Indicator, registry

from . import enums
from .models import RELOCATION_YEAR_MAX, RELOCATION_YEAR_MIN, Household, Person, Settlement

YEARS = range(RELOCATION_YEAR_MIN, RELOCATION_YEAR_MAX + 1)
INTEGRATED_HUKOU = (enums.HukouState.MOVED_IN, enums.HukouState.RESIDENCE_PERMIT)

registry.section("population", _("人口与住房"), theme=_("稳得住"), order=10)
registry.section("plan", _("计划与安置"), theme=_("稳得住"), order=35)


def population_changes(since):
    return (
        changed(Settlement, since)
        | household_settlements(changed(Household, since))
        | person_settlements(changed(Person, since))
    )


@registry.source(
    "population",
    components=(
        "settlements",
        "households",
        "households_registered_poor",
        "households_moved_in",
        "persons",
        "persons_integrated",
        # Plan against actual: the plans, and what was settled and moved in at
        # the settlements that have a plan (so that a rate's parts come from
        # the same settlements at every level).
        "planned_households",
        "planned_people",
        "households_in_planned",
        "households_moved_in_in_planned",
        "persons_in_planned",
        *(f"households_{year}" for year in YEARS),
        *(f"persons_{year}" for year in YEARS),
    ),
    changes=population_changes,
    watch=(Settlement, Household, Person),
    by_dates=True,
)
def population(settlements, windows):
    """Who lives where, counted as it is now: the same figures for every date, counted once."""
    plans = {
        pk: (planned_households, planned_people)
        for pk, planned_households, planned_people in settlements.values_list(
            "pk", "planned_households", "planned_people"
        )
    }
    figures = {pk: {"settlements": 1} for pk in plans}
    households = (
        Household.objects.filter(settlement__in=settlements)
        .values("settlement_id")
        .annotate(
            households=Count("pk"),
            households_registered_poor=Count(
                "pk", filter=Q(category=enums.HouseholdCategory.REGISTERED_POOR)
            ),
            households_moved_in=Count(
                "pk", filter=Q(occupancy_state=enums.OccupancyState.MOVED_IN)
            ),
            **{f"households_{y}": Count("pk", filter=Q(relocation_year=y)) for y in YEARS},
        )
        .order_by()
    )
    for row in households:
        figures[row.pop("settlement_id")].update(row)
    people = (
        Person.objects.filter(household__settlement__in=settlements)
        .values("household__settlement_id")
        .annotate(
            persons=Count("pk"),
            # 户籍迁入或持居住证: the household's hukou moved in or kept with a
            # permit, or the person holds a residence permit of their own.
            persons_integrated=Count(
                "pk",
                filter=Q(household__hukou_state__in=INTEGRATED_HUKOU) | Q(residence_permit=True),
            ),
            **{f"persons_{y}": Count("pk", filter=Q(household__relocation_year=y)) for y in YEARS},
        )
        .order_by()
    )
    for row in people:
        figures[row.pop("household__settlement_id")].update(row)
    for pk, (planned_households, planned_people) in plans.items():
        values = figures[pk]
        if planned_households:
            values["planned_households"] = planned_households
            values["households_in_planned"] = values.get("households", 0)
            values["households_moved_in_in_planned"] = values.get("households_moved_in", 0)
        if planned_people:
            values["planned_people"] = planned_people
            values["persons_in_planned"] = values.get("persons", 0)
    return lambda window: figures


def _households(**params):
    return lambda area, window: links.households(area, **params)


def _persons(**params):
    return lambda area, window: links.persons(area, **params)


def _plan_count(key, label, unit, component, description, **options):
    return Indicator(
        key=key,
        label=label,
        section="plan",
        unit=unit,
        total=component,
        description=description,
        **options,
    )


def _plan_rate(key, label, numerator, denominator, description):
    """A completion rate: summed parts of the settlements with a plan (never averaged)."""
    return Indicator(
        key=key,
        label=label,
        section="plan",
        unit=PERCENT,
        numerator=numerator,
        denominator=denominator,
        decimals=2,
        direction=UP,
        description=description,
    )


registry.register(
    Indicator(
        key="settlements",
        label=_("安置点数"),
        section="population",
        direction=NEUTRAL,
        unit=_("个"),
        total="settlements",
        description=_("区域内的安置点个数。"),
    ),
    Indicator(
        key="households",
        label=_("搬迁户数"),
        section="population",
        direction=NEUTRAL,
        unit=_("户"),
        total="households",
        description=_("安置在区域内各安置点的搬迁户数。"),
        link=_households(),
    ),
    Indicator(
        key="persons",
        label=_("搬迁人口"),
        section="population",
        direction=NEUTRAL,
        unit=_("人"),
        total="persons",
        description=_("上述搬迁户的家庭成员人数。"),
        link=_persons(),
    ),
    Indicator(
        key="registered_poor_share",
        label=_("建档立卡户占比"),
        section="population",
        direction=NEUTRAL,
        unit=PERCENT,
        numerator="households_registered_poor",
        denominator="households",
        decimals=2,
        description=_("建档立卡脱贫户数 ÷ 搬迁户数。"),
    ),
    Indicator(
        key="occupancy_rate",
        label=_("入住率"),
        section="population",
        direction=UP,
        unit=PERCENT,
        numerator="households_moved_in",
        denominator="households",
        decimals=2,
        description=_("已入住户数 ÷ 已分配住房的搬迁户数。"),
    ),
    Indicator(
        key="residence_integration_rate",
        label=_("户籍迁入或持居住证比例"),
        section="population",
        direction=UP,
        unit=PERCENT,
        numerator="persons_integrated",
        denominator="persons",
        decimals=2,
        description=_(
            "户籍已迁入、或保留原籍并办理居住证（户或本人持新市民居住证）的人数 ÷ 搬迁人口。"
        ),
    ),
    _plan_count(
        "planned_households",
        _("计划安置户数"),
        _("户"),
        "planned_households",
        _("各安置点登记的计划安置户数之和（未填计划的安置点不计）。"),
    ),
    _plan_count(
        "planned_people",
        _("计划安置人数"),
        _("人"),
        "planned_people",
        _("各安置点登记的计划安置人数之和（未填计划的安置点不计）。"),
        column=False,
    ),
    _plan_count(
        "households_settled_of_plan",
        _("已安置户数（有计划的安置点）"),
        _("户"),
        "households_in_planned",
        _("有计划安置户数的安置点在搬迁户台账中的户数。"),
        column=False,
        headline=False,
    ),
    _plan_count(
        "households_moved_in",
        _("已入住户数"),
        _("户"),
        "households_moved_in",
        _("入住状态为已入住的搬迁户数。"),
        column=False,
        link=_households(occupancy_state__exact=enums.OccupancyState.MOVED_IN),
    ),
    _plan_rate(
        "plan_households_rate",
        _("户数安置完成率"),
        "households_in_planned",
        "planned_households",
        _("有计划的安置点：台账中的搬迁户数 ÷ 计划安置户数；没有计划的安置点不计入分子分母。"),
    ),
    _plan_rate(
        "plan_people_rate",
        _("人数安置完成率"),
        "persons_in_planned",
        "planned_people",
        _("有计划的安置点：台账中的搬迁人口 ÷ 计划安置人数；没有计划的安置点不计入分子分母。"),
    ),
    _plan_rate(
        "plan_moved_in_rate",
        _("入住完成率"),
        "households_moved_in_in_planned",
        "planned_households",
        _("有计划的安置点：已入住户数 ÷ 计划安置户数；没有计划的安置点不计入分子分母。"),
    ),
    Indicator(
        key="households_by_year",
        label=_("分年度搬迁户数"),
        section="population",
        direction=NEUTRAL,
        unit=_("户"),
        breakdown=tuple((str(y), f"households_{y}") for y in YEARS),
        headline=False,
        column=False,
        description=_("按搬迁年度（2016—2020年）统计的搬迁户数。"),
        link=lambda area, window, year: links.households(area, relocation_year=year),
    ),
    Indicator(
        key="persons_by_year",
        label=_("分年度搬迁人数"),
        section="population",
        direction=NEUTRAL,
        unit=_("人"),
        breakdown=tuple((str(y), f"persons_{y}") for y in YEARS),
        headline=False,
        column=False,
        description=_("按搬迁年度（2016—2020年）统计的搬迁人数。"),
        link=lambda area, window, year: links.persons(area, relocation_year=year),
    ),
)
