"""Drill-down at every level: each linked figure lists exactly the rows behind it.

Cards, child-table cells (region rows and settlement rows), the total row and
the by-year breakdowns at province, prefecture, county, township and
whole-scope level link to the scoped admin list of that area (``?area=``) with
the same filter and reference date.  Following a link as the user who saw it
must list as many rows as the figure says, and never a row outside their scope.
"""

import html as htmllib
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from communities.models import Settlement
from communities.roles import Role
from communities.tests.factories import HouseholdFactory, PersonFactory, SettlementFactory
from relocation.dashboards import engine
from relocation.dashboards.registry import registry

from .test_views import _count_queries, page

pytestmark = pytest.mark.django_db

CARD = re.compile(
    r'<div class="dash-card" data-key="(\w+)".*?<div class="dash-card-value">\s*'
    r'(?:<a href="([^"]+)">)?([^<]+)<',
    re.S,
)
ROW = re.compile(r'<tr data-key="([^"]+)">(.*?)</tr>', re.S)
CELL = re.compile(r'<td class="num" data-key="(\w+)">(?:<a href="([^"]+)">)?([^<]*)<')
# Sections whose linked figures are counts of the very rows their list shows. Other
# apps' figures may be sums over the rows (人次, 万元, teachers per facility): their
# own tests check that each list agrees with its figure; here they must only open.
COUNTED_ROWS = {"population", "employment", "income", "plan"}
BREAKDOWN = re.compile(r'<td class="num"><a href="([^"]+relocation_year=\d{4}[^"]*)">([^<]+)</a>')


def figures(html):
    """[(where, indicator key, url or None, text)] of every card and table cell."""
    found = [("card", key, url, text.strip()) for key, url, text in CARD.findall(html)]
    table = html.split('id="dash-children"', 1)[1] if 'id="dash-children"' in html else ""
    for row_key, inner in ROW.findall(table):
        found += [(row_key, key, url, text) for key, url, text in CELL.findall(inner)]
    return [(w, k, htmllib.unescape(u) if u else None, t) for w, k, u, t in found]


def listed(client, url):
    """Rows the admin list at ``url`` shows to the logged-in user, and their names."""
    response = client.get(url)
    assert response.status_code == 200, url
    cl = response.context["cl"]
    return cl.result_count, [str(obj) for obj in cl.result_list]


def check_every_link(client, user, dash_url):
    """Follows every linked figure as ``user``; returns {(where, key): area token}."""
    client.force_login(user)
    html = page(client, user, dash_url).content.decode()
    tokens = {}
    for where, key, url, text in figures(html):
        indicator = registry.indicators[key]
        if indicator.link is None or text == "—":
            assert url is None, (where, key)
            continue
        assert url, f"{dash_url}: {where} {key} has no link"
        count, _names = listed(client, url)
        if indicator.section in COUNTED_ROWS:
            assert count == int(text.replace(",", "")), (dash_url, where, key, url, count, text)
        tokens[(where, key)] = parse_qs(urlsplit(url).query).get("area", [None])[0]
    breakdowns = BREAKDOWN.findall(html)
    assert len(breakdowns) == 10, dash_url  # five years of households and of persons
    for url, text in breakdowns:
        count, _names = listed(client, htmllib.unescape(url))
        assert count == int(text.replace(",", "")), (dash_url, url, count, text)
    return tokens


def test_county_cards_cells_and_total_link_to_their_rows(client, live):
    county = live.make_user(Role.COUNTY_OFFICIAL, regions=[live.regions.xingyi])
    tokens = check_every_link(client, county, "/dashboard/522301/")
    # Cards and the total row: the whole county; township rows: the township;
    # the settlement without a township: that settlement.
    assert tokens[("card", "zero_employment_households")] == "522301"
    assert tokens[("total", "labour_force")] == "522301"
    assert tokens[("522301001", "labour_force")] == "522301001"
    assert tokens[("522301002", "employed")] == "522301002"
    assert tokens[(f"s{live.s3.pk}", "households")] == f"s{live.s3.pk}"
    for where in ("card", "total", "522301001", "522301002", f"s{live.s3.pk}"):
        for key in ("households", "persons", "labour_force", "employed"):
            assert (where, key) in tokens, (where, key)


def test_county_card_lists_exactly_the_people_behind_the_figure(client, live):
    county = live.make_user(Role.COUNTY_OFFICIAL, regions=[live.regions.xingyi])
    html = page(client, county, "/dashboard/522301/").content.decode()
    cards = {key: (url, text) for where, key, url, text in figures(html) if where == "card"}
    url, text = cards["labour_force"]
    assert text == "4" and "area=522301" in url and f"on={live.today.isoformat()}" in url
    count, names = listed(client, url)
    assert count == 4
    assert {n for n in names if n in ("户主一", "配偶一", "长子一", "户主二")} == {
        "户主一",
        "配偶一",
        "长子一",
        "户主二",
    }
    assert not {"次女一", "户主三", "配偶三", "长子三"} & set(names)
    url, text = cards["zero_employment_households"]
    assert text == "0"
    assert listed(client, url)[0] == 0


def test_prefecture_province_and_overview_link_at_their_level(client, live):
    rt = live.regions
    prefecture = live.make_user(Role.PREFECTURE_OFFICIAL, regions=[rt.qianxinan])
    tokens = check_every_link(client, prefecture, "/dashboard/522300/")
    assert tokens[("card", "labour_force")] == "5223"
    assert tokens[("522301", "labour_force")] == "522301"

    province = live.make_user(Role.PREFECTURE_OFFICIAL, regions=[rt.guizhou])
    tokens = check_every_link(client, province, "/dashboard/520000/")
    assert tokens[("card", "households")] == "52"
    assert tokens[("522300", "households")] == "5223"
    assert tokens[("520200", "zero_employment_households")] == "5202"

    # The superuser's overview: the whole scope, one row per province.
    tokens = check_every_link(client, live.admin, "/dashboard/")
    assert tokens[("card", "households")] is None
    assert tokens[("520000", "households")] == "52"

    township = check_every_link(client, prefecture, "/dashboard/522301001/")
    assert township[("card", "labour_force")] == "522301001"
    assert township[(f"s{live.s1.pk}", "labour_force")] == f"s{live.s1.pk}"


def test_overview_of_several_areas_lists_only_the_users_own(client, live):
    """A worker with two settlements: the overview's links carry no area and list
    their two settlements' rows only (the admin applies their scope)."""
    worker = live.make_user(Role.COMMUNITY_WORKER, settlements=[live.s1, live.s2])
    tokens = check_every_link(client, worker, "/dashboard/")
    assert tokens[("card", "persons")] is None
    assert tokens[(f"s{live.s1.pk}", "persons")] == f"s{live.s1.pk}"
    html = page(client, worker, "/dashboard/").content.decode()
    url = next(u for w, k, u, _t in figures(html) if w == "card" and k == "persons")
    count, names = listed(client, url)
    assert count == 5
    assert not {"户主三", "配偶三", "长子三", "老人三"} & set(names)


def test_an_official_never_gets_a_link_outside_their_scope(client, live):
    county = live.make_user(Role.COUNTY_OFFICIAL, regions=[live.regions.xingyi])
    html = page(client, county, "/dashboard/522301/").content.decode()
    own = {
        f"s{pk}"
        for pk in Settlement.objects.filter(county=live.regions.xingyi).values_list("pk", flat=True)
    }
    # Every link from a figure to a list (the menus link to unfiltered lists).
    hrefs = [htmllib.unescape(h) for h in re.findall(r'href="(/admin/[^"?]+\?[^"]+)"', html)]
    assert len(hrefs) > 40
    for href in hrefs:
        area = parse_qs(urlsplit(href).query).get("area", [""])[0]
        assert area.startswith("522301") or area in own, href

    # Editing the token by hand: another county's rows stay invisible.
    url = next(u for w, k, u, _t in figures(html) if w == "card" and k == "persons")
    for other in ("520201", "5202", "52", f"s{live.s4.pk}"):
        count, names = listed(client, url.replace("area=522301", f"area={other}"))
        assert "户主三" not in names
        if other != "52":
            assert count == 0, other
    # The province token only narrows the county official's own scope.
    assert listed(client, url.replace("area=522301", "area=52"))[0] == 5


def test_links_add_no_queries_per_row(client, live):
    """A county page with twelve more townships: same number of queries."""
    county = live.make_user(Role.COUNTY_OFFICIAL, regions=[live.regions.xingyi])
    client.force_login(county)
    before = _count_queries(client, "/dashboard/522301/")
    from communities import enums
    from communities.models import Region

    for i in range(12):
        town = Region.objects.create(
            code=f"522301{100 + i}",
            name=f"测试街道{i}",
            level=enums.RegionLevel.TOWNSHIP,
            parent=live.regions.xingyi,
        )
        settlement = SettlementFactory(county=live.regions.xingyi, township=town)
        household = HouseholdFactory(settlement=settlement)
        PersonFactory(household=household, age=30, relationship=enums.Relationship.HEAD)
    engine.refresh_live(full=True)
    after = _count_queries(client, "/dashboard/522301/")
    assert after == before <= 15
    html = client.get("/dashboard/522301/").content.decode()
    assert html.count("area=522301100") >= 4  # the new township's row links by its code
