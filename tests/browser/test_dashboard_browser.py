"""The dashboards in a real browser, as a county official.

Logs in from the site root, lands on the county's dashboard, reads a card and
its definition, drills down township → settlement → the people behind a
number, exports the view, and checks the print layout and the page without
JavaScript.  Screenshots go to ``artifacts/screenshots/``.
"""

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from communities.roles import Role
from relocation.dashboards import engine
from relocation.dashboards.periods import PeriodKind, period_containing
from relocation.dashboards.tests.conftest import dash  # noqa: F401  (the hand-made world)
from tests.browser.conftest import CHROMIUM_ARGS, VIEWPORT, shot


@pytest.fixture
def county_official(transactional_db, dash):  # noqa: F811
    previous = period_containing(PeriodKind.MONTH, dash.today).previous()
    engine.store_period(previous, previous.end)
    engine.refresh_live(full=True)
    return dash.make_user(Role.COUNTY_OFFICIAL, regions=[dash.regions.xingyi], username="county")


def log_in_from_root(page, live_server, user):
    page.goto(f"{live_server.url}/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(user.plain_password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def test_county_official_reads_drills_down_and_exports(live_server, dash, county_official, page):  # noqa: F811
    log_in_from_root(page, live_server, county_official)
    page.wait_for_url(re.compile(r"/dashboard/522301/$"))
    expect(page.locator("h1")).to_contain_text("兴义市")

    # A headline card: value, change against last month, definition on click.
    card = page.locator('.dash-card[data-key="employment_rate"]')
    expect(card.locator(".dash-card-value")).to_have_text("50.00%")
    expect(card.locator(".dash-card-change")).to_contain_text("+25.00 个百分点")
    assert card.get_attribute("title") == "已就业人数 ÷ 劳动力人数。"
    card.locator("summary").click()
    expect(card.locator("details")).to_contain_text("已就业人数 ÷ 劳动力人数。")

    # The charts were drawn by ECharts from our own static files.
    assert page.evaluate("typeof window.echarts") == "object"
    for name in ("childRates", "incomeShares", "ranking", "personsByYear", "trend"):
        figure = page.locator(f'.dash-chart[data-chart="{name}"]')
        expect(figure).to_have_class(re.compile("dash-charts-on"))
        # The trend: rates, then 搬迁人口 and 人均纯收入 each on its own chart from zero.
        expect(figure.locator("canvas")).to_have_count(3 if name == "trend" else 1)
        expect(figure.locator(".dash-chart-table")).to_be_hidden()
    expect(page.locator("#dash-children tfoot td[data-key='employment_rate']")).to_have_text(
        "50.00%"
    )
    page.wait_for_timeout(300)  # let the charts finish drawing for the screenshot
    shot(page, "dashboard-01-county")

    # Drill down: township, then settlement.
    page.locator("#dash-children").get_by_role("link", name="黄草街道").click()
    page.wait_for_url(re.compile(r"/dashboard/522301001/$"))
    expect(page.locator(".breadcrumbs")).to_contain_text("兴义市")
    page.locator("#dash-children").get_by_role("link", name="阳光新区").click()
    page.wait_for_url(re.compile(rf"/dashboard/settlement/{dash.s1.pk}/$"))
    labour = page.locator('#dash-details tr[data-key="labour_force"] a')
    expect(labour).to_have_text("3")
    shot(page, "dashboard-02-settlement")

    # The people behind the number, in the admin, scoped and filtered.
    labour.click()
    page.wait_for_url(re.compile(r"/admin/communities/person/\?"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    for name in ("户主一", "配偶一", "长子一"):
        expect(page.locator("#result_list")).to_contain_text(name)
    expect(page.locator("#result_list")).not_to_contain_text("次女一")
    shot(page, "dashboard-03-labour-list")

    # Back to the county and export the view.
    page.goto(f"{live_server.url}/dashboard/522301/")
    with page.expect_download() as download_info:
        page.locator("#dash-export").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as file:
        sheet = load_workbook(io.BytesIO(file.read())).active
    values = list(sheet.iter_rows(values_only=True))
    assert "兴义市" in values[0][0]
    rates = {row[0]: row[1] for row in values if row and row[0] == "就业率"}
    assert rates == {"就业率": 50.0}

    # Print layout: A4 landscape (277 mm of width at 96 dpi inside the margins),
    # the picker and the admin header hidden, the table inside the page.
    page.set_viewport_size({"width": 1047, "height": 740})
    page.emulate_media(media="print")
    page.wait_for_timeout(300)
    # On paper the child-area table is cut by section: every table fits the page.
    widths = page.evaluate(
        "[...document.querySelectorAll('table.dash-print-only')].map(t => t.scrollWidth)"
    )
    assert len(widths) >= 4 and max(widths) <= 1047, widths
    assert (
        page.evaluate("getComputedStyle(document.getElementById('dash-children')).display")
        == "none"
    )
    expect(page.locator(".dash-picker")).to_be_hidden()
    expect(page.locator("#header")).to_be_hidden()
    shot(page, "dashboard-04-print")
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf[:4] == b"%PDF"
    size = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    width, height = float(size.group(1)), float(size.group(2))
    assert width > height and abs(width - 841.9) < 2 and abs(height - 595.3) < 2


def test_without_javascript_every_number_is_in_tables(live_server, county_official, browser):
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in_from_root(page, live_server, county_official)
        page.wait_for_url(re.compile(r"/dashboard/522301/$"))
        for name in ("childRates", "incomeShares", "personsByYear", "trend"):
            expect(
                page.locator(f'.dash-chart[data-chart="{name}"] .dash-chart-table')
            ).to_be_visible()
        income = page.locator('.dash-chart[data-chart="incomeShares"] table')
        expect(income).to_contain_text("86.49%")
        expect(page.locator('.dash-chart[data-chart="trend"] table tbody tr')).to_have_count(2)
        # Sorting works through links.
        page.locator('#dash-children thead th[data-key="employment_rate"] a').click()
        first = page.locator("#dash-children tbody tr").first
        expect(first).to_contain_text("兴泰街道")
        shot(page, "dashboard-05-no-javascript")
    finally:
        context.close()
    assert CHROMIUM_ARGS  # the same launch options as every browser test
