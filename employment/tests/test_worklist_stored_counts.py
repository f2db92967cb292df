"""工作清单 counts of 零就业家庭, 未就业劳动力, 近30天离岗 and 低于监测线 read from today's
dashboard figures.

Counting them live reads the whole labour force of the scope; the page sums
the stored running figures instead, and counts live only the settlements whose
data changed since those figures were computed (or in the look-back window
before), so the count always equals the rows of the list it links to.  The
fixture is employment's ``jobs`` (see conftest): county 兴义市 has 2 零就业家庭
and 5 未就业劳动力, the worker's 阳光新区 1 and 3, the province 2 and 6; 近30天离岗
1 in the county (户主B of 栗坪), 0 in 阳光新区, 2 in the province (+ 配偶C); 低于监测线
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

WORKLISTS = reverse("worklists")
EMPLOYMENT_KEYS = ("zero_employment", "unemployed", "ended_30d")
COUNTED = (*EMPLOYMENT_KEYS, "below_line")


def employment_counts(client, user):
    client.force_login(user)
    response = client.get(WORKLISTS)
    assert response.status_code == 200
    rows = {row["key"]: row for row in response.context["rows"]}
    return {key: rows[key]["count"] for key in EMPLOYMENT_KEYS}, rows


def expect(zero_employment, unemployed, ended_30d):
    """The three employment counts as the page gives them."""
    return {"zero_employment": zero_employment, "unemployed": unemployed, "ended_30d": ended_30d}


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
        world.county: {"zero_employment": 2, "unemployed": 5, "ended_30d": 1},
        world.worker: {"zero_employment": 1, "unemployed": 3, "ended_30d": 0},
        world.province: {"zero_employment": 2, "unemployed": 6, "ended_30d": 2},
        world.other_county: {"zero_employment": 0, "unemployed": 1, "ended_30d": 1},
        # The superuser also has the household without a settlement (无点户主 has
        # no job): it has no stored figure and is counted live.
        world.admin: {"zero_employment": 3, "unemployed": 7, "ended_30d": 2},
    }
    for user, counts in expected.items():
        assert employment_counts(client, user)[0] == counts, user.username


def test_the_page_reads_the_stored_figures_without_counting_people(client, world, stored):
    inflate(world.a, "zero_employment_households", 100)
    inflate(world.a, "labour_force", 40)
    inflate(world.b, "recently_ended", 20)
    client.force_login(world.county)
    client.get(WORKLISTS)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as ctx:
        counts, _rows = employment_counts(client, world.county)
    assert counts == {"zero_employment": 102, "unemployed": 45, "ended_30d": 21}
    # Governance's lists (monitoring, alerts, pairings, petitions) are counted live: small tables.
    counted = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("SELECT COUNT(") and "governance_" not in q["sql"]
    ]
    # Nothing is counted (but 低于监测线 on 31 December, when today's figures count
    # another income year); nothing changed since the figures.
    live_below = income_year(timezone.localdate()) != timezone.localdate().year - 1
    assert len(counted) == live_below, counted
    # Another county's stored figures do not reach this scope.
    inflate(world.c, "labour_force", 7)
    inflate(world.c, "recently_ended", 7)
    assert employment_counts(client, world.county)[0] == expect(102, 45, 21)
    assert employment_counts(client, world.worker)[0] == expect(101, 43, 0)


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
    assert counts == {"zero_employment": 2, "unemployed": 4 + 10, "ended_30d": 1}
    counts, rows = employment_counts(client, world.worker)
    assert counts == {"zero_employment": 1, "unemployed": 2, "ended_30d": 0}
    for key in EMPLOYMENT_KEYS:
        assert listed_rows(client, rows[key]["url"]) == counts[key], key


def test_a_household_moved_out_is_counted_live_in_both_settlements(client, world, stored):
    # Household d (零就业, two unemployed) moves from 阳光新区 to 栗坪 without a refresh.
    household_d = world.a.households.get(number="522301000004")
    household_d.settlement = world.b
    household_d.save()
    assert employment_counts(client, world.worker)[0] == expect(0, 1, 0)
    assert employment_counts(client, world.county)[0] == expect(2, 5, 1)


def test_a_job_ended_since_the_figures_is_counted_live(client, world, stored):
    inflate(world.b, "recently_ended", 20)  # 栗坪 did not change: read from the figures
    # 配偶A (阳光新区) had a job from two months ago until five days ago.
    today = timezone.localdate()
    EmploymentRecord.objects.create(
        person=world.households["a"].members.get(name="配偶A"),
        kind=enums.EmploymentKind.WAGE,
        place=enums.WorkPlace.IN_COUNTY,
        start_date=today - datetime.timedelta(days=60),
        end_date=today - datetime.timedelta(days=5),
        position="保洁",
    )
    counts, rows = employment_counts(client, world.county)
    assert counts["ended_30d"] == 21 + 1
    counts, rows = employment_counts(client, world.worker)
    assert counts["ended_30d"] == 1
    assert listed_rows(client, rows["ended_30d"]["url"]) == 1


def test_after_the_upgrade_every_list_is_counted_live_until_a_full_refresh(client, world, stored):
    """Figures stored before ``recently_ended`` existed lack it (migration 0006)."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("employment.migrations.0006_recently_ended_figure")
    SettlementFigure.objects.filter(key="recently_ended").delete()  # as before the upgrade
    inflate(world.a, "labour_force", 40)
    migration.forget_today(apps, None)
    expected = {"zero_employment": 2, "unemployed": 5, "ended_30d": 1}
    assert employment_counts(client, world.county)[0] == expected
    refresh_live()  # a new day for the engine: every settlement computed again
    assert running_figure(world.b, "recently_ended").get().value == 1
    assert employment_counts(client, world.county)[0] == expected


@pytest.fixture
def stored_with_lookback(jobs, settings):
    """Today's figures computed a moment after the fixture wrote its rows, with the
    15-minute look-back window: the refresh counted the window's history rows."""
    settings.DASHBOARD_CHANGE_LOOKBACK = 900
    refresh_live(full=True)
    return jobs


def test_rows_written_just_before_the_figures_are_read_from_them(
    client, world, stored_with_lookback
):
    # The fixture's rows, written and committed a moment before the refresh, are in its
    # figures; the window's counts have not grown since: no late commit, nothing is
    # counted live (after a large import or the demo, every page used to walk the
    # window's history rows: minutes at two million people).
    inflate(world.a, "labour_force", 40)
    assert employment_counts(client, world.county)[0] == expect(2, 45, 1)


def test_a_change_committed_after_the_figures_is_counted_live(
    client, world, stored_with_lookback, committed_transaction_id
):
    # A long transaction stamped its history rows before the refresh and committed after
    # it: the window's count grew, so the window is read again and every settlement
    # written in it (here the fixture's, a moment ago) is counted live: neither
    # inflated figure is seen, and 配偶A's new job is.  On PostgreSQL the refresh noted
    # the transactions running then: such a one, committed since, is what the page asks.
    if committed_transaction_id is not None:
        LiveState.objects.filter(pk=1).update(open_transactions=[committed_transaction_id])
    state = LiveState.objects.get()
    inflate(world.a, "labour_force", 40)
    inflate(world.b, "labour_force", 10)
    spouse_a = world.households["a"].members.get(name="配偶A")
    record = EmploymentRecord.objects.create(
        person=spouse_a,
        kind=enums.EmploymentKind.WAGE,
        place=enums.WorkPlace.IN_COUNTY,
        start_date=timezone.localdate() - datetime.timedelta(days=3),
        position="保洁",
    )
    record.history.update(history_date=state.changes_seen_until - datetime.timedelta(minutes=5))
    assert employment_counts(client, world.county)[0] == expect(2, 4, 1)


def test_figures_of_another_day_are_not_used(client, world, stored):
    inflate(world.a, "labour_force", 40)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    LiveState.objects.filter(pk=1).update(reference_date=yesterday)
    assert employment_counts(client, world.county)[0] == expect(2, 5, 1)


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
    assert employment_counts(client, world.county)[0] == expect(2, 5, 1)


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


# --- the lists themselves (``CountedChangeList``) -----------------------------------------


def list_count(client, user, model, **params):
    """(the count the change list shows, its rows, whether that count was capped)."""
    client.force_login(user)
    response = client.get(reverse(f"admin:communities_{model}_changelist"), params)
    assert response.status_code == 200
    cl = response.context["cl"]
    return cl.result_count, len(cl.result_list), cl.paginator.capped


def test_every_list_with_figures_counts_what_it_lists_in_every_scope(client, world, stored):
    from employment.admin_filters import HouseholdEmploymentFilter, PersonEmploymentFilter

    lists = [("person", v) for v in PersonEmploymentFilter.from_figures] + [
        ("household", v) for v in HouseholdEmploymentFilter.from_figures
    ]
    assert len(lists) == 7
    users = (world.county, world.worker, world.province, world.other_county, world.admin)
    for model, value in lists:
        for user in users:
            count, rows, capped = list_count(client, user, model, employment=value)
            assert count == rows and not capped, (model, value, user.username)


def test_the_lists_read_the_stored_figures(client, world, stored):
    inflate(world.a, "zero_employment_households", 100)
    inflate(world.b, "labour_force", 40)
    inflate(world.c, "employed", 3)
    assert list_count(client, world.county, "household", employment="zero_employment")[:2] == (
        102,
        2,
    )
    assert list_count(client, world.county, "person", employment="unemployed")[:2] == (45, 5)
    assert list_count(client, world.worker, "household", employment="zero_employment")[0] == 101
    count, rows, _capped = list_count(client, world.other_county, "person", employment="employed")
    assert count == rows + 3
    # Another day (for an official who may not see birth dates, a month's end: the
    # one before today's month here), or another filter beside it: the rows are counted.
    earlier = (timezone.localdate() - datetime.timedelta(days=40)).isoformat()
    count, rows, _capped = list_count(
        client, world.county, "household", employment="zero_employment", on=earlier
    )
    assert count == rows
    count, rows, _capped = list_count(
        client, world.county, "household", employment="zero_employment", q="522301"
    )
    assert count == rows
