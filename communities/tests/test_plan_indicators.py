"""Plan against actual (计划与安置): hand-counted per settlement and rolled up.

兴义市 (黔西南州):
* P1 plans 4 households / 10 people; 3 households in the roster (2 moved in), 7 people.
* P2 plans 2 households and no people figure; 1 household (moved in), 1 person.
* P3 has no plan; 2 households (both moved in), 5 people — never in a completion rate.
钟山区 (六盘水市):
* P4 plans 5 households / 20 people; nobody yet.

Rates from summed parts: 兴义市 households 4 of 6 = 66.67 % (not the mean of 75 % and
50 %), people 7 of 10 = 70 % (P2 has no people plan), moved in 3 of 6 = 50 %.
贵州省: households 4 of 11 = 36.36 %, people 7 of 30 = 23.33 %, moved in 3 of 11 = 27.27 %.
"""

import re
from decimal import Decimal
from types import SimpleNamespace

import pytest

from communities import enums
from communities.tests.factories import HouseholdFactory, PersonFactory, SettlementFactory
from relocation.dashboards import areas, engine
from relocation.dashboards.dashboard import build, fmt
from relocation.dashboards.registry import registry

pytestmark = pytest.mark.django_db

MOVED_IN = enums.OccupancyState.MOVED_IN
NOT_MOVED_IN = enums.OccupancyState.NOT_MOVED_IN


def q(value):
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def _households(settlement, sizes_and_states):
    for size, state in sizes_and_states:
        household = HouseholdFactory(settlement=settlement, occupancy_state=state)
        for _i in range(size):
            PersonFactory(household=household)


@pytest.fixture
def plan_world(region_tree, superuser):
    rt = region_tree
    p1 = SettlementFactory(name="计划一", county=rt.xingyi, planned_households=4, planned_people=10)
    p2 = SettlementFactory(name="计划二", county=rt.xingyi, planned_households=2)
    p3 = SettlementFactory(name="无计划", county=rt.xingyi)
    p4 = SettlementFactory(
        name="未入住", county=rt.zhongshan, planned_households=5, planned_people=20
    )
    _households(p1, [(3, MOVED_IN), (2, MOVED_IN), (2, NOT_MOVED_IN)])
    _households(p2, [(1, MOVED_IN)])
    _households(p3, [(3, MOVED_IN), (2, MOVED_IN)])
    engine.refresh_live(full=True)
    return SimpleNamespace(p1=p1, p2=p2, p3=p3, p4=p4, rt=rt, admin=superuser)


def _settlement_values(world, settlement):
    return build(areas.settlement_area(world.admin, settlement.pk), world.admin).total.values


def test_per_settlement(plan_world):
    p1 = _settlement_values(plan_world, plan_world.p1)
    assert (p1["planned_households"], p1["planned_people"]) == (4, 10)
    assert (p1["households"], p1["persons"], p1["households_moved_in"]) == (3, 7, 2)
    assert q(p1["plan_households_rate"]) == Decimal("75.00")
    assert q(p1["plan_people_rate"]) == Decimal("70.00")
    assert q(p1["plan_moved_in_rate"]) == Decimal("50.00")

    p2 = _settlement_values(plan_world, plan_world.p2)
    assert q(p2["plan_households_rate"]) == Decimal("50.00")
    # No people plan: "—", not 0 % and not an error.
    assert p2["plan_people_rate"] is None
    assert fmt(registry.indicators["plan_people_rate"], p2["plan_people_rate"]) == "—"

    p3 = _settlement_values(plan_world, plan_world.p3)
    assert p3["planned_households"] == 0
    assert (p3["households"], p3["households_moved_in"]) == (2, 2)
    for key in ("plan_households_rate", "plan_people_rate", "plan_moved_in_rate"):
        assert p3[key] is None

    p4 = _settlement_values(plan_world, plan_world.p4)
    assert q(p4["plan_households_rate"]) == Decimal("0.00")
    assert q(p4["plan_moved_in_rate"]) == Decimal("0.00")


def test_roll_up_sums_the_parts(plan_world):
    county = build(areas.region_area(plan_world.admin, "522301"), plan_world.admin).total.values
    assert (county["planned_households"], county["planned_people"]) == (6, 10)
    # Settled households at planned settlements only (P3's two are not in the rate).
    assert county["households_settled_of_plan"] == 4
    assert county["households"] == 6
    assert county["households_moved_in"] == 5
    assert q(county["plan_households_rate"]) == Decimal("66.67")  # 4 / 6, not (75 + 50) / 2
    assert q(county["plan_people_rate"]) == Decimal("70.00")  # 7 / 10
    assert q(county["plan_moved_in_rate"]) == Decimal("50.00")  # 3 / 6

    province = build(areas.region_area(plan_world.admin, "520000"), plan_world.admin)
    total = province.total.values
    assert (total["planned_households"], total["planned_people"]) == (11, 30)
    assert q(total["plan_households_rate"]) == Decimal("36.36")  # 4 / 11
    assert q(total["plan_people_rate"]) == Decimal("23.33")  # 7 / 30
    assert q(total["plan_moved_in_rate"]) == Decimal("27.27")  # 3 / 11
    rows = {row.name: row.values for row in province.rows}
    assert q(rows["六盘水市"]["plan_households_rate"]) == Decimal("0.00")
    assert q(rows["黔西南布依族苗族自治州"]["plan_households_rate"]) == Decimal("66.67")


def test_a_plan_change_reaches_the_running_period(plan_world):
    p2 = plan_world.p2
    p2.planned_households = 1
    p2.save()
    engine.refresh_live()
    county = build(areas.region_area(plan_world.admin, "522301"), plan_world.admin).total.values
    assert county["planned_households"] == 5
    assert q(county["plan_households_rate"]) == Decimal("80.00")  # 4 / 5


def test_settlement_page_shows_plan_against_actual(client, plan_world):
    client.force_login(plan_world.admin)
    html = client.get(f"/dashboard/settlement/{plan_world.p1.pk}/").content.decode()
    assert "计划与安置" in html
    assert "户数安置完成率" in html and "75.00%" in html
    match = re.search(
        r'<tr data-key="households_moved_in">\s*<td>[^<]*</td>\s*<td class="num"><a href="([^"]+)">([^<]+)</a>',
        html,
    )
    assert match and match.group(2) == "2"
    listing = client.get(match.group(1).replace("&amp;", "&")).content.decode()
    assert listing.count('name="_selected_action"') == 2


def test_population_is_counted_once_for_every_date(plan_world, django_assert_num_queries):
    """Who lives where has no date: several reference dates (``Source.dates``) cost the
    queries of one, and every date gets the same hand-counted figures."""
    import datetime

    from communities.models import Settlement
    from relocation.dashboards.registry import Window

    days = [datetime.date(2026, month, 1) for month in (1, 4, 7)]
    windows = [Window(start=day, reference_date=day, income_year=2025) for day in days]
    with django_assert_num_queries(3):
        figures_for = registry.sources["population"].dates(Settlement.objects.all(), windows)
    for window in windows:
        p1 = figures_for(window)[plan_world.p1.pk]
        assert (p1["households"], p1["persons"], p1["households_moved_in"]) == (3, 7, 2)
        assert figures_for(window)[plan_world.p4.pk] == {
            "settlements": 1,
            "planned_households": 5,
            "planned_people": 20,
            "households_in_planned": 0,
            "households_moved_in_in_planned": 0,
            "persons_in_planned": 0,
        }
