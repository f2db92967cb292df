"""Coverage per rights item (权益事项落实情况) on the dashboards, counted by hand.

The world is ``protection_world`` (D = 2026-06-30, 贵州 checklist: 原籍权益 A 承包地,
B 林地; 迁入地权益 C 医保转移接续; an inactive item; 云南 has X 宅基地复垦):

  阳光 (s1, 兴义市): h1  A secured, B not applicable, C secured but recorded D+1
                     h2  A, C secured before D, B secured ON D
  德坞 (s3, 钟山区): h3  nothing recorded
  空   (s4, 兴仁市): no households

Per item on D (applicable / secured):
  s1: A 2/2, B 1/1, C 2/1        s3: A 1/0, B 1/0, C 1/0
  贵州省: A 3/2 = 66.67 % (not the mean of 100 % and 0 %), B 2/1 = 50 %,
          C 3/1 = 33.33 % (not the mean of 50 % and 0 %).
  兴仁市: no households, every rate "—" without a link.
"""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from communities.enums import RegionLevel
from communities.models import Region, Settlement
from communities.roles import Role
from communities.tests.factories import HouseholdFactory, SettlementFactory
from relocation.dashboards import areas, engine
from relocation.dashboards.dashboard import build
from relocation.dashboards.models import AreaFigure
from relocation.dashboards.periods import PeriodKind, period_containing
from relocation.dashboards.registry import Window, registry
from services.indicators.protection import item_prefix
from services.models import HouseholdRight, RightsItem, RightState

from .test_protection_indicators import WINDOW, D, protection_world  # noqa: F401

pytestmark = pytest.mark.django_db
SPEC = period_containing(PeriodKind.QUARTER, D)
COLUMNS = ("applicable", "secured", "open", "rate")


def compute(window=WINDOW):
    return registry.sources["rights_items"].compute(Settlement.objects.all(), window)


def item_figures(row, item):
    prefix = item_prefix(item.pk)
    return row.get(f"{prefix}applicable", 0), row.get(f"{prefix}secured", 0)


def table(dash):
    """{item name: (group, [cell text], [cell link])} of the 权益事项落实情况 table."""
    view = next(v for v in dash.tables if v.table.key == "rights_items")
    return {
        label: (group, [c.text for c in cells], [c.link for c in cells])
        for group, rows in view.groups
        for label, cells in rows
    }


def page(user, code=None, settlement=None):
    area = (
        areas.settlement_area(user, settlement.pk)
        if settlement is not None
        else areas.region_area(user, code)
    )
    return build(area, user, kind=PeriodKind.QUARTER, period_code=SPEC.code, today=D)


def test_per_item_counts_per_settlement_on_the_reference_date(
    protection_world,  # noqa: F811
    django_assert_num_queries,
):
    w = protection_world
    with django_assert_num_queries(3):  # whatever the number of settlements
        rows = compute()
    assert item_figures(rows[w["s1"].pk], w["a"]) == (2, 2)
    assert item_figures(rows[w["s1"].pk], w["b"]) == (1, 1)  # h1 n/a; h2 secured ON D counts
    assert item_figures(rows[w["s1"].pk], w["c"]) == (2, 1)  # h1's record of D+1 does not
    for item in ("a", "b", "c"):
        assert item_figures(rows[w["s3"].pk], w[item]) == (1, 0)
    assert w["s4"].pk not in rows
    # Only the active items of each settlement's own province have components.
    assert set(rows[w["s1"].pk]) == {
        f"{item_prefix(w[i].pk)}{part}" for i in "abc" for part in ("applicable", "secured")
    }
    # The items add up to the per-household figures of the ``rights`` source.
    per_household = registry.sources["rights"].compute(Settlement.objects.all(), WINDOW)
    for sid, row in rows.items():
        assert (
            sum(v for k, v in row.items() if k.endswith("_applicable"))
            == (per_household[sid]["rights_applicable"])
        )
        assert (
            sum(v for k, v in row.items() if k.endswith("_secured"))
            == (per_household[sid]["rights_secured"])
        )
    # The day before D, h2's 林地 (recorded on D) is not secured yet.
    before = Window(WINDOW.start, D - datetime.timedelta(days=1), WINDOW.income_year)
    assert item_figures(compute(before)[w["s1"].pk], w["b"]) == (1, 0)


def test_the_table_rolls_up_rates_from_summed_households(protection_world, make_user):  # noqa: F811
    w = protection_world
    engine.store_period(SPEC, D)
    admin = make_user(is_superuser=True, is_staff=True)
    province = table(page(admin, "520000"))
    assert list(province) == ["承包地", "林地", "医保转移接续"]  # the inactive item is hidden
    assert province["承包地"][0] == "原籍权益（迁出地）"
    assert province["医保转移接续"][0] == "迁入地权益（迁入地）"
    # 兴义市 (s1) and 钟山区 (s3): sums of households, never the mean of the two rates.
    assert province["承包地"][1] == ["3", "2", "1", "66.67%"]
    assert province["林地"][1] == ["2", "1", "1", "50.00%"]
    assert province["医保转移接续"][1] == ["3", "1", "2", "33.33%"]
    assert table(page(admin, "522301"))["医保转移接续"][1] == ["2", "1", "1", "50.00%"]
    assert table(page(admin, "520201"))["医保转移接续"][1] == ["1", "0", "1", "0.00%"]
    assert table(page(admin, "522300"))["承包地"][1] == ["2", "2", "0", "100.00%"]
    settlement = table(page(admin, settlement=w["s1"]))
    assert settlement["林地"][1] == ["1", "1", "0", "100.00%"]
    # 兴仁市 has no households: an empty denominator shows "—" and links nowhere.
    empty = table(page(admin, "522302"))
    assert empty["承包地"][1] == ["0", "0", "0", "—"]
    assert empty["承包地"][2][3] == ""
    assert empty["承包地"][2][0]  # the (empty) list of 0 households is still a list


def test_an_item_added_later_and_an_item_put_out_of_use(protection_world, make_user):  # noqa: F811
    w = protection_world
    engine.store_period(SPEC, D)
    admin = make_user(is_superuser=True, is_staff=True)
    RightsItem.objects.create(category=w["destination"], name="就业登记", order=2)
    # Listed at once (items are data); its figures come with the next refresh.
    assert table(page(admin, "520000"))["就业登记"][1] == ["0", "0", "0", "—"]
    engine.store_period(SPEC, D)
    assert table(page(admin, "520000"))["就业登记"][1] == ["3", "0", "3", "0.00%"]
    w["b"].active = False
    w["b"].save()
    engine.store_period(SPEC, D)
    rows = table(page(admin, "520000"))
    assert "林地" not in rows and "已停用事项" not in rows
    assert rows["就业登记"][1] == ["3", "0", "3", "0.00%"]
    assert not AreaFigure.objects.filter(key__startswith=item_prefix(w["b"].pk)).exists()


def test_rights_changes_refresh_the_province(protection_world):  # noqa: F811
    w = protection_world
    since = timezone.now() - datetime.timedelta(seconds=1)
    RightsItem.objects.create(category=w["origin"], name="宅基地", order=3)
    changed = engine.changed_settlements(since)
    assert {w["s1"].pk, w["s3"].pk, w["s4"].pk} <= changed


def listed(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return {h.number for h in response.context["cl"].queryset}


def test_every_figure_links_to_the_households_behind_it(client, protection_world, make_user):  # noqa: F811
    w = protection_world
    engine.store_period(SPEC, D)
    official = make_user(Role.COUNTY_OFFICIAL, regions=[w["rt"].xingyi])
    client.force_login(official)
    rows = table(page(official, "522301"))
    for name, (_group, texts, urls) in rows.items():
        for column, text, url in zip(COLUMNS, texts, urls, strict=True):
            assert url, (name, column)
            assert "area=522301" in url and f"rights_item_on={D.isoformat()}" in url
            if column != "rate":
                assert len(listed(client, url)) == int(text), (name, column)
    number = {w["h1"].number: "h1", w["h2"].number: "h2"}
    a, b, c = (rows[n][2] for n in ("承包地", "林地", "医保转移接续"))
    assert {number[n] for n in listed(client, b[0])} == {"h2"}  # h1: not applicable
    assert {number[n] for n in listed(client, c[1])} == {"h2"}  # h1's record is of D+1
    assert {number[n] for n in listed(client, c[2])} == {"h1"}
    assert {number[n] for n in listed(client, c[3])} == {"h2"}  # the rate: its secured
    assert {number[n] for n in listed(client, a[1])} == {"h1", "h2"}
    # The province's figures link to lists the official's scope narrows to 兴义市.
    admin = make_user(is_superuser=True, is_staff=True)
    province = table(page(admin, "520000"))
    assert len(listed(client, province["承包地"][2][0])) == 2
    client.force_login(admin)
    assert listed(client, province["承包地"][2][2]) == {w["h3"].number}


def test_bad_links_get_a_clear_error(client, protection_world, make_user):  # noqa: F811
    w = protection_world
    client.force_login(make_user(Role.COUNTY_OFFICIAL, regions=[w["rt"].xingyi]))
    for query, message in (
        ("rights_item=99999&rights_item_state=open", "没有编号为“99999”的权益事项"),
        (f"rights_item={w['a'].pk}", "请选择该权益事项的落实情况"),
        (f"rights_item={w['a'].pk}&rights_item_state=all", "没有名为“all”的清单"),
        (
            f"rights_item={w['a'].pk}&rights_item_state=open&rights_item_on=2026-13-01",
            "日期“2026-13-01”无效",
        ),
    ):
        response = client.get(f"/admin/communities/household/?{query}", follow=True)
        assert response.status_code == 200, query
        assert message in response.content.decode(), query
        assert not list(response.context["cl"].queryset), query


@pytest.fixture
def yunnan(protection_world, region_tree):  # noqa: F811
    """A 云南 county with one household and the official of a 贵州 county and of it."""
    w = protection_world
    province = Region.objects.get(code="530000")
    prefecture = Region.objects.create(
        code="530100", name="昆明市", level=RegionLevel.PREFECTURE, parent=province
    )
    county = Region.objects.create(
        code="530102", name="五华区", level=RegionLevel.COUNTY, parent=prefecture
    )
    settlement = SettlementFactory(name="滇池", county=county)
    household = HouseholdFactory(settlement=settlement)
    HouseholdRight.objects.create(
        household=household,
        item=w["x"],
        state=RightState.SECURED,
        recorded_on=D - datetime.timedelta(days=3),
    )
    return county, household


def test_a_county_user_sees_only_their_provinces_items(client, protection_world, yunnan, make_user):  # noqa: F811
    w = protection_world
    county, household = yunnan
    engine.store_period(SPEC, D)
    guizhou = make_user(Role.COUNTY_OFFICIAL, regions=[w["rt"].xingyi])
    rows = table(page(guizhou, "522301"))
    assert "宅基地复垦" not in rows and set(rows) == {"承包地", "林地", "医保转移接续"}
    kunming = make_user(Role.COUNTY_OFFICIAL, regions=[county])
    theirs = table(page(kunming, "530102"))
    assert list(theirs) == ["宅基地复垦"]
    assert theirs["宅基地复垦"][1] == ["1", "1", "0", "100.00%"]
    # 云南's link, edited to 贵州's item or area, lists nothing of 贵州 for the 云南 official.
    client.force_login(kunming)
    url = theirs["宅基地复垦"][2][0]
    assert listed(client, url) == {household.number}
    assert listed(client, url.replace("area=530102", "area=522301")) == set()
    other = url.replace(f"rights_item={w['x'].pk}", f"rights_item={w['a'].pk}")
    assert listed(client, other.replace("area=530102", "area=52")) == set()
    # The 贵州 official's overview of their scope lists 贵州's items only.
    mixed = make_user(Role.COUNTY_OFFICIAL, regions=[w["rt"].xingyi, w["rt"].zhongshan])
    overview = build(
        areas.root_area(mixed), mixed, kind=PeriodKind.QUARTER, period_code=SPEC.code, today=D
    )
    assert set(table(overview)) == {"承包地", "林地", "医保转移接续"}


def test_a_superusers_overview_names_each_province(protection_world, yunnan, make_user):  # noqa: F811
    engine.store_period(SPEC, D)
    admin = make_user(is_superuser=True, is_staff=True)
    overview = build(
        areas.root_area(admin), admin, kind=PeriodKind.QUARTER, period_code=SPEC.code, today=D
    )
    rows = table(overview)
    assert rows["宅基地复垦"][0].startswith("云南省 · ")
    assert rows["承包地"][0].startswith("贵州省 · ")
    assert rows["承包地"][1] == ["3", "2", "1", "66.67%"]


def test_county_page_shows_the_table_in_few_queries(client, protection_world, make_user):  # noqa: F811
    w = protection_world
    engine.store_period(SPEC, D)
    engine.refresh_live(full=True)  # the running periods are fresh: a page only reads
    client.force_login(make_user(Role.COUNTY_OFFICIAL, regions=[w["rt"].xingyi]))
    url = f"/dashboard/522301/?kind=quarter&period={SPEC.code}"
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert len(ctx.captured_queries) <= 15, "\n".join(q["sql"][:90] for q in ctx.captured_queries)
    html = response.content.decode()
    services = html[html.index('data-table="rights_items"') :]
    assert "权益事项落实情况" in services and "医保转移接续" in services
    assert "50.00%" in services


def test_the_workbook_has_the_table(client, protection_world, make_user):  # noqa: F811
    w = protection_world
    engine.store_period(SPEC, D)
    client.force_login(make_user(Role.COUNTY_OFFICIAL, regions=[w["rt"].xingyi]))
    response = client.get(f"/dashboard/522301/?kind=quarter&period={SPEC.code}&format=xlsx")
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == "权益事项落实情况")
    assert list(rows[start + 1][:5]) == [
        "权益事项",
        "适用户数（户）",
        "已落实户数（户）",
        "待落实或未核实户数（户）",
        "落实率（%）",
    ]
    # Group rows, then the items: 原籍权益 A, B; 迁入地权益 C.
    assert [row[0] for row in rows[start + 2 : start + 7]] == [
        "原籍权益（迁出地）",
        "承包地",
        "林地",
        "迁入地权益（迁入地）",
        "医保转移接续",
    ]
    body = {row[0]: list(row[1:5]) for row in rows[start + 2 : start + 7]}
    assert body["承包地"] == [2, 2, 0, 100.0]
    assert body["林地"] == [1, 1, 0, 100.0]
    assert body["医保转移接续"] == [2, 1, 1, 50.0]
