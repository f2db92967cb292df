"""Pages: landing, scope (URLs, figures, drill-down lists), query counts, export."""

import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from communities import enums
from communities.models import Region
from communities.roles import Role
from communities.tests.factories import HouseholdFactory, PersonFactory, SettlementFactory
from relocation.dashboards import engine

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15
# Sections whose linked figures count the rows of their lists.
COUNTED_ROWS = {"population", "employment", "income", "plan"}


@pytest.fixture
def users(live):
    rt, make = live.regions, live.make_user
    return {
        "county": make(Role.COUNTY_OFFICIAL, regions=[rt.xingyi]),
        "prefecture": make(Role.PREFECTURE_OFFICIAL, regions=[rt.qianxinan]),
        "other_county": make(Role.COUNTY_OFFICIAL, regions=[rt.zhongshan]),
        "worker": make(Role.COMMUNITY_WORKER, settlements=[live.s1]),
        "worker2": make(Role.COMMUNITY_WORKER, settlements=[live.s1, live.s2]),
        "nobody": make(Role.COUNTY_OFFICIAL),
    }


def page(client, user, url, status=200):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response


def cell(html, row_key, indicator):
    match = re.search(
        rf'<tr data-key="{row_key}">.*?<td class="num" data-key="{indicator}">(?:<a href="[^"]*">)?([^<]*)<',
        html,
        re.S,
    )
    assert match, (row_key, indicator)
    return match.group(1)


def test_officials_land_on_their_own_area(client, users, live):
    client.force_login(users["county"])
    assert client.get("/").url == "/dashboard/"
    assert client.get("/dashboard/").url == "/dashboard/522301/"
    client.force_login(users["prefecture"])
    assert client.get("/dashboard/?kind=year").url == "/dashboard/522300/?kind=year"
    client.force_login(users["worker"])
    assert client.get("/dashboard/").url == f"/dashboard/settlement/{live.s1.pk}/"
    client.logout()
    assert client.get("/dashboard/").url.startswith("/admin/login/?next=/dashboard/")


def test_county_page_shows_cards_table_and_definitions(client, users, live):
    html = page(client, users["county"], "/dashboard/522301/").content.decode()
    assert "兴义市" in html and "稳得住" in html and "有就业" in html and "能致富" in html
    assert cell(html, "522301001", "employment_rate") == "33.33%"
    assert cell(html, "522301002", "employment_rate") == "100.00%"
    assert cell(html, f"s{live.s3.pk}", "employment_rate") == "—"
    assert cell(html, "total", "employment_rate") == "50.00%"
    assert cell(html, "total", "per_capita_net_income") == "7,400"
    assert "已就业人数 ÷ 劳动力人数。" in html  # the definition travels with the card
    assert 'href="/dashboard/522301001/"' in html
    assert "echarts.min.js" in html and 'id="dashboard-data"' in html
    # No other county's figures: 钟山区's settlement is not a row, nor in the totals.
    assert "德坞新区" not in html and "黄土坡街道" not in html


def test_sorting_by_a_column(client, users, live):
    html = page(client, users["county"], "/dashboard/522301/?sort=employment_rate&dir=desc")
    order = re.findall(r"<tr data-key=\"([^\"]+)\">", html.content.decode())[:-1]
    assert order == ["522301002", "522301001", f"s{live.s3.pk}"]  # "—" last
    html = page(client, users["county"], "/dashboard/522301/?sort=employment_rate&dir=asc")
    order = re.findall(r"<tr data-key=\"([^\"]+)\">", html.content.decode())[:-1]
    assert order == ["522301001", "522301002", f"s{live.s3.pk}"]


def test_out_of_scope_urls_answer_404(client, users, live):
    county, worker = users["county"], users["worker"]
    page(client, county, "/dashboard/520201/", 404)  # another county
    page(client, county, "/dashboard/520000/", 404)  # the province above
    page(client, county, "/dashboard/522300/", 404)  # the prefecture above
    page(client, county, f"/dashboard/settlement/{live.s4.pk}/", 404)
    page(client, county, "/dashboard/999999/", 404)
    page(client, worker, "/dashboard/522301/", 404)
    page(client, worker, f"/dashboard/settlement/{live.s2.pk}/", 404)
    page(client, worker, f"/dashboard/settlement/{live.s1.pk}/")
    page(client, users["other_county"], "/dashboard/522301001/", 404)
    response = page(client, users["nobody"], "/dashboard/", 403)
    assert "管辖范围" in response.content.decode()


def test_worker_with_two_settlements_sees_only_theirs(client, users, live):
    html = page(client, users["worker2"], "/dashboard/").content.decode()
    assert "阳光新区" in html and "栗坪安置点" in html
    assert "空置安置点" not in html and "德坞新区" not in html
    assert cell(html, "total", "labour_force") == "4"
    assert cell(html, "total", "settlements") == "2"
    assert cell(html, f"s{live.s1.pk}", "employment_rate") == "33.33%"


def test_settlement_counts_link_to_the_rows_behind_them(client, users, live):
    """Every linked number on a settlement page equals the rows of its admin list."""
    county = users["county"]
    html = page(client, county, f"/dashboard/settlement/{live.s1.pk}/").content.decode()
    links = re.findall(
        r'<tr data-key="(\w+)">\s*<td>[^<]*</td>\s*<td class="num"><a href="([^"]+)">([^<]+)</a>',
        html,
    )
    keys = {key for key, _url, _text in links}
    assert {
        "households",
        "persons",
        "labour_force",
        "employed",
        "zero_employment_households",
    } <= keys
    assert "households_below_monitoring_line" in keys and "referrals" in keys
    client.force_login(live.admin)
    from relocation.dashboards.registry import registry

    for key, url, text in links:
        listing = client.get(url.replace("&amp;", "&"))
        assert listing.status_code == 200, url
        if registry.indicators[key].section not in COUNTED_ROWS:
            continue  # sums over the rows (人次, 万元): the app's own tests check those
        rows = listing.content.decode().count('name="_selected_action"')
        assert rows == int(text.replace(",", "")), (key, url, rows, text)
    # The labour-force list names exactly the three.
    url = {k: u for k, u, _t in links}["labour_force"].replace("&amp;", "&")
    client.force_login(county)
    listing = client.get(url).content.decode()
    for name in ("户主一", "配偶一", "长子一"):
        assert name in listing
    assert "次女一" not in listing


def test_drill_down_list_is_scoped(client, users, live):
    """Another county's official following the same link sees none of the rows."""
    county = users["county"]
    html = page(client, county, f"/dashboard/settlement/{live.s1.pk}/").content.decode()
    url = re.search(r'href="(/admin/communities/person/\?[^"]+employment=labour[^"]*)"', html)
    client.force_login(users["other_county"])
    listing = client.get(url.group(1).replace("&amp;", "&")).content.decode()
    assert "户主一" not in listing and "配偶一" not in listing


def _extra_settlements(region_tree, count):
    """``count`` more settlements, each in its own new county and township."""
    for i in range(count):
        county = Region.objects.create(
            code=f"5223{30 + i:02d}",
            name=f"测试县{i}",
            level=enums.RegionLevel.COUNTY,
            parent=region_tree.qianxinan,
        )
        town = Region.objects.create(
            code=f"{county.code}001",
            name=f"测试镇{i}",
            level=enums.RegionLevel.TOWNSHIP,
            parent=county,
        )
        settlement = SettlementFactory(county=county, township=town)
        household = HouseholdFactory(settlement=settlement)
        PersonFactory(household=household, age=30, relationship=enums.Relationship.HEAD)


def _count_queries(client, url):
    client.get(url)  # warm the session and the live-state row
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/dashboard/", "/dashboard/520000/", "/dashboard/522300/"])
def test_query_count_does_not_grow_with_areas(client, live, url):
    client.force_login(live.admin)
    before = _count_queries(client, url)
    _extra_settlements(live.regions, 12)
    engine.refresh_live(full=True)
    after = _count_queries(client, url)
    assert after == before
    assert after <= MAX_QUERIES
    html = client.get(url).content.decode()
    if url == "/dashboard/522300/":
        assert html.count('<tr data-key="5223') == 13  # 兴义市 and the twelve


def test_settlement_page_query_count(client, users, live):
    client.force_login(users["county"])
    assert _count_queries(client, f"/dashboard/settlement/{live.s1.pk}/") <= MAX_QUERIES


def test_export_contains_the_view(client, users, live):
    response = page(client, users["county"], "/dashboard/522301/?kind=month&format=xlsx")
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert "兴义市" in rows[0][0] and "数据看板" in rows[0][0]
    header = {row[0]: row[1] for row in rows[1:8] if row and row[0]}
    assert header["区域"] == "兴义市"
    assert header["统计期"] == f"{live.today.year}年{live.today.month}月"
    assert header["统计日期"] == live.today.isoformat()
    assert header["收入年度"] == live.year
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", header["数据计算时间"])
    cards = {row[0]: row for row in rows if row and row[0] and len(row) > 5 and row[5]}
    assert cards["就业率"][1] == 50.0 and cards["就业率"][2] == "%"
    # Shown with the indicator's places, as on the page: 50.00, not Excel's 50.
    rate = next(row for row in sheet.iter_rows() if row[0].value == "就业率")
    assert rate[1].number_format == "0.00"
    labour = next(row for row in sheet.iter_rows() if row[0].value == "劳动力人数")
    assert labour[1].number_format == "General"
    assert cards["劳动力人数"][1] == 4
    assert cards["人均纯收入"][1] == 7400
    table = {
        row[0]: row
        for row in rows
        if row and row[0] in ("黄草街道", "兴泰街道", "空置安置点", "合计")
    }
    assert set(table) == {"黄草街道", "兴泰街道", "空置安置点", "合计"}
    header_row = next(row for row in rows if row and row[0] == "乡镇（街道）")
    col = header_row.index("就业率（%）")
    assert table["黄草街道"][col] == 33.33
    assert table["空置安置点"][col] == "—"
    assert table["合计"][col] == 50.0
    assert sheet.page_setup.orientation == "landscape"
    assert "德坞新区" not in str(rows)


def test_export_of_another_area_is_404(client, users, live):
    page(client, users["county"], "/dashboard/520201/?format=xlsx", 404)


def test_past_period_without_snapshot_says_so(client, users, live):
    html = page(client, users["county"], "/dashboard/522301/?kind=year&period=2019")
    assert "还没有保存的指标数据" in html.content.decode()


def test_every_breakdown_an_app_declares_is_on_the_page(client, users, live):
    """By-kind figures of any app (facilities, funds by source …) get a small table each."""
    from relocation.dashboards.registry import registry

    client.force_login(users["county"])
    body = client.get("/dashboard/522301/").content.decode()
    own_charts = {"persons_by_year", "households_by_year"}
    declared = [i for i in registry.indicators.values() if i.breakdown and i.key not in own_charts]
    for indicator in declared:
        assert f'data-breakdown="{indicator.key}"' in body, indicator.key
        for label, _component in indicator.breakdown:
            assert f"<th>{label}</th>" in body, (indicator.key, label)


def test_a_label_that_names_its_unit_gets_it_once(client, users, live):
    """投入资金按来源（万元） is the catalogue's label: its table, the columns and the
    export say 万元 once; a label without its unit gets it in brackets."""
    from relocation.dashboards.dashboard import with_unit

    assert with_unit("投入资金（万元）", "万元") == "投入资金（万元）"
    assert with_unit("投入资金(万元)", "万元") == "投入资金(万元)"
    assert with_unit("就业率", "%") == "就业率（%）"
    assert with_unit("劳动力人数", "人") == "劳动力人数（人）"
    assert with_unit("指数", "") == "指数"
    client.force_login(users["county"])
    body = client.get("/dashboard/522301/").content.decode()
    assert "<caption>投入资金按来源（万元）</caption>" in body
    assert "就业率（%）" in body and "劳动力人数（人）" in body
    assert not re.search(r"（([^（）]+)）（\1）", body)
    sheet = load_workbook(io.BytesIO(client.get("/dashboard/522301/?format=xlsx").content)).active
    cells = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v]
    assert not [c for c in cells if re.search(r"（([^（）]+)）（\1）", c)]
    assert "就业率（%）" in cells


def test_a_value_shown_with_its_unit_has_a_label_without_it(client, users, live):
    """The card and the details row show 「456.26 万元」: their label is 「投入资金」, not
    「投入资金（万元）」, so the unit is not said twice; a label without its unit is kept."""
    from relocation.dashboards.dashboard import without_unit

    assert without_unit("投入资金（万元）", "万元") == "投入资金"
    assert without_unit("Funds (10,000 yuan)", "10,000 yuan") == "Funds"
    assert without_unit("就业率", "%") == "就业率"
    assert without_unit("（万元）", "万元") == "（万元）"
    assert without_unit("指数", "") == "指数"
    client.force_login(users["county"])
    body = client.get("/dashboard/522301/").content.decode()
    cards = re.findall(
        r'data-key="funding_total"[^>]*>\s*<div class="dash-card-label">([^<]*)</div>', body
    )
    assert cards == ["投入资金"]
    body = client.get(f"/dashboard/settlement/{live.s1.pk}/").content.decode()
    row = re.search(
        r'<tr data-key="funding_total">\s*<td>([^<]*)</td>\s*<td class="num">(.*?)</td>', body, re.S
    )
    assert row, "the details table lists the funds"
    assert row.group(1) == "投入资金"
    assert row.group(2).count("万元") == 1
    assert "投入资金（万元）" not in re.sub(
        r"<caption>.*?</caption>|<th[^>]*>.*?</th>", "", body, flags=re.S
    )
