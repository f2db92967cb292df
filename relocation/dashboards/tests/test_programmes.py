"""Programme views: seeded layouts, the page, print and export by theme, scope, validation."""

import importlib
import io
import re

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from communities.roles import Role
from relocation.dashboards.models import ProgrammeItem, ProgrammeTheme, ProgrammeView

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15
seed_migration = importlib.import_module(
    "relocation.dashboards.migrations.0003_seed_programme_views"
)


@pytest.fixture
def users(live):
    rt, make = live.regions, live.make_user
    return {
        "county": make(Role.COUNTY_OFFICIAL, regions=[rt.xingyi]),
        "worker": make(Role.COMMUNITY_WORKER, settlements=[live.s1]),
        "administrator": make(Role.ADMINISTRATOR, regions=[rt.guizhou]),
    }


def make_view(key="test-view", name="测试视图", themes=(), active=True, order=1):
    view = ProgrammeView.objects.create(key=key, name=name, active=active, order=order)
    for theme_order, (theme_name, keys) in enumerate(themes, start=1):
        theme = ProgrammeTheme.objects.create(view=view, name=theme_name, order=theme_order)
        for order, key_ in enumerate(keys, start=1):
            ProgrammeItem.objects.create(theme=theme, indicator=key_, order=order)
    return view


@pytest.fixture(autouse=True)
def apps_to_come(monkeypatch):
    """Keys of indicators an app not installed here would declare (every key of the
    catalogue is installed today): kept in a layout, not shown until the app lands."""
    from relocation.dashboards import programmes

    future = {"future_members", "future_rate", "future_alerts"}
    monkeypatch.setattr(programmes, "CATALOGUE_KEYS", programmes.CATALOGUE_KEYS | future)


@pytest.fixture
def view(live):
    return make_view(
        themes=[
            ("党建", ["future_members", "future_rate"]),  # not installed: kept, not shown
            ("就业", ["employment_rate", "labour_force", "zero_employment_households"]),
            ("人口", ["persons_by_year", "persons"]),
        ]
    )


def get(client, user, url, status=200):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response


def themes_on_page(html):
    return re.findall(r'data-theme="([^"]+)"', html)


def cards_of(html, theme):
    section = html.split(f'data-theme="{theme}"', 1)[1].split("</section>", 1)[0]
    return dict(
        re.findall(
            r'<div class="dash-card" data-key="([^"]+)".*?<div class="dash-card-value">\s*'
            r"(?:<a [^>]*>)?([^<]+?)\s*<",
            section,
            re.S,
        )
    )


def test_the_three_seed_layouts_are_shipped():
    seed_migration.seed(apps, None)  # idempotent: as the migration left them
    views = {
        v.key: v for v in ProgrammeView.objects.filter(key__in=["liuxin", "wuge-tixi", "liuzhua"])
    }
    assert [t.name for t in views["liuxin"].themes.all()] == [
        "聚心",
        "稳心",
        "舒心",
        "安心",
        "开心",
        "齐心",
    ]
    assert [t.name for t in views["wuge-tixi"].themes.all()] == [
        "公共服务体系",
        "培训和就业服务体系",
        "文化服务体系",
        "社区治理体系",
        "基层党建体系",
    ]
    assert [t.name for t in views["liuzhua"].themes.all()][:3] == ["抓增收", "抓服务", "抓就业"]
    # Every seeded key is a registered indicator or one of the catalogue's announced ones.
    for item in ProgrammeItem.objects.filter(theme__view__in=views.values()):
        item.full_clean()
    keys = set(
        ProgrammeItem.objects.filter(theme__view__key="liuxin").values_list("indicator", flat=True)
    )
    assert {"employment_rate", "pairing_rate", "activities_by_kind", "open_alerts"} <= keys


def test_seed_keeps_an_administrators_edits():
    seed_migration.seed(apps, None)
    ProgrammeView.objects.filter(key="liuxin").update(name="六心社区（改）")
    ProgrammeTheme.objects.filter(view__key="liuxin", name="齐心").delete()
    seed_migration.seed(apps, None)
    view = ProgrammeView.objects.get(key="liuxin")
    assert view.name == "六心社区（改）"
    assert "齐心" not in [t.name for t in view.themes.all()]


def test_county_page_by_programme_view(client, users, view):
    html = get(client, users["county"], "/dashboard/522301/?view=test-view").content.decode()
    assert themes_on_page(html) == ["党建", "就业", "人口"]
    # The installed indicators with the county's figures, in the view's order.
    jobs = cards_of(html, "就业")
    assert list(jobs) == ["employment_rate", "labour_force", "zero_employment_households"]
    assert jobs["employment_rate"] == "50.00%"
    assert jobs["labour_force"] == "4"
    # A breakdown becomes one card per item: 户主二 (2019) and H1's four (2018).
    people = cards_of(html, "人口")
    assert people["persons_by_year:2018"] == "4" and people["persons_by_year:2019"] == "1"
    assert people["persons"] == "5"
    # Keys of apps not installed are kept but not shown.
    assert cards_of(html, "党建") == {}
    assert "暂无可显示的指标" in html
    make_view(
        key="mixed", name="混合", themes=[("甲", ["persons", "future_rate", "future_alerts"])]
    )
    mixed = get(client, users["county"], "/dashboard/522301/?view=mixed").content.decode()
    assert list(cards_of(mixed, "甲")) == ["persons"]
    assert "另有 2 项指标将在相关模块安装后显示。" in mixed
    # The default sections are not on the page; the table has the view's columns only.
    assert "有就业" not in html.split('id="dash-children"')[0]
    header = html.split('id="dash-children"', 1)[1].split("</thead>", 1)[0]
    assert re.findall(r'data-key="([a-z_]+)"', header) == [
        "employment_rate",
        "labour_force",
        "zero_employment_households",
        "persons",
    ]
    # The selector keeps the view; period, sort and export links carry it.
    assert '<option value="test-view" selected>测试视图</option>' in html
    assert "view=test-view" in html.split('id="dash-export"')[0].rsplit("<a", 1)[1]


def test_default_page_offers_the_views_and_stays_the_same(client, users, view):
    make_view(key="off", name="停用视图", active=False, themes=[("甲", ["persons"])])
    html = get(client, users["county"], "/dashboard/522301/").content.decode()
    assert '<option value="test-view">测试视图</option>' in html
    assert "停用视图" not in html
    assert themes_on_page(html) == []
    assert "有就业" in html
    # An inactive or unknown view falls back to the default dashboard.
    for key in ("off", "nonexistent"):
        html = get(client, users["county"], f"/dashboard/522301/?view={key}").content.decode()
        assert themes_on_page(html) == [] and "有就业" in html


def test_scope_is_that_of_the_default_page(client, users, view, live):
    county = users["county"]
    get(client, county, "/dashboard/520201/?view=test-view", 404)
    get(client, county, "/dashboard/520201/?view=test-view&format=xlsx", 404)
    get(client, county, f"/dashboard/settlement/{live.s4.pk}/?view=test-view", 404)
    html = get(client, users["worker"], "/dashboard/?view=test-view", 302)
    assert html.url == f"/dashboard/settlement/{live.s1.pk}/?view=test-view"
    html = get(client, users["worker"], html.url).content.decode()
    # s1 only: labour force 3, employed 1 — not the county's 4 and 2.
    jobs = cards_of(html, "就业")
    assert jobs["labour_force"] == "3" and jobs["employment_rate"] == "33.33%"
    assert "德坞新区" not in html and "栗坪安置点" not in html


def test_settlement_cards_link_to_the_rows(client, users, view, live):
    html = get(client, users["worker"], f"/dashboard/settlement/{live.s1.pk}/?view=test-view")
    section = html.content.decode().split('data-theme="就业"', 1)[1].split("</section>", 1)[0]
    link = re.search(r'data-key="labour_force".*?<a href="([^"]+)">3<', section, re.S)
    assert link
    listing = get(client, live.admin, link.group(1).replace("&amp;", "&")).content.decode()
    assert listing.count('name="_selected_action"') == 3


def test_export_follows_the_layout(client, users, view, live):
    response = get(client, users["county"], "/dashboard/522301/?view=test-view&format=xlsx")
    assert "%E6%B5%8B%E8%AF%95%E8%A7%86%E5%9B%BE" in response["Content-Disposition"]  # 测试视图
    rows = [
        list(r)
        for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    ]
    header = {row[0]: row[1] for row in rows[1:9] if row and row[0]}
    assert header["看板视图"] == "测试视图" and header["区域"] == "兴义市"
    headings = [row[0] for row in rows if row and str(row[0] or "").startswith("测试视图 · ")]
    assert headings == ["测试视图 · 党建", "测试视图 · 就业", "测试视图 · 人口"]
    start = next(i for i, row in enumerate(rows) if row[0] == "测试视图 · 就业")
    assert [row[0] for row in rows[start + 1 : start + 4]] == ["就业率", "劳动力人数", "零就业家庭"]
    assert rows[start + 1][1] == 50.0 and rows[start + 2][1] == 4
    party = next(i for i, row in enumerate(rows) if row[0] == "测试视图 · 党建")
    assert "暂无可显示的指标" in rows[party + 1][0]
    table = next(row for row in rows if row and row[0] == "乡镇（街道）")
    assert [c for c in table if c][1:] == [
        "就业率（%）",
        "劳动力人数（人）",
        "零就业家庭（户）",
        "搬迁人口（人）",
    ]
    assert "德坞新区" not in str(rows)


@pytest.mark.parametrize("url", ["/dashboard/522301/?view=test-view", "/dashboard/?view=test-view"])
def test_query_count(client, live, view, url):
    client.force_login(live.admin)
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    assert len(ctx.captured_queries) <= MAX_QUERIES


def test_unknown_indicator_key_is_refused_in_chinese(view):
    theme = view.themes.first()
    with pytest.raises(ValidationError) as error:
        ProgrammeItem(theme=theme, indicator="employment_rat", order=9).full_clean()
    assert "指标编码“employment_rat”不存在" in str(error.value.message_dict["indicator"])
    # Registered and announced keys pass.
    ProgrammeItem(theme=theme, indicator="persons", order=9).full_clean()
    ProgrammeItem(theme=theme, indicator="standard_coverage_rate", order=9).full_clean()


def _theme_form(theme, indicator):
    items = list(theme.items.all())
    data = {
        "view": theme.view.pk,
        "name": theme.name,
        "description": "",
        "order": theme.order,
        "items-TOTAL_FORMS": str(len(items) + 1),
        "items-INITIAL_FORMS": str(len(items)),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for index, item in enumerate(items):
        data.update(
            {
                f"items-{index}-id": item.pk,
                f"items-{index}-theme": theme.pk,
                f"items-{index}-indicator": item.indicator,
                f"items-{index}-order": item.order,
            }
        )
    n = len(items)
    data.update(
        {f"items-{n}-theme": theme.pk, f"items-{n}-indicator": indicator, f"items-{n}-order": 50}
    )
    return data


def test_admin_edits_a_theme_and_refuses_a_bad_key(client, users, view):
    theme = view.themes.get(name="党建")  # holds announced keys: saving it must still work
    url = f"/admin/dashboards/programmetheme/{theme.pk}/change/"
    client.force_login(users["administrator"])
    page = client.get(url)
    assert page.status_code == 200
    assert (
        '<option value="employment_rate">就业率（employment_rate）</option>'
        in page.content.decode()
    )
    before = list(ProgrammeItem.objects.order_by("pk").values_list("theme_id", "indicator"))
    response = client.post(url, _theme_form(theme, "no_such_key"))
    assert response.status_code == 200
    assert "指标编码“no_such_key”不存在" in response.content.decode()
    assert list(ProgrammeItem.objects.order_by("pk").values_list("theme_id", "indicator")) == before
    response = client.post(url, _theme_form(theme, "persons"))
    assert response.status_code == 302
    assert list(theme.items.values_list("indicator", flat=True)) == [
        "future_members",
        "future_rate",
        "persons",
    ]


def test_only_administrators_edit_views(client, users, view):
    for name, status in (("administrator", 200), ("county", 403), ("worker", 403)):
        client.force_login(users[name])
        assert client.get("/admin/dashboards/programmeview/").status_code == status, name
        assert client.get(f"/admin/dashboards/programmeview/{view.pk}/change/").status_code in (
            (200,) if status == 200 else (403, 302)
        )
