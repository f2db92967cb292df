"""The dashboard as officials use it daily, in Chromium (issue 13, "Dashboards").

Drill-down from a county card and a township cell to the right rows, colours
that follow each indicator's direction, chart axes read back from ECharts, the
ranked comparison, the period picker (with and without JavaScript) and the
page at phone width.  Screenshots go to ``artifacts/screenshots/dashui-*.png``.
"""

import re

import pytest
from playwright.sync_api import expect

from communities import enums
from communities.roles import Role
from communities.tests.factories import PersonFactory
from relocation.dashboards import engine
from relocation.dashboards.periods import PeriodKind, period_containing
from relocation.dashboards.tests.conftest import dash  # noqa: F401  (the hand-made world)
from tests.browser.conftest import SCREENSHOT_DIR, TIMEOUT_MS, login, shot

GREEN, RED, GREY = "rgb(30, 107, 53)", "rgb(179, 38, 30)", "rgb(102, 102, 102)"


@pytest.fixture
def world(transactional_db, dash):  # noqa: F811
    """Last month stored (零就业家庭 1 → 0 in 兴义市, 就业率 25 % → 50 %), then three
    more people in 阳光新区 (搬迁人口 5 → 8): the trend must not draw a cliff."""
    previous = period_containing(PeriodKind.MONTH, dash.today).previous()
    engine.store_period(previous, previous.end)
    for name in ("新成员一", "新成员二", "新成员三"):
        PersonFactory(household=dash.h1, name=name, age=5, relationship=enums.Relationship.SON)
    engine.refresh_live(full=True)
    dash.county = dash.make_user(
        Role.COUNTY_OFFICIAL, regions=[dash.regions.xingyi], username="county"
    )
    dash.prefecture = dash.make_user(
        Role.PREFECTURE_OFFICIAL, regions=[dash.regions.qianxinan], username="prefecture"
    )
    return dash


def open_dashboard(page, live_server, user, path):
    login(page, live_server, user)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_function("document.querySelectorAll('.dash-charts-on').length > 0")


def chart_option(page, selector, index=0):
    """The ECharts option of the ``index``-th chart element matching ``selector``."""
    return page.evaluate(
        """([selector, index]) => {
            const element = document.querySelectorAll(selector)[index];
            return JSON.parse(JSON.stringify(window.echarts.getInstanceByDom(element).getOption()));
        }""",
        [selector, index],
    )


def axis_extent(page, selector, axis="yAxis", index=0):
    """The drawn extent [min, max] of a chart's value axis (what the eye sees)."""
    return page.evaluate(
        """([selector, axis, index]) => {
            const element = document.querySelectorAll(selector)[index];
            const model = window.echarts.getInstanceByDom(element).getModel();
            return model.getComponent(axis, 0).axis.scale.getExtent();
        }""",
        [selector, axis, index],
    )


def test_county_card_and_township_cell_drill_down_to_the_rows(live_server, world, page):
    open_dashboard(page, live_server, world.county, "/dashboard/522301/")
    card = page.locator('.dash-card[data-key="labour_force"] .dash-card-value a')
    expect(card).to_have_text("4")
    card.click()
    page.wait_for_url(re.compile(r"/admin/communities/person/\?.*area=522301"))
    expect(page.locator("#result_list tbody tr")).to_have_count(4)
    for name in ("户主一", "配偶一", "长子一", "户主二"):
        expect(page.locator("#result_list")).to_contain_text(name)
    expect(page.locator("#result_list")).not_to_contain_text("户主三")
    shot(page, "dashui-03-county-labour-list")

    page.go_back()
    cell = page.locator('#dash-children tr[data-key="522301001"] td[data-key="households"] a')
    expect(cell).to_have_text("1")
    cell.click()
    page.wait_for_url(re.compile(r"/admin/communities/household/\?.*area=522301001"))
    expect(page.locator("#result_list tbody tr")).to_have_count(1)


def test_colours_follow_the_direction(live_server, world, page):
    open_dashboard(page, live_server, world.county, "/dashboard/522301/")

    def change(key):
        return page.locator(f'.dash-card[data-key="{key}"] .dash-card-change')

    # 零就业家庭 fell by one: good news, green, although the change is negative.
    expect(change("zero_employment_households")).to_contain_text("-1")
    expect(change("zero_employment_households")).to_have_css("color", GREEN)
    expect(change("employment_rate")).to_contain_text("+25.00")
    expect(change("employment_rate")).to_have_css("color", GREEN)
    # 搬迁人口 rose by three: neither good nor bad, grey.
    expect(change("persons")).to_contain_text("+3")
    expect(change("persons")).to_have_css("color", GREY)

    # A rise of 零就业家庭 is red: 户主一 loses his job, so 阳光新区 goes from 0 to 1.
    from employment.models import EmploymentRecord

    EmploymentRecord.objects.filter(person__name="户主一").delete()
    engine.refresh_live(full=True)
    page.goto(f"{live_server.url}/dashboard/settlement/{world.s1.pk}/")
    row = page.locator('#dash-details tr[data-key="zero_employment_households"] td').nth(2)
    expect(row).to_contain_text("+1")
    expect(row).to_have_css("color", RED)
    shot(page, "dashui-02-colours-settlement")


def test_chart_axes_start_counts_at_zero(live_server, world, page):
    open_dashboard(page, live_server, world.county, "/dashboard/522301/")
    small = '.dash-chart[data-chart="trend"] .dash-canvas-small'
    expect(page.locator(small)).to_have_count(2)  # 搬迁人口 and 人均纯收入, each its own chart
    for index in range(2):
        option = chart_option(page, small, index)
        assert option["yAxis"][0]["min"] == 0
        low, high = axis_extent(page, small, index=index)
        assert low == 0 and high > 0
    persons = chart_option(page, small, 0)
    assert persons["series"][0]["data"][-2:] == [5, 8]
    # The rates keep a readable range: at least ten points, inside 0–100 %.
    low, high = axis_extent(page, '.dash-chart[data-chart="trend"] > .dash-canvas')
    assert low >= 0 and high <= 100 and high - low >= 10
    rates = chart_option(page, '.dash-chart[data-chart="trend"] > .dash-canvas')
    assert {s["name"] for s in rates["series"]} == {"就业率", "一户一人以上就业率"}
    page.locator('.dash-chart[data-chart="trend"]').scroll_into_view_if_needed()
    shot(page, "dashui-01-county-1366")


def test_ranked_comparison_of_any_indicator(live_server, world, page):
    open_dashboard(page, live_server, world.county, "/dashboard/522301/")
    ranking = "#dash-ranking .dash-canvas"
    expect(page.locator("#dash-ranking .dash-rank-submit")).to_be_hidden()
    option = chart_option(page, ranking)
    # Highest first; 空置安置点 has no labour force, so no bar; the line is 兴义市's 50 %
    # (2 employed of 4), not the mean of 100 % and 33.33 %.
    assert option["yAxis"][0]["data"] == ["兴泰街道", "黄草街道"]
    assert option["series"][0]["data"] == [100, 33.33]
    assert option["series"][0]["markLine"]["data"][0]["xAxis"] == 50
    url = page.url
    page.select_option("#dash-rank", "labour_force")
    page.wait_for_function(
        "document.getElementById('dash-ranking').getAttribute('data-rank') === 'labour_force'"
    )
    assert page.url == url  # redrawn at once, no round trip
    option = chart_option(page, ranking)
    assert option["yAxis"][0]["data"] == ["黄草街道", "兴泰街道", "空置安置点"]
    assert option["series"][0]["data"] == [3, 1, 0]
    # A count: the line is the total per township (4 ÷ 3), the bars start at zero.
    assert option["series"][0]["markLine"]["data"][0]["xAxis"] == 1.3
    assert axis_extent(page, ranking, "xAxis")[0] == 0  # a count: bars from zero
    page.locator("#dash-ranking").scroll_into_view_if_needed()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.locator("#dash-ranking").screenshot(path=str(SCREENSHOT_DIR / "dashui-04-ranking.png"))


def test_period_picker_switches_at_once(live_server, world, page, browser):
    open_dashboard(page, live_server, world.county, "/dashboard/522301/")
    url = page.url
    period = page.locator("#dash-period option")
    expect(period.first).to_have_attribute("data-kind", "month")
    page.select_option("#dash-kind", "year")
    kinds = period.evaluate_all("options => options.map(o => o.dataset.kind)")
    assert set(kinds) == {"year"} and kinds
    assert page.url == url
    year = period_containing(PeriodKind.YEAR, world.today)
    assert page.locator("#dash-period").input_value() == year.code
    page.select_option("#dash-kind", "quarter")
    assert set(period.evaluate_all("options => options.map(o => o.dataset.kind)")) == {"quarter"}
    page.select_option("#dash-kind", "year")
    with page.expect_navigation():
        page.get_by_role("button", name="查看").click()
    assert f"kind=year&period={year.code}" in page.url
    expect(page.locator(".dash-meta")).to_contain_text(f"{year.start.year}年")

    # Without JavaScript: every kind's periods, grouped; 季度 + 查看 shows the quarter.
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", java_script_enabled=False
    )
    context.set_default_timeout(TIMEOUT_MS)
    plain = context.new_page()
    try:
        login(plain, live_server, world.county)
        plain.goto(f"{live_server.url}/dashboard/522301/")
        groups = plain.locator("#dash-period optgroup")
        expect(groups).to_have_count(3)
        plain.select_option("#dash-kind", "quarter")
        with plain.expect_navigation():
            plain.get_by_role("button", name="查看").click()
        quarter = period_containing(PeriodKind.QUARTER, world.today)
        assert plain.locator("#dash-period").input_value() == quarter.code
        expect(plain.locator(".dash-meta")).to_contain_text(str(quarter.label))
        # The ranked comparison asks the server.
        plain.select_option("#dash-rank", "labour_force")
        with plain.expect_navigation():
            plain.locator(".dash-rank-submit").click()
        first = plain.locator("#dash-ranking-table tbody tr").first
        expect(first).to_contain_text("黄草街道")
    finally:
        context.close()


@pytest.mark.parametrize(
    "who, path",
    [
        ("county", "/dashboard/522301/"),
        ("county", "/dashboard/522301001/"),
        ("county", "settlement"),
        ("prefecture", "/dashboard/522300/"),
        ("admin", "/dashboard/520000/"),
        ("admin", "/dashboard/"),
    ],
)
def test_phone_width_has_no_sideways_scroll(live_server, world, phone_page, who, path):
    user = getattr(world, who)
    path = f"/dashboard/settlement/{world.s1.pk}/" if path == "settlement" else path
    page = phone_page
    open_dashboard(page, live_server, user, path)
    page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    # Cards stack two to a row, inside the screen; the wide table scrolls inside its own box.
    boxes = page.locator(".dash-card").evaluate_all(
        "cards => cards.map(c => [c.getBoundingClientRect().left, c.getBoundingClientRect().right])"
    )
    assert len({round(left) for left, _right in boxes}) == 2
    assert max(right for _left, right in boxes) <= 390
    table = "#dash-children" if path != f"/dashboard/settlement/{world.s1.pk}/" else "#dash-details"
    sizes = page.locator(table).evaluate(
        "t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]"
    )
    assert sizes[1] <= 390
    # Charts resized to the screen.
    widths = page.locator(".dash-chart canvas").evaluate_all(
        "canvases => canvases.map(c => c.getBoundingClientRect().right)"
    )
    assert widths and max(widths) <= 390
    if who == "county" and path == "/dashboard/522301/":
        assert sizes[0] > sizes[1]  # 20-odd columns: scrolled inside the box
        shot(page, "dashui-05-county-phone")


def test_desktop_screenshot_1366(live_server, world, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        open_dashboard(page, live_server, world.county, "/dashboard/522301/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        page.wait_for_timeout(200)
        shot(page, "dashui-06-county-1366x768")
    finally:
        context.close()
