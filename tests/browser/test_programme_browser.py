"""Programme views and stale past periods in a real browser, as a county official.

Chooses the seeded 六心社区 view on the county dashboard, reads its themes, opens
its print layout, then sees a corrected past month announced and recomputed.
Screenshots go to ``artifacts/screenshots/``.
"""

import datetime
import importlib
import re

import pytest
from django.apps import apps
from playwright.sync_api import expect

from communities.models import Person
from communities.roles import Role
from employment import enums as eenums
from employment.models import EmploymentRecord
from relocation.dashboards import engine, tasks
from relocation.dashboards.periods import PeriodKind, period_containing
from relocation.dashboards.tests.conftest import dash  # noqa: F401  (the hand-made world)
from tests.browser.conftest import shot

seed_migration = importlib.import_module(
    "relocation.dashboards.migrations.0003_seed_programme_views"
)
LIUXIN = ["聚心", "稳心", "舒心", "安心", "开心", "齐心"]


@pytest.fixture
def county_official(transactional_db, dash):  # noqa: F811
    seed_migration.seed(apps, None)  # the shipped layouts (a flushed database lost them)
    previous = period_containing(PeriodKind.MONTH, dash.today).previous()
    engine.store_period(previous, previous.end)
    engine.refresh_live(full=True)
    dash.previous = previous
    return dash.make_user(Role.COUNTY_OFFICIAL, regions=[dash.regions.xingyi], username="county")


def log_in(page, live_server, user, path):
    page.goto(f"{live_server.url}{path}")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(user.plain_password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def test_choose_a_programme_view_and_print_it(live_server, county_official, page):
    log_in(page, live_server, county_official, "/dashboard/522301/")
    page.wait_for_url(re.compile(r"/dashboard/522301/$"))
    expect(page.locator(".dash-programme")).to_have_count(0)

    page.locator("#dash-view").select_option(label="六心社区")
    with page.expect_navigation():
        page.get_by_role("button", name="查看").click()
    assert "view=liuxin" in page.url
    themes = page.locator(".dash-programme-theme h2")
    expect(themes).to_have_count(6)
    assert [t.split()[-1] for t in themes.all_inner_texts()] == LIUXIN
    steady = page.locator('.dash-programme-theme[data-theme="稳心"]')
    expect(steady.locator('.dash-card[data-key="employment_rate"] .dash-card-value')).to_have_text(
        "50.00%"
    )
    expect(steady.locator('.dash-card[data-key="zero_employment_households"]')).to_have_count(1)
    # 聚心 names the governance app's party indicators: shown now that it is installed.
    party = page.locator('.dash-programme-theme[data-theme="聚心"]')
    expect(party.locator('.dash-card[data-key="party_members"]')).to_have_count(1)
    # The selector keeps the choice; the table shows the view's columns.
    expect(page.locator("#dash-view")).to_have_value("liuxin")
    expect(page.locator('#dash-children thead th[data-key="persons"]')).to_have_count(0)
    expect(page.locator('#dash-children thead th[data-key="employment_rate"]')).to_have_count(1)
    shot(page, "programme-01-liuxin")

    # The export link carries the view.
    assert "view=liuxin" in page.locator("#dash-export").get_attribute("href")

    # Print layout: themes as headed groups, no picker.
    page.set_viewport_size({"width": 1047, "height": 740})
    page.emulate_media(media="print")
    page.wait_for_timeout(300)
    expect(page.locator(".dash-picker")).to_be_hidden()
    expect(themes.first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1047
    shot(page, "programme-02-print")
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf[:4] == b"%PDF"


def test_a_corrected_past_month_is_announced_then_recomputed(
    live_server,
    dash,  # noqa: F811
    county_official,
    page,
    settings,
):
    settings.DASHBOARD_MAX_AGE = 0  # the next page view runs the refresh that notices it
    previous = dash.previous
    url = f"/dashboard/522301/?kind=month&period={previous.code}"
    log_in(page, live_server, county_official, url)
    total = page.locator('#dash-children tfoot td[data-key="employed"]')
    expect(total).to_have_text("1")
    expect(page.locator("#dash-stale")).to_have_count(0)

    # Found late: 配偶一 had a job from the 10th of that month.
    EmploymentRecord.objects.create(
        person=Person.objects.get(name="配偶一"),
        kind=eenums.EmploymentKind.WAGE,
        place=eenums.WorkPlace.IN_COUNTY,
        employer_name="兴义某厂",
        start_date=previous.start + datetime.timedelta(days=9),
    )
    page.reload()
    expect(page.locator("#dash-stale")).to_contain_text("本期数据已更正，正在重新计算…")
    expect(total).to_have_text("1")  # the stored figure until the worker ran
    shot(page, "programme-03-stale-notice")

    tasks.recompute_stale_periods.call()  # what the job worker runs
    page.reload()
    expect(page.locator("#dash-stale")).to_have_count(0)
    expect(total).to_have_text("2")
    shot(page, "programme-04-recomputed")
