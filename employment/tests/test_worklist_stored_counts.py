"""工作清单 counts of 零就业家庭, 未就业劳动力 and 低于监测线 read from today's dashboard figures.

Counting them live reads the whole labour force of the scope; the page sums
the stored running figures instead, and counts live only the settlements whose
data changed since those figures were computed (or in the look-back window
before), so the count always equals the rows of the list it links to.  The
fixture is employment's ``jobs`` (see conftest): county 兴义市 has 2 零就业家庭
and 5 未就业劳动力, the worker's 阳光新区 1 and 3, the province 2 and 6; 低于监测线
(last year's income, the income year of today's figures) 1 in the county, 2 in
the province.
"""

import datetime

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communities.masking import may_view_sensitive
from communities.roles import SENSITIVE_PERMISSION, Role
from employment import enums
from employment.models import EmploymentRecord
from relocation.dashboards.engine import refresh_live
from relocation.dashboards.models import LiveState, Period, SettlementFigure
from relocation.dashboards.periods import income_year

pytestmark = pytest.mark.django_db

WORKLISTS = reverse("admin:employment_worklists")
EMPLOYMENT_KEYS = ("zero_employment", "unemployed")
COUNTED = (*EMPLOYMENT_KEYS, "below_line")


def employment_counts(client, user):
    client.force_login(user)
    response = client.get(WORKLISTS)
    assert response.status_code == 200
    rows = {row["key"]: row for row in response.context["rows"]}
    return {key: rows[key]["count"] for key in EMPLOYMENT_KEYS}, rows


def below_line(client, user, **params):
    client.force_login(user)
    response = client.get(WORKLISTS, params)
    return next(row["count"] for row in response.context["rows"] if row["key"] == "below_line")


@pytest.fixture
def income_year_stored(stored):
    """The fixture's income year is that of today's figures (not on 31 December)."""
    if income_year(timezone.localdate()) != stored.year:
        pytest.skip("on 31 December today's figures count this year's income, not the fixture's")
    return stored.year


def listed_rows(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return len(response.context["cl"].result_list)


@pytest.fixture
def stored(jobs, settings):
    """Today's figures computed after the fixture was written (no look-back window)."""
    settings.DASHBOARD_CHANGE_LOOKBACK = 0
    refresh_live(full=True)
    return jobs


@pytest.fixture
def county_pii(world, make_user):
    """A 兴义市 official who may see birth dates, so may count on any day."""
    user = make_user(
        Role.COUNTY_OFFICIAL, regions=[world.regions.xingyi], perms=[SENSITIVE_PERMISSION]
    )
    assert may_view_sensitive(user)
    return user


def running_figure(settlement, key):
    today = timezone.localdate()
    period = Period.objects.get(kind="year", start=datetime.date(today.year, 1, 1))
    return SettlementFigure.objects.filter(period=period, settlement=settlement, key=key)


def inflate(settlement, key, by):
    """Change a stored figure behind the engine's back: shows whether the page reads it."""
    rows = running_figure(settlement, key)
    assert rows.exists(), (settlement, key)
    rows.update(value=F("value") + by)


def test_stored_counts_equal_the_live_counts_in_every_scope(client, world, stored):
    expected = {
        world.county: {"zero_employment": 2, "unemployed": 5},
        world.worker: {"zero_employment": 1, "unemployed": 3},
        world.province: {"zero_employment": 2, "unemployed": 6},
        world.other_county: {"zero_employment": 0, "unemployed": 1},
        # The superuser also has the household without a settlement (无点户主 has
        # no job): it has no stored figure and is counted live.
        world.admin: {"zero_employment": 3, "unemployed": 7},
    }
    for user, counts in expected.items():
        assert employment_counts(client, user)[0] == counts, user.username


def test_the_page_reads_the_stored_figures_without_counting_people(client, world, stored):
    inflate(world.a, "zero_employment_households", 100)
    inflate(world.a, "labour_force", 40)
    client.force_login(world.county)
    client.get(WORKLISTS)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as ctx:
        counts, _rows = employment_counts(client, world.county)
    assert counts == {"zero_employment": 102, "unemployed": 45}
    counted = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(")]
    # Only 近30天离岗 is counted (and 低于监测线 on 31 December, when today's figures
    # count another income year); nothing changed since the figures.
    live_below = income_year(timezone.localdate()) != timezone.localdate().year - 1
    assert len(counted) == 1 + live_below, counted
    # Another county's stored figures do not reach this scope.
    inflate(world.c, "labour_force", 7)
    assert employment_counts(client, world.county)[0] == {"zero_employment": 102, "unemployed": 45}
    assert employment_counts(client, world.worker)[0] == {"zero_employment": 101, "unemployed": 43}


def test_a_settlement_changed_since_the_figures_is_counted_live(client, world, stored):
    inflate(world.a, "labour_force", 40)  # would show if 阳光新区 were read from the figures
    inflate(world.b, "labour_force", 10)  # 栗坪 did not change: read from the figures
    spouse_a = world.households["a"].members.get(name="配偶A")
    EmploymentRecord.objects.create(
        person=spouse_a,
        kind=enums.EmploymentKind.WAGE,
        place=enums.WorkPlace.IN_COUNTY,
        start_date=timezone.localdate() - datetime.timedelta(days=3),
        position="保洁",
    )
    counts, rows = employment_counts(client, world.county)
    assert counts == {"zero_employment": 2, "unemployed": 4 + 10}
    counts, rows = employment_counts(client, world.worker)
    assert counts == {"zero_employment": 1, "unemployed": 2}
    for key in EMPLOYMENT_KEYS:
        assert listed_rows(client, rows[key]["url"]) == counts[key], key


def test_a_household_moved_out_is_counted_live_in_both_settlements(client, world, stored):
    # Household d (零就业, two unemployed) moves from 阳光新区 to 栗坪 without a refresh.
    household_d = world.a.households.get(number="522301000004")
    household_d.settlement = world.b
    household_d.save()
    assert employment_counts(client, world.worker)[0] == {"zero_employment": 0, "unemployed": 1}
    assert employment_counts(client, world.county)[0] == {"zero_employment": 2, "unemployed": 5}


def test_changes_in_the_look_back_window_are_counted_live(client, world, stored, settings):
    inflate(world.a, "labour_force", 40)
    # The figures were computed now; with a 15-minute look-back every settlement
    # written in the fixture a moment ago counts live, so the inflation is not seen.
    settings.DASHBOARD_CHANGE_LOOKBACK = 900
    assert employment_counts(client, world.county)[0] == {"zero_employment": 2, "unemployed": 5}


def test_figures_of_another_day_are_not_used(client, world, stored):
    inflate(world.a, "labour_force", 40)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    LiveState.objects.filter(pk=1).update(reference_date=yesterday)
    assert employment_counts(client, world.county)[0] == {"zero_employment": 2, "unemployed": 5}


def test_another_date_is_counted_live(client, world, stored, county_pii):
    inflate(world.a, "labour_force", 40)
    client.force_login(county_pii)
    day = timezone.localdate() - datetime.timedelta(days=2)  # 户主B still had his job
    response = client.get(WORKLISTS, {"on": day.isoformat()})
    counts = {row["key"]: row["count"] for row in response.context["rows"]}
    assert counts["unemployed"] == 4
    assert counts["zero_employment"] == 1


def test_without_any_refresh_everything_is_counted_live(client, world, jobs):
    assert not LiveState.objects.exists()
    assert employment_counts(client, world.county)[0] == {"zero_employment": 2, "unemployed": 5}


def test_below_the_line_from_the_stored_figures(client, world, income_year_stored):
    assert below_line(client, world.county) == 1
    assert below_line(client, world.province) == 2
    assert below_line(client, world.worker) == 0
    inflate(world.b, "households_below_line", 5)
    assert below_line(client, world.county) == 6  # read from the figures
    # Another year is counted live.
    assert below_line(client, world.county, year=income_year_stored - 1) == 0


def test_a_changed_monitoring_line_counts_its_province_live(client, world, income_year_stored):
    from employment.models import MonitoringLine

    inflate(world.b, "households_below_line", 5)
    line = MonitoringLine.objects.get(year=income_year_stored)
    line.amount = 12000  # now a (10,000 per person) and d (8,000) are under the line too
    line.save()
    assert below_line(client, world.county) == 3
    assert below_line(client, world.province) == 4
    client.force_login(world.county)
    row = next(r for r in client.get(WORKLISTS).context["rows"] if r["key"] == "below_line")
    assert listed_rows(client, row["url"]) == 3


def test_an_income_changed_since_is_counted_live(client, world, income_year_stored):
    from employment.models import HouseholdIncome

    inflate(world.b, "households_below_line", 5)
    income = HouseholdIncome.objects.get(household=world.households["b"], year=income_year_stored)
    income.wage_income += 100000  # 栗坪's household is no longer under the line
    income.save()
    assert below_line(client, world.county) == 0
