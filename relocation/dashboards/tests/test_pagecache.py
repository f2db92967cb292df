"""Kept dashboard bodies (relocation/dashboards/pagecache.py): served again only to
those who would see the same page, and never after the figures were recomputed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.roles import Role
from employment import enums as eenums
from employment.models import EmploymentRecord
from relocation.dashboards import engine, views
from relocation.dashboards.models import StaleFigure
from relocation.dashboards.periods import PeriodKind, period_containing

from .test_views import cell

pytestmark = pytest.mark.django_db


@pytest.fixture
def county(live):
    return live.make_user(Role.COUNTY_OFFICIAL, regions=[live.regions.xingyi])


@pytest.fixture
def counted_builds(monkeypatch):
    """How many times the view built a dashboard (rendered a body afresh)."""
    calls = []
    real = views.build

    def build(*args, **kwargs):
        calls.append(args[0].name)
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "build", build)
    return calls


def get(client, user, url, **extra):
    client.force_login(user)
    response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_the_same_page_again_is_not_built_again(client, county, counted_builds):
    first = get(client, county, "/dashboard/522301/")
    with CaptureQueriesContext(connection) as again:
        second = get(client, county, "/dashboard/522301/")
    assert counted_builds == ["兴义市"]
    assert cell(second, "total", "employment_rate") == "50.00%"
    assert second == first.replace(*_csrf(first, second))
    first_queries = _queries(client, county, "/dashboard/522301/?kind=year")
    assert len(again) < len(first_queries) - 2, (len(again), len(first_queries))


def _queries(client, user, url):
    with CaptureQueriesContext(connection) as queries:
        get(client, user, url)
    return queries


def _csrf(first, second):
    """The sign-out form's token (rendered for every request) as (first's, second's)."""
    token = 'name="csrfmiddlewaretoken" value="'

    def value(html):
        start = html.index(token) + len(token)
        return html[start : html.index('"', start)]

    return value(first), value(second)


def test_recomputed_figures_are_shown_at_once(client, county, live, counted_builds):
    assert cell(get(client, county, "/dashboard/522301/"), "total", "employment_rate") == "50.00%"
    # 配偶一 (s1, labour) finds a job; the refresh stores the period with a new time.
    EmploymentRecord.objects.create(
        person=live.p2,
        kind=eenums.EmploymentKind.WAGE,
        place=eenums.WorkPlace.IN_COUNTY,
        employer_name="兴义某厂",
        start_date=timezone.localdate().replace(day=1),
    )
    engine.refresh_live(full=True)
    html = get(client, county, "/dashboard/522301/")
    assert cell(html, "total", "employment_rate") == "75.00%"
    assert counted_builds == ["兴义市", "兴义市"]


def test_a_body_is_never_served_to_another_scope(client, live, counted_builds):
    """Two workers' overviews have the same address and differ only by their settlements."""
    both_xingyi = live.make_user(Role.COMMUNITY_WORKER, settlements=[live.s1, live.s2])
    with_zhongshan = live.make_user(Role.COMMUNITY_WORKER, settlements=[live.s1, live.s4])
    mine = get(client, both_xingyi, "/dashboard/")
    assert "栗坪安置点" in mine and "德坞新区" not in mine
    theirs = get(client, with_zhongshan, "/dashboard/")
    assert "德坞新区" in theirs and "栗坪安置点" not in theirs
    assert cell(theirs, "total", "employment_rate") == "16.67%"  # 1 of s1's 3 + s4's 0 of 3
    # Same scope, another account: the kept body is the right one to serve.
    same = live.make_user(Role.COMMUNITY_WORKER, settlements=[live.s2, live.s1])
    assert "栗坪安置点" in get(client, same, "/dashboard/")
    assert len(counted_builds) == 2


def test_each_language_and_period_has_its_own_body(client, county, counted_builds):
    chinese = get(client, county, "/dashboard/522301/")
    english = get(client, county, "/dashboard/522301/", HTTP_ACCEPT_LANGUAGE="en")
    assert "各乡镇（街道）指标" in chinese and "各乡镇（街道）指标" not in english
    year = get(client, county, "/dashboard/522301/?kind=year")
    code = period_containing(PeriodKind.YEAR, timezone.localdate()).code
    assert f'value="{code}" data-kind="year" selected' in year
    sorted_desc = get(client, county, "/dashboard/522301/?sort=employment_rate&dir=desc")
    assert sorted_desc.index('data-key="522301002"') < sorted_desc.index('data-key="522301001"')
    assert len(counted_builds) == 4
    # Unknown choices read as the defaults, so they share the default's body.
    get(client, county, "/dashboard/522301/?sort=nonsense&rank=nonsense")
    assert len(counted_builds) == 4


def test_a_correction_noticed_later_shows_on_a_kept_past_period(client, county, live):
    today = timezone.localdate()
    last_month = period_containing(PeriodKind.MONTH, today).previous()
    period = engine.store_period(last_month, last_month.end)
    url = f"/dashboard/522301/?kind=month&period={last_month.code}"
    assert "更正发现于" not in get(client, county, url)
    StaleFigure.objects.create(
        period=period,
        settlement=live.s1,
        county_code="522301",
        township_code="522301001",
        source="employment",
        marked_at=timezone.now(),
    )
    assert "更正发现于" in get(client, county, url)


def test_turned_off_every_view_is_built(client, county, counted_builds, settings):
    settings.DASHBOARD_PAGE_CACHE = 0
    get(client, county, "/dashboard/522301/")
    get(client, county, "/dashboard/522301/")
    assert counted_builds == ["兴义市", "兴义市"]
