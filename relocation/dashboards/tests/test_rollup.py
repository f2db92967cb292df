"""Figures over three levels, hand-computed: rates re-derived, never averaged."""

from decimal import Decimal

import pytest

from relocation.dashboards import areas
from relocation.dashboards.dashboard import build, fmt
from relocation.dashboards.registry import registry

pytestmark = pytest.mark.django_db


def q(value):
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def rows_by_name(dash):
    return {row.name: row.values for row in dash.rows}


def test_province_rows_recompute_rates_from_summed_parts(live):
    province = build(areas.root_area(live.admin), live.admin)
    assert [row.name for row in province.rows] == ["贵州省"]
    guizhou = build(areas.region_area(live.admin, "520000"), live.admin)
    rows = rows_by_name(guizhou)
    assert set(rows) == {"六盘水市", "黔西南布依族苗族自治州"}
    qxn, lps = rows["黔西南布依族苗族自治州"], rows["六盘水市"]
    assert (qxn["labour_force"], qxn["employed"]) == (4, 2)
    assert q(qxn["employment_rate"]) == Decimal("50.00")
    assert (lps["labour_force"], lps["employed"]) == (3, 0)
    assert q(lps["employment_rate"]) == Decimal("0.00")
    total = guizhou.total.values
    # 2 of 7, not the mean of 50% and 0%.
    assert q(total["employment_rate"]) == Decimal("28.57")
    assert total["settlements"] == 4
    assert (total["households"], total["persons"]) == (3, 9)
    assert (total["households_with_labour"], total["households_employed"]) == (3, 2)
    assert q(total["one_per_household_rate"]) == Decimal("66.67")
    assert total["zero_employment_households"] == 1
    assert q(total["occupancy_rate"]) == Decimal("66.67")
    assert q(total["registered_poor_share"]) == Decimal("66.67")
    # H1's four keep their hukou without permits; 户主二 holds one; H3 has them.
    assert q(total["residence_integration_rate"]) == Decimal("55.56")
    assert total["employed_nearby"] == 2
    assert total["public_welfare_posts"] == 1
    assert total["farming"] == 1
    assert total["referrals"] == 2


def test_county_rows_are_townships_and_settlements_without_township(live):
    county = build(areas.region_area(live.admin, "522301"), live.admin)
    rows = rows_by_name(county)
    assert set(rows) == {"黄草街道", "兴泰街道", "空置安置点"}
    assert q(rows["黄草街道"]["employment_rate"]) == Decimal("33.33")
    assert q(rows["兴泰街道"]["employment_rate"]) == Decimal("100.00")
    # The county is 2 of 4 (50%), not the mean of 33.33% and 100% (66.67%).
    assert q(county.total.values["employment_rate"]) == Decimal("50.00")
    assert q(county.total.values["occupancy_rate"]) == Decimal("50.00")
    assert q(county.total.values["residence_integration_rate"]) == Decimal("20.00")
    # An empty settlement: counts 0, every rate "—".
    empty = next(row for row in county.rows if row.name == "空置安置点")
    assert empty.values["settlements"] == 1
    assert empty.values["households"] == 0
    assert empty.values["employment_rate"] is None
    texts = {cell.indicator.key: cell.text for cell in empty.cells}
    assert texts["employment_rate"] == "—"
    assert texts["per_capita_net_income"] == "—"
    assert texts["households"] == "0"
    # Its row links to its own dashboard; township rows to theirs.
    assert empty.url == f"/dashboard/settlement/{live.s3.pk}/"
    assert next(r for r in county.rows if r.name == "黄草街道").url == "/dashboard/522301001/"


def test_income_per_capita_growth_and_structure_from_sums(live):
    county = build(areas.region_area(live.admin, "522301"), live.admin)
    values = county.total.values
    # (24,000 + 13,000) / (4 + 1); the year before 18,000 / 4.
    assert q(values["per_capita_net_income"]) == Decimal("7400.00")
    assert q(values["per_capita_income_growth"]) == Decimal("64.44")
    assert q(values["income_share_wage"]) == Decimal("86.49")  # 32,000 / 37,000
    assert values["households_below_monitoring_line"] == 0
    province = build(areas.region_area(live.admin, "520000"), live.admin).total.values
    assert q(province["per_capita_net_income"]) == Decimal("4555.56")  # 41,000 / 9
    assert q(province["per_capita_income_growth"]) == Decimal("65.66")  # / (22,000 / 8)
    assert province["households_below_monitoring_line"] == 1
    assert county.window.income_year == live.year


def test_settlement_dashboard_and_township_level(live):
    township = build(areas.region_area(live.admin, "522301001"), live.admin)
    assert [row.name for row in township.rows] == ["阳光新区"]
    s1 = build(areas.settlement_area(live.admin, live.s1.pk), live.admin)
    assert s1.rows == []
    assert s1.total.values["labour_force"] == 3
    keys = [card.indicator.key for _section, cards in s1.details for card in cards]
    assert "farming" in keys and "referrals" in keys
    by_year = {i.key: items for i, items in s1.breakdowns}
    assert [(label, value) for label, value, _l in by_year["persons_by_year"]] == [
        ("2016", 0),
        ("2017", 0),
        ("2018", 4),
        ("2019", 0),
        ("2020", 0),
    ]


def test_formatting():
    rate = registry.indicators["employment_rate"]
    income = registry.indicators["per_capita_net_income"]
    persons = registry.indicators["persons"]
    assert fmt(rate, Decimal("95.6449")) == "95.64%"
    assert fmt(rate, None) == "—"
    assert fmt(income, Decimal("14702.5")) == "14,703"
    assert fmt(persons, Decimal("58300")) == "58,300"


def test_registry_is_complete():
    registry.check()
    for key in ("settlements", "households", "persons", "employment_rate", "per_capita_net_income"):
        assert key in registry.indicators
    assert [s.key for s in registry.ordered_sections()][:3] == [
        "population",
        "employment",
        "income",
    ]


def test_region_sums_equal_the_settlement_rows(live):
    from django.db.models import Sum

    from relocation.dashboards.models import AreaFigure, Period, SettlementFigure

    period = Period.objects.get(kind="month")
    area = {
        (row.level, row.area_code, row.key): row.value
        for row in AreaFigure.objects.filter(period=period)
    }
    assert area[("province", "520000", "labour_force")] == 7
    assert area[("prefecture", "522300", "labour_force")] == 4
    assert area[("county", "522301", "persons")] == 5
    assert area[("township", "522301001", "labour_force")] == 3
    # The settlement without a township is in its county, in no township.
    assert area[("county", "522301", "settlements")] == 3
    assert (
        sum(v for (lvl, _c, k), v in area.items() if lvl == "township" and k == "settlements") == 3
    )
    for level in ("province", "prefecture", "county"):
        for key in ("persons", "net_income", "employed"):
            total = sum(v for (lvl, _c, k), v in area.items() if lvl == level and k == key)
            expected = SettlementFigure.objects.filter(period=period, key=key).aggregate(
                s=Sum("value")
            )["s"]
            assert total == expected, (level, key)
