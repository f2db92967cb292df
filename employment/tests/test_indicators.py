"""The employment and income rules of INDICATORS.md on a hand-made world.

Every expected figure below is counted by hand from the fixture's comments,
including the edges: a person turning 16 or 61 on the reference date, a
full-time student, lost labour ability, a job that ended the day before or
starts on the day, farming only, a household without labour, an area with
nobody in it, and growth when the previous year is missing.
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from communities import enums as cenums
from communities.models import Household, Person
from communities.tests.factories import (
    HouseholdFactory,
    PersonFactory,
    SettlementFactory,
    make_id_number,
)
from employment import enums
from employment.models import Employer, EmploymentRecord, HouseholdIncome, MonitoringLine
from employment.querysets import employment_figures, income_figures, rate

D = datetime.date(2026, 6, 30)
YESTERDAY = D - datetime.timedelta(days=1)
TOMORROW = D + datetime.timedelta(days=1)


def born(years_before, days=0):
    """Birth date ``years_before`` years before D, shifted by ``days``."""
    return D.replace(year=D.year - years_before) + datetime.timedelta(days=days)


def person(household, name, birth, **kwargs):
    return PersonFactory(
        household=household,
        name=name,
        birth_date=birth,
        id_number=make_id_number(birth, kwargs.pop("sex", "M")),
        **kwargs,
    )


def job(p, kind, place, start=datetime.date(2025, 1, 1), end=None, employer=None):
    return EmploymentRecord.objects.create(
        person=p, kind=kind, place=place, start_date=start, end_date=end, employer=employer
    )


@pytest.fixture
def labour_world(region_tree):
    rt = region_tree
    s1 = SettlementFactory(name="一号安置点", county=rt.xingyi, township=rt.huangcao)
    s2 = SettlementFactory(name="二号安置点", county=rt.xingyi, township=rt.xingtai)
    s3 = SettlementFactory(name="三号安置点", county=rt.zhongshan, township=rt.huangtupo)
    s4 = SettlementFactory(name="空安置点", county=rt.xingren)  # nobody lives here
    workshop = Employer.objects.create(
        name="阳光帮扶车间",
        kind=enums.EmployerKind.WORKSHOP,
        county=rt.xingyi,
        location=enums.EmployerLocation.IN_SETTLEMENT,
    )
    factory = Employer.objects.create(
        name="东莞电子厂",
        kind=enums.EmployerKind.ENTERPRISE,
        county=rt.xingyi,
        location=enums.EmployerLocation.OUT_OF_PROVINCE,
    )
    W, SE, PW, FL, FA = (
        enums.EmploymentKind.WAGE,
        enums.EmploymentKind.SELF_EMPLOYED,
        enums.EmploymentKind.PUBLIC_WELFARE,
        enums.EmploymentKind.FLEXIBLE,
        enums.EmploymentKind.FARMING,
    )
    IN, PROV, OUT = (
        enums.WorkPlace.IN_COUNTY,
        enums.WorkPlace.IN_PROVINCE,
        enums.WorkPlace.OUT_OF_PROVINCE,
    )
    head, spouse, son, daughter = (
        cenums.Relationship.HEAD,
        cenums.Relationship.SPOUSE,
        cenums.Relationship.SON,
        cenums.Relationship.DAUGHTER,
    )
    h = {}
    p = {}
    # --- S1 ---------------------------------------------------------------
    h[1] = HouseholdFactory(number="H1", settlement=s1)
    p[1] = person(h[1], "p1", born(40, -5), relationship=head)  # LF, wage in county
    job(p[1], W, IN)
    p[2] = person(h[1], "p2", born(38), relationship=spouse, sex="F")  # LF, farming only
    job(p[2], FA, IN)
    p[3] = person(h[1], "p3", born(16), relationship=son)  # turns 16 on D: LF, no job
    p[4] = person(h[1], "p4", born(16, 1), relationship=daughter, sex="F")  # 15 on D
    h[2] = HouseholdFactory(number="H2", settlement=s1)
    p[5] = person(h[2], "p5", born(61), relationship=head)  # turns 61 on D: not LF
    job(p[5], W, IN)
    p[6] = person(h[2], "p6", born(61, 1), relationship=spouse, sex="F")  # 60: LF
    job(p[6], W, IN, end=YESTERDAY)  # ended the day before: not employed
    p[7] = person(
        h[2],
        "p7",
        born(20),
        relationship=son,
        school_stage=cenums.SchoolStage.UNDERGRADUATE,  # full-time student
    )
    h[3] = HouseholdFactory(number="H3", settlement=s1)
    p[8] = person(h[3], "p8", born(70), relationship=head)  # no labour in H3
    # --- S2 ---------------------------------------------------------------
    h[4] = HouseholdFactory(number="H4", settlement=s2)
    p[9] = person(h[4], "p9", born(30), relationship=head)
    job(p[9], SE, IN, start=D)  # starts on D: employed, self-employed, nearby
    p[10] = person(h[4], "p10", born(29), relationship=spouse, sex="F")
    job(p[10], PW, IN)  # public-welfare post, nearby
    p[11] = person(
        h[4],
        "p11",
        born(25),
        relationship=cenums.Relationship.OTHER,
        labour_ability=cenums.LabourAbility.LOST,
    )  # lost labour ability: not LF although working
    job(p[11], W, IN)
    h[5] = HouseholdFactory(number="H5", settlement=s2)
    p[12] = person(h[5], "p12", born(45), relationship=head)
    job(p[12], W, OUT, employer=factory)  # outside the province
    p[13] = person(h[5], "p13", born(44), relationship=spouse, sex="F")
    job(p[13], W, IN, employer=workshop)  # workshop, nearby
    job(p[13], FL, IN)  # flexible on the side: still one employed person
    p[14] = person(
        h[5], "p14", born(22), relationship=son, labour_ability=cenums.LabourAbility.WEAK
    )
    job(p[14], FL, PROV)  # flexible work counts as employed
    # --- S3 (钟山区, 六盘水市) ----------------------------------------------
    h[6] = HouseholdFactory(number="H6", settlement=s3)
    p[15] = person(h[6], "p15", born(50), relationship=head)
    job(p[15], W, PROV, start=TOMORROW)  # not started yet on D
    p[16] = person(
        h[6],
        "p16",
        born(48),
        relationship=spouse,
        sex="F",
        labour_ability=cenums.LabourAbility.NONE,
    )
    return SimpleNamespace(s1=s1, s2=s2, s3=s3, s4=s4, h=h, p=p, rt=region_tree)


def names(qs):
    return sorted(qs.values_list("name", flat=True))


def numbers(qs):
    return sorted(qs.values_list("number", flat=True))


def test_labour_force_edges(labour_world):
    assert names(Person.objects.labour_force(D)) == sorted(
        ["p1", "p2", "p3", "p6", "p9", "p10", "p12", "p13", "p14", "p15"]
    )
    # The day after, p3 is still 16, p4 turns 16 and p6 turns 61.
    assert "p4" in names(Person.objects.labour_force(TOMORROW))
    assert "p6" not in names(Person.objects.labour_force(TOMORROW))


def test_labour_bounds_and_exclusions_are_settings(labour_world, settings):
    settings.LABOUR_AGE_MAX = 61
    settings.LABOUR_EXCLUDE_STUDENTS = False
    settings.LABOUR_EXCLUDED_ABILITIES = ["none"]
    lf = names(Person.objects.labour_force(D))
    assert {"p5", "p7", "p11"} <= set(lf)  # 61, the student, lost ability now count
    assert "p16" not in lf  # 无劳动力 still excluded


def test_employed_and_unemployed(labour_world):
    assert names(Person.objects.employed(D)) == sorted(["p1", "p9", "p10", "p12", "p13", "p14"])
    # Farming alone, a job that ended yesterday, one that starts tomorrow, none at all.
    assert names(Person.objects.unemployed_labour(D)) == sorted(["p2", "p3", "p6", "p15"])


def test_household_rules(labour_world):
    assert numbers(Household.objects.with_labour(D)) == ["H1", "H2", "H4", "H5", "H6"]
    assert numbers(Household.objects.with_employed(D)) == ["H1", "H4", "H5"]
    # H3 has no labour at all, so it is not a zero-employment household.
    assert numbers(Household.objects.zero_employment(D)) == ["H2", "H6"]


EXPECTED_BY_SETTLEMENT = {
    # LF, employed, hh with labour, hh employed, nearby, outside province,
    # public welfare, self-employed, workshop, farming
    "s1": (4, 1, 2, 1, 1, 0, 0, 0, 0, 1),
    "s2": (5, 5, 2, 2, 3, 1, 1, 1, 1, 0),
    "s3": (1, 0, 1, 0, 0, 0, 0, 0, 0, 0),
}
KEYS = (
    "labour_force",
    "employed",
    "households_with_labour",
    "households_employed",
    "employed_nearby",
    "employed_outside_province",
    "public_welfare_posts",
    "self_employed",
    "workshop_employed",
    "farming",
)


def as_tuple(row):
    return tuple(row[k] for k in KEYS)


def test_employment_summary_by_settlement(labour_world, django_assert_num_queries):
    w = labour_world
    with django_assert_num_queries(1):
        rows = Person.objects.employment_summary(D, level="settlement")
    assert set(rows) == {w.s1.pk, w.s2.pk, w.s3.pk}  # the empty settlement has no row
    for key, expected in EXPECTED_BY_SETTLEMENT.items():
        assert as_tuple(rows[getattr(w, key).pk]) == expected
    assert rows[w.s1.pk]["zero_employment_households"] == 1
    assert rows[w.s2.pk]["zero_employment_households"] == 0
    assert rows[w.s3.pk]["zero_employment_households"] == 1


def test_employment_roll_up_recomputes_rates(labour_world, django_assert_num_queries):
    with django_assert_num_queries(1):
        counties = Person.objects.employment_summary(D, level="county")
    xingyi = employment_figures(counties["522301"])
    assert (xingyi["labour_force"], xingyi["employed"]) == (9, 6)
    # 6/9, not the mean of the settlements' 1/4 and 5/5 (0.625).
    assert xingyi["employment_rate"] == Decimal(6) / Decimal(9)
    assert xingyi["one_per_household_rate"] == Decimal(3) / Decimal(4)
    assert xingyi["zero_employment_households"] == 1
    assert xingyi["employed_nearby"] == 4
    assert "522302" not in counties  # 兴仁市 has nobody

    with django_assert_num_queries(1):
        prefectures = Person.objects.employment_summary(D, level="prefecture")
    assert set(prefectures) == {"522300", "520200"}
    assert employment_figures(prefectures["520200"])["employment_rate"] == 0

    with django_assert_num_queries(1):
        province = Person.objects.employment_summary(D, level="province")["520000"]
    figures = employment_figures(province)
    assert (figures["labour_force"], figures["employed"]) == (10, 6)
    assert figures["employment_rate"] == Decimal("0.6")
    assert (figures["households_with_labour"], figures["households_employed"]) == (5, 3)
    assert figures["zero_employment_households"] == 2

    townships = Person.objects.employment_summary(D, level="township")
    assert as_tuple(townships["522301001"]) == EXPECTED_BY_SETTLEMENT["s1"]


def test_summary_respects_the_queryset_it_runs_on(labour_world, make_user):
    from communities.roles import Role

    w = labour_world
    worker = make_user(Role.COMMUNITY_WORKER, settlements=[w.s2])
    rows = Person.objects.visible_to(worker).employment_summary(D, level="county")
    assert set(rows) == {"522301"}
    assert rows["522301"]["labour_force"] == 5  # S2 only, never S1's people


def test_empty_denominators_are_none(db):
    summary = Person.objects.employment_summary(D)
    assert summary["labour_force"] == 0
    figures = employment_figures(summary)
    assert figures["employment_rate"] is None
    assert figures["one_per_household_rate"] is None
    assert rate(0, 0) is None
    assert (
        income_figures(HouseholdIncome.objects.income_summary(2025))["per_capita_net_income"]
        is None
    )


@pytest.fixture
def income_world(labour_world):
    w = labour_world
    MonitoringLine.objects.create(
        province=w.rt.guizhou, year=2025, amount=Decimal("7000"), source="测试用"
    )
    rows = [
        # household, year, wage, business, transfer, property, costs, size
        (w.h[1], 2025, 30000, 5000, 3000, 1000, 2000, 4),  # net 37,000, per capita 9,250
        (w.h[2], 2025, 10000, 0, 4000, 0, 0, 3),  # net 14,000, per capita 4,666.67
        (w.h[4], 2025, 50000, 20000, 0, 0, 4000, 3),  # net 66,000, per capita 22,000
        (w.h[6], 2025, 8000, 1000, 0, 0, 0, 2),  # net 9,000, per capita 4,500
        (w.h[1], 2024, 30000, 2000, 0, 0, 0, 4),  # net 32,000, per capita 8,000
        (w.h[4], 2024, 50000, 4000, 0, 0, 0, 3),  # net 54,000, per capita 18,000
    ]
    for hh, year, wage, business, transfer, prop, costs, size in rows:
        HouseholdIncome.objects.create(
            household=hh,
            year=year,
            wage_income=wage,
            business_income=business,
            transfer_income=transfer,
            property_income=prop,
            costs=costs,
            household_size=size,
        )
    return w


def test_income_row_derives_net_and_per_capita(income_world):
    row = HouseholdIncome.objects.get(household=income_world.h[2], year=2025)
    assert row.net_income == Decimal("14000.00")
    assert row.per_capita_net == Decimal("4666.67")


def test_below_monitoring_line(income_world):
    assert numbers(Household.objects.below_monitoring_line(2025)) == ["H2", "H6"]
    assert numbers(Household.objects.below_monitoring_line(2024)) == []  # no line that year


def test_income_by_settlement(income_world, django_assert_num_queries):
    w = income_world
    with django_assert_num_queries(2):  # the year's lines, then one aggregate
        rows = HouseholdIncome.objects.income_summary(2025, level="settlement")
    s1 = income_figures(rows[w.s1.pk])
    assert rows[w.s1.pk]["net_income"] == Decimal("51000")
    assert rows[w.s1.pk]["persons"] == 7
    assert s1["per_capita_net_income"] == Decimal(51000) / Decimal(7)
    assert s1["per_capita_income_growth"] == (Decimal(51000) / 7) / Decimal(8000) - 1
    assert s1["income_share_wage"] == Decimal(40000) / Decimal(53000)
    assert s1["income_share_property"] == Decimal(1000) / Decimal(53000)
    assert s1["households_below_monitoring_line"] == 1
    s2 = income_figures(rows[w.s2.pk])
    assert s2["per_capita_net_income"] == 22000
    assert s2["per_capita_income_growth"] == Decimal(22000) / Decimal(18000) - 1
    s3 = income_figures(rows[w.s3.pk])
    assert s3["per_capita_net_income"] == 4500
    assert s3["per_capita_income_growth"] is None  # no record the year before
    assert s3["households_below_monitoring_line"] == 1


def test_income_roll_up_sums_totals(income_world):
    county = HouseholdIncome.objects.income_summary(2025, level="county")["522301"]
    figures = income_figures(county)
    # (37,000 + 14,000 + 66,000) / (4 + 3 + 3), not the mean of 7,285.71 and 22,000.
    assert figures["per_capita_net_income"] == Decimal(11700)
    assert figures["per_capita_income_growth"] == Decimal(11700) / (Decimal(86000) / 7) - 1
    province = income_figures(
        HouseholdIncome.objects.income_summary(2025, level="province")["520000"]
    )
    assert province["per_capita_net_income"] == Decimal(126000) / 12
    assert province["households_below_monitoring_line"] == 2


def test_monitoring_line_of_another_province_does_not_apply(income_world, region_tree):
    from communities.models import Region

    shanxi = Region.objects.create(code="140000", name="山西省", level=cenums.RegionLevel.PROVINCE)
    MonitoringLine.objects.filter(province=region_tree.guizhou).delete()
    MonitoringLine.objects.create(province=shanxi, year=2025, amount=Decimal("50000"))
    assert numbers(Household.objects.below_monitoring_line(2025)) == []


def test_income_source_counts_each_income_year_once(income_world, django_assert_num_queries):
    """Several reference dates (``Source.dates``): one income summary per distinct income
    year, each date given its own year's figures."""
    from communities.models import Settlement
    from relocation.dashboards.registry import Window, registry

    w = income_world
    days = [datetime.date(2025, 12, 31), datetime.date(2025, 6, 30), datetime.date(2026, 3, 31)]
    windows = [
        Window(start=day.replace(day=1), reference_date=day, income_year=year)
        for day, year in zip(days, (2025, 2024, 2025), strict=True)
    ]
    with django_assert_num_queries(4):  # two years: the year's lines, then one aggregate
        figures_for = registry.sources["income"].dates(Settlement.objects.all(), windows)
    net = [figures_for(window)[w.s1.pk]["net_income"] for window in windows]
    assert net == [Decimal("51000"), Decimal("32000"), Decimal("51000")]
    assert figures_for(windows[1])[w.s1.pk]["income_households"] == 1


def test_employment_summaries_count_several_dates_in_one_query(
    labour_world, django_assert_num_queries
):
    """The day before D p3 is 15 and p5 60 (labour force, his job covers it), and p6's job
    (ended the day before D) still covers it.  The day after, p4 turns 16 (labour force)
    and p6 61 (not: H2 has no labour left, so no zero-employment household in S1), and
    p15's job has started.  Each date's figures are exactly those of
    ``employment_summary`` for that date."""
    w = labour_world
    days = [YESTERDAY, D, TOMORROW]
    with django_assert_num_queries(1):
        summaries = Person.objects.employment_summaries(days, level="settlement")
    s1 = [summaries[day][w.s1.pk] for day in days]
    assert [row["labour_force"] for row in s1] == [4, 4, 4]
    assert [row["employed"] for row in s1] == [3, 1, 1]
    assert [row["households_with_labour"] for row in s1] == [2, 2, 1]
    assert [row["zero_employment_households"] for row in s1] == [0, 1, 0]
    s3 = [summaries[day][w.s3.pk] for day in days]
    assert [row["employed"] for row in s3] == [0, 0, 1]
    for day in days:
        assert summaries[day] == Person.objects.employment_summary(day, level="settlement")
    totals = Person.objects.employment_summaries(days)
    for day in days:
        assert totals[day] == Person.objects.employment_summary(day)
    # Nobody of 钟山区's settlement in the labour force (p16 has no labour ability,
    # p15 is) on a day before everyone was born: no row, as for one date.
    long_ago = datetime.date(1950, 1, 1)
    assert Person.objects.employment_summaries([long_ago, D], "settlement")[long_ago] == {}
