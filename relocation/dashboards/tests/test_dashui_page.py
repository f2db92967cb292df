"""Colour by meaning, the ranked comparison and the period picker (server side).

The browser tests (tests/browser/test_dashboard_ui_browser.py) check what the
scripts draw; these check what the page and its chart data say.
"""

import json
import re
from decimal import Decimal

import pytest

from communities.roles import Role
from relocation.dashboards import catalogue, engine
from relocation.dashboards.dashboard import Card, change_text
from relocation.dashboards.periods import PeriodKind, period_containing
from relocation.dashboards.registry import DOWN, NEUTRAL, UP, registry

from .test_views import page

pytestmark = pytest.mark.django_db


@pytest.fixture
def county(dash):
    """The county official, with last month stored: 零就业家庭 1 → 0, 就业率 25% → 50%."""
    previous = period_containing(PeriodKind.MONTH, dash.today).previous()
    engine.store_period(previous, previous.end)
    engine.refresh_live(full=True)
    return dash.make_user(Role.COUNTY_OFFICIAL, regions=[dash.regions.xingyi])


def chart_data(html):
    return json.loads(re.search(r'id="dashboard-data"[^>]*>(.*?)</script>', html, re.S).group(1))


def test_indicators_declare_which_way_is_good():
    declared = {key: i.direction for key, i in registry.indicators.items()}
    assert declared["zero_employment_households"] == DOWN
    assert declared["households_below_monitoring_line"] == DOWN
    assert declared["employment_rate"] == UP
    assert declared["one_per_household_rate"] == UP
    assert declared["per_capita_net_income"] == UP
    assert declared["persons"] == NEUTRAL
    assert declared["households"] == NEUTRAL
    assert declared["labour_force"] == NEUTRAL


@pytest.mark.parametrize(
    "key, previous, value, tone",
    [
        ("zero_employment_households", 22, 6, "good"),  # 零就业家庭 −16 is good news
        ("zero_employment_households", 6, 9, "bad"),
        ("employment_rate", Decimal("93.1"), Decimal("96.0"), "good"),
        ("employment_rate", Decimal("96.0"), Decimal("93.1"), "bad"),
        ("persons", 15241, 15244, "neutral"),
        ("persons", 15244, 15241, "neutral"),
        ("zero_employment_households", 6, 6, "flat"),
        ("employment_rate", None, Decimal("50"), "flat"),
    ],
)
def test_change_colour_follows_the_direction_not_the_sign(key, previous, value, tone):
    assert Card(registry.indicators[key], value, previous).tone == tone


@pytest.mark.parametrize(
    "key, previous, value, text",
    [
        ("persons", 1, 0, "-1（-100.0%）"),
        ("persons", 6, 9, "+3（+50.0%）"),
        # A real change never reads as none, nor as a fall of zero.
        ("persons", 5714, 5713, "-1（-0.02%）"),
        ("persons", 100000, 100001, "+1（<0.01%）"),
        ("persons", 2000, 2001, "+1（+0.1%）"),  # 0.05 %, half up as the figures are
        ("persons", 7, 7, "0（0.0%）"),
        ("persons", 0, 5, "+5"),  # no relative change from nothing
        ("per_capita_net_income", Decimal("14148.3"), Decimal("14148.0"), "0（<0.01%）"),
        ("employment_rate", Decimal("93.1"), Decimal("96.0"), "+2.90 个百分点"),
        ("employment_rate", Decimal("95.401"), Decimal("95.400"), "0.00 个百分点"),
        ("employment_rate", Decimal("95.40"), Decimal("95.396"), "0.00 个百分点"),
        ("employment_rate", Decimal("95.40"), Decimal("95.395"), "-0.01 个百分点"),  # half up
        ("employment_rate", None, Decimal("50"), ""),
    ],
)
def test_change_text(key, previous, value, text):
    assert change_text(registry.indicators[key], value, previous) == text


def test_page_colours_a_fall_of_zero_employment_green(client, county, dash):
    html = page(client, county, "/dashboard/522301/").content.decode()

    def card_tone(key):
        match = re.search(
            rf'<div class="dash-card" data-key="{key}".*?'
            r'<div class="dash-card-change dash-(\w+)" data-tone="(\w+)">\s*([^<]*)<',
            html,
            re.S,
        )
        assert match.group(1) == match.group(2)
        return match.group(2), match.group(3).strip()

    assert card_tone("zero_employment_households") == ("good", "较上期 -1（-100.0%）")
    assert card_tone("employment_rate") == ("good", "较上期 +25.00 个百分点")
    assert card_tone("persons")[0] == "flat"
    # The definition says which way is good news.
    definition = re.search(
        r'data-key="zero_employment_households".*?<details class="dash-def">(.*?)</details>',
        html,
        re.S,
    ).group(1)
    assert "数值越低越好" in definition
    assert "数值越高越好" in re.search(
        r'data-key="employment_rate".*?<details class="dash-def">(.*?)</details>', html, re.S
    ).group(1)
    # The settlement page's table of every figure colours its change column alike.
    s2 = page(client, county, f"/dashboard/settlement/{dash.s2.pk}/").content.decode()
    row = re.search(r'<tr data-key="zero_employment_households">.*?</tr>', s2, re.S).group(0)
    assert 'data-tone="good"' in row


def test_css_colours_good_green_bad_red_neutral_grey(settings):
    from pathlib import Path

    css = (Path(settings.BASE_DIR) / "static" / "dashboards" / "dashboard.css").read_text()
    assert re.search(r"\.dash-good \{ color: #1e6b35; \}", css)
    assert re.search(r"\.dash-bad \{ color: #b3261e; \}", css)
    assert re.search(r"\.dash-neutral, \.dash-flat \{ color: #666; \}", css)


def test_catalogue_shows_the_direction():
    lines = {
        line.split(" | ")[0].strip("| `"): line
        for line in catalogue.render().splitlines()
        if line.startswith("| `")
    }
    assert "| 越低越好 |" in lines["zero_employment_households"]
    assert "| 越高越好 |" in lines["employment_rate"]
    assert "| 中性 |" in lines["persons"]
    assert "| 方向 |" in catalogue.render()


def test_ranked_comparison_marks_the_rolled_up_value(client, county, dash):
    html = page(client, county, "/dashboard/522301/").content.decode()
    ranking = chart_data(html)["ranking"]
    rate = next(i for i in ranking["indicators"] if i["key"] == "employment_rate")
    # 兴义市 as a whole: 2 employed of 4 = 50 %, not the mean of 33.33 % and 100 %.
    assert rate["reference"] == 50.0 and rate["unit"] == "%" and rate["direction"] == UP
    assert (rate["referenceLabel"], rate["referenceText"]) == ("兴义市整体", "50.00%")
    values = {r["name"]: r["values"]["employment_rate"] for r in ranking["rows"]}
    assert values == {"黄草街道": 33.33, "兴泰街道": 100.0, "空置安置点": None}
    labour = next(i for i in ranking["indicators"] if i["key"] == "labour_force")
    # A count: the bars sum to the total (4), so the line is 4 ÷ 3 areas.
    assert labour["reference"] == 1.3
    assert (labour["referenceLabel"], labour["referenceText"]) == ("平均每个乡镇（街道）", "1.3")
    assert ranking["selected"] == "employment_rate"
    assert {i["key"] for i in ranking["indicators"]} == {
        i.key for i in registry.indicators.values() if i.column
    }


def ranked(html):
    table = re.search(r'id="dash-ranking-table">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(
        r'<tr data-rank-row="([^"]+)"><td class="num">(\d*)</td><td>[^<]*</td>'
        r'<td class="num">([^<]*)</td>',
        table,
    )
    total = re.search(
        r'<tr data-rank-row="total"><td></td><th scope="row">([^<]*)</th><td class="num">([^<]*)<',
        table,
    )
    return rows, total.groups()


def test_ranked_table_without_javascript(client, county, dash):
    """The 比较 form asks the server: the table is sorted by the chosen indicator."""
    html = page(client, county, "/dashboard/522301/?rank=labour_force").content.decode()
    rows, total = ranked(html)
    assert rows == [("522301001", "1", "3"), ("522301002", "2", "1"), (f"s{dash.s3.pk}", "3", "0")]
    assert total == ("平均每个乡镇（街道）", "1.3")
    assert '<option value="labour_force" selected>' in html
    # The period picker keeps the comparison.
    assert '<input type="hidden" name="rank" value="labour_force">' in html
    html = page(client, county, "/dashboard/522301/").content.decode()
    rows, total = ranked(html)
    assert rows == [
        ("522301002", "1", "100.00%"),
        ("522301001", "2", "33.33%"),
        (f"s{dash.s3.pk}", "", "—"),  # no labour force: no rank
    ]
    assert total == ("兴义市整体", "50.00%")
    for bad in ("nonsense", "households_by_year", "settlements%3Cscript%3E"):
        html = page(client, county, f"/dashboard/522301/?rank={bad}").content.decode()
        assert ranked(html)[1] == ("兴义市整体", "50.00%")
        assert "<script>" not in html.split("</head>", 1)[1].split('id="dashboard-data"')[0]


def test_period_picker_lists_every_kind(client, county, dash):
    html = page(client, county, "/dashboard/522301/").content.decode()
    select = re.search(r'<select name="period" id="dash-period">(.*?)</select>', html, re.S)
    options = re.findall(
        r'<option value="([^"]+)" data-kind="(\w+)"( selected)?>([^<]+)</option>', select.group(1)
    )
    kinds = {kind for _v, kind, _s, _l in options}
    assert kinds == {"month", "quarter", "year"}
    month = period_containing(PeriodKind.MONTH, dash.today)
    quarter = period_containing(PeriodKind.QUARTER, dash.today)
    year = period_containing(PeriodKind.YEAR, dash.today)
    codes = {(v, k) for v, k, _s, _l in options}
    assert {(month.code, "month"), (month.previous().code, "month")} <= codes
    assert (quarter.code, "quarter") in codes and (year.code, "year") in codes
    assert [v for v, _k, s, _l in options if s] == [month.code]
    # Newest first within a kind.
    months = [v for v, k, _s, _l in options if k == "month"]
    assert months == sorted(months, reverse=True)
    assert "dashboards/picker.js" in html
    # Without a script: choosing 季度 and submitting shows the running quarter.
    html = page(client, county, f"/dashboard/522301/?kind=quarter&period={month.code}")
    html = html.content.decode()
    assert f'<option value="{quarter.code}" data-kind="quarter" selected>' in html


def test_trend_data_keeps_counts_apart_from_rates(client, county):
    html = page(client, county, "/dashboard/522301/").content.decode()
    series = {s["key"]: s for s in chart_data(html)["trend"]["series"]}
    assert series["persons"]["unit"] == "人" and series["employment_rate"]["unit"] == "%"
    assert series["persons"]["values"][-2:] == [5.0, 5.0]
    assert 'data-part="amounts"' in html
