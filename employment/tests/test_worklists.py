"""Work lists (工作清单): the list filters by query string, the page with counts,
and exports of exactly the filtered, scoped rows (see conftest for the fixture)."""

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.masking import may_view_sensitive
from communities.roles import SENSITIVE_PERMISSION, Role
from employment.admin_filters import default_income_year

pytestmark = pytest.mark.django_db

ID_RE = re.compile(r"(?<![\d*])\d{17}[\dX](?![\d*])")
MOBILE_RE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?![\d*])")
PERSON_LIST = reverse("admin:communities_person_changelist")
HOUSEHOLD_LIST = reverse("admin:communities_household_changelist")


def listed(client, url, **params):
    """The rows of a change list as a set of their str()."""
    response = client.get(url, params)
    assert response.status_code == 200, response
    return {str(obj) for obj in response.context["cl"].result_list}


@pytest.fixture
def county_pii(world, make_user):
    """A 兴义市 official who may see birth dates, so gets lists on the exact day chosen
    (without the permission the day is moved to a period end: test_worklist_dates_masked)."""
    user = make_user(
        Role.COUNTY_OFFICIAL, regions=[world.regions.xingyi], perms=[SENSITIVE_PERMISSION]
    )
    assert may_view_sensitive(user)
    return user


# --- the person list -------------------------------------------------------------------

COUNTY_PEOPLE = {
    "labour": {"户主A", "配偶A", "户主B", "配偶B", "户主D", "配偶D"},
    "employed": {"户主A"},
    "unemployed": {"配偶A", "户主B", "配偶B", "户主D", "配偶D"},
    "nearby": {"户主A"},
    "outside_province": set(),
    "public_welfare": set(),
    "self_employed": set(),
    "workshop": {"户主A"},
    "farming": {"配偶B", "户主D"},
    "ended_30d": {"户主B"},
}


@pytest.mark.parametrize(("value", "expected"), sorted(COUNTY_PEOPLE.items()))
def test_person_lists_for_a_county_official(client, world, jobs, value, expected):
    client.force_login(world.county)
    assert listed(client, PERSON_LIST, employment=value) == expected


def test_person_lists_for_a_province_official_add_the_other_prefecture(client, world, jobs):
    client.force_login(world.province)
    assert listed(client, PERSON_LIST, employment="outside_province") == {"户主C"}
    assert listed(client, PERSON_LIST, employment="ended_30d") == {"户主B", "配偶C"}
    assert listed(client, PERSON_LIST, employment="employed") == {"户主A", "户主C"}


def test_person_lists_for_a_community_worker_are_their_settlement_only(client, world, jobs):
    client.force_login(world.worker)
    assert listed(client, PERSON_LIST, employment="unemployed") == {"配偶A", "户主D", "配偶D"}
    assert listed(client, PERSON_LIST, employment="ended_30d") == set()
    assert listed(client, PERSON_LIST, employment="farming") == {"户主D"}


def test_on_date_moves_the_lists(client, world, jobs, county_pii):
    client.force_login(county_pii)
    # Before 户主A's job began: nobody employed; 户主B still at work then.
    before = "2024-02-01"
    assert listed(client, PERSON_LIST, employment="employed", on=before) == {"户主B"}
    # Yesterday 户主B's job still covered the day (end dates are inclusive).
    yesterday = (jobs.today - datetime.timedelta(days=1)).isoformat()
    assert listed(client, PERSON_LIST, employment="ended_30d", on=yesterday) == set()
    # Thirty days after the end it is still listed, thirty-one days after not.
    day_30 = (jobs.today + datetime.timedelta(days=29)).isoformat()
    day_31 = (jobs.today + datetime.timedelta(days=30)).isoformat()
    assert listed(client, PERSON_LIST, employment="ended_30d", on=day_30) == {"户主B"}
    assert listed(client, PERSON_LIST, employment="ended_30d", on=day_31) == set()


def test_date_is_shown_in_the_filter_title(client, world, jobs, county_pii):
    client.force_login(county_pii)
    body = client.get(PERSON_LIST, {"employment": "employed", "on": "2024-02-01"}).content
    assert "就业情况（2024-02-01）" in body.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"employment": "employed", "on": "2025-02-30"}, "日期“2025-02-30”无效"),
        ({"employment": "employed", "on": "yesterday"}, "日期“yesterday”无效"),
        ({"employment": "everyone"}, "没有名为“everyone”的清单"),
    ],
)
def test_bad_list_parameters_give_an_empty_list_and_a_chinese_message(
    client, world, jobs, params, message
):
    client.force_login(world.county)
    response = client.get(PERSON_LIST, params, follow=True)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert message in response.content.decode()


def test_person_filter_is_offered_with_its_choices(client, world, jobs):
    client.force_login(world.worker)
    body = client.get(PERSON_LIST).content.decode()
    assert "?employment=unemployed" in body and "近30天离岗且未再就业" in body


# --- the household list ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("with_labour", {"522301000001", "522301000002", "522301000004"}),
        ("employed", {"522301000001"}),
        ("zero_employment", {"522301000002", "522301000004"}),
    ],
)
def test_household_lists_for_a_county_official(client, world, jobs, value, expected):
    client.force_login(world.county)
    assert listed(client, HOUSEHOLD_LIST, employment=value) == expected


def test_household_lists_on_an_earlier_date(client, world, jobs):
    client.force_login(world.county)
    # In February 2024 户主B was at work and 户主A not yet (a month end: the official
    # sees birth dates only as the year, so gets lists on period ends).
    assert listed(client, HOUSEHOLD_LIST, employment="zero_employment", on="2024-02-29") == {
        "522301000001",
        "522301000004",
    }


def test_below_line_is_strictly_under_the_province_line(client, world, jobs):
    client.force_login(world.county)
    assert listed(client, HOUSEHOLD_LIST, below_line=jobs.year) == {"522301000002"}
    client.force_login(world.province)
    assert listed(client, HOUSEHOLD_LIST, below_line=jobs.year) == {
        "522301000002",
        "520201000001",
    }
    # The year before has a line but no income records: nobody.
    assert listed(client, HOUSEHOLD_LIST, below_line=jobs.year - 1) == set()


def test_below_line_choices_are_the_years_with_lines(client, world, jobs):
    client.force_login(world.worker)
    body = client.get(HOUSEHOLD_LIST).content.decode()
    assert f"?below_line={jobs.year}" in body and f"?below_line={jobs.year - 1}" in body
    assert f"?below_line={jobs.year - 2}" not in body


def test_default_income_year_is_the_last_complete_year_with_lines():
    today = datetime.date(2026, 3, 1)
    assert default_income_year([2026, 2025, 2024], today) == 2025
    assert default_income_year([2026], today) == 2026
    assert default_income_year([], today) is None


def test_filters_combine_with_settlement_and_search(client, world, jobs):
    client.force_login(world.county)
    rows = listed(
        client, HOUSEHOLD_LIST, employment="zero_employment", settlement__id__exact=world.a.pk
    )
    assert rows == {"522301000004"}
    assert listed(client, PERSON_LIST, employment="unemployed", q="户主") == {"户主B", "户主D"}


# --- the work-list page ------------------------------------------------------------------

WORKLISTS = reverse("worklists")


EMPLOYMENT_LISTS = ("zero_employment", "unemployed", "below_line", "ended_30d")


def counts(response):
    """Employment's own lists (other apps' lists on the page have tests of their own)."""
    return {
        row["key"]: row["count"]
        for row in response.context["rows"]
        if row["key"] in EMPLOYMENT_LISTS
    }


def chosen_year(response):
    """The 收入年度 the page counted 低于监测线家庭 in (employment's option)."""
    (option,) = [o for o in response.context["options"] if o.name == "year"]
    return option.value


def test_work_list_page_counts_in_scope(client, world, jobs):
    client.force_login(world.county)
    response = client.get(WORKLISTS)
    assert response.status_code == 200
    assert counts(response) == {
        "zero_employment": 2,
        "unemployed": 5,
        "below_line": 1,
        "ended_30d": 1,
    }
    assert chosen_year(response) == jobs.year
    client.force_login(world.worker)
    assert counts(client.get(WORKLISTS)) == {
        "zero_employment": 1,
        "unemployed": 3,
        "below_line": 0,
        "ended_30d": 0,
    }
    client.force_login(world.province)
    assert counts(client.get(WORKLISTS)) == {
        "zero_employment": 2,
        "unemployed": 6,  # + 配偶C (户主C works outside the province)
        "below_line": 2,
        "ended_30d": 2,
    }


def test_work_list_counts_match_the_linked_lists(client, world, jobs):
    client.force_login(world.county)
    rows = client.get(WORKLISTS).context["rows"]
    for row in rows:
        response = client.get(row["url"])
        assert len(response.context["cl"].result_list) == row["count"], row["key"]


def test_work_list_page_links_and_year_choice(client, world, jobs):
    client.force_login(world.county)
    body = client.get(WORKLISTS).content.decode()
    day = jobs.today.isoformat()
    assert f"{PERSON_LIST}?employment=unemployed&amp;on={day}" in body
    assert f"{HOUSEHOLD_LIST}?employment=zero_employment&amp;on={day}" in body
    assert f"{HOUSEHOLD_LIST}?below_line={jobs.year}" in body
    # Officials may export (their role has the export permissions).
    assert reverse("admin:communities_person_export") in body
    response = client.get(WORKLISTS, {"year": jobs.year - 1})
    assert chosen_year(response) == jobs.year - 1
    assert f'<option value="{jobs.year - 1}" selected>' in response.content.decode()
    assert counts(response)["below_line"] == 0
    # A year without lines is not offered: the default is used.
    assert chosen_year(client.get(WORKLISTS, {"year": "1999"})) == jobs.year


def test_work_list_page_without_lines_says_so(client, world):
    client.force_login(world.county)
    response = client.get(WORKLISTS)
    assert counts(response)["below_line"] is None
    assert "尚未登记防返贫监测线" in response.content.decode()


def test_work_list_page_runs_a_bounded_number_of_queries(client, world, jobs):
    client.force_login(world.county)
    client.get(WORKLISTS)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as ctx:
        client.get(WORKLISTS)
    sql = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    # Session, user, permissions, scope, the line years, the scope's settlements
    # for people and for households, the year's lines, whether today's
    # dashboard figures are stored (not here: asked by employment's lists and once
    # more for the other apps' lists), and one count per list: never one query per
    # person or household.
    assert len(sql) <= 20, sql
    assert sum(q.startswith("SELECT COUNT(") for q in sql) == 9


def test_work_list_page_needs_view_permission(client, world, make_user):
    nobody = make_user(settlements=[world.a])
    client.force_login(nobody)
    assert client.get(WORKLISTS).status_code == 403


def test_employment_app_index_links_to_the_work_lists(client, world, jobs):
    client.force_login(world.worker)
    body = client.get(reverse("admin:app_list", args=["employment"])).content.decode()
    assert WORKLISTS in body


# --- exports of the filtered lists ----------------------------------------------------------


def export_rows(client, model, params, resource="0"):
    url = reverse(f"admin:communities_{model}_export")
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.post(f"{url}?{query}", {"format": "0", "resource": resource})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    return text, list(csv.DictReader(io.StringIO(text)))


def test_export_of_a_person_list_is_exactly_the_filtered_rows_masked(client, world, jobs):
    client.force_login(world.county)
    text, rows = export_rows(client, "person", {"employment": "unemployed"}, resource="1")
    assert {r["姓名"] for r in rows} == COUNTY_PEOPLE["unemployed"]
    assert ID_RE.findall(text) == [] and MOBILE_RE.findall(text) == []
    by_name = {r["姓名"]: r for r in rows}
    assert by_name["配偶B"]["就业类型"] == "务农"
    assert by_name["户主B"]["就业类型"] == "无"
    assert by_name["户主B"]["最近离岗日期"] == (jobs.today - datetime.timedelta(days=1)).isoformat()
    assert by_name["户主D"]["统计日期"] == jobs.today.isoformat()
    head_b = jobs.heads["b"].id_number
    assert by_name["户主B"]["身份证号"] == head_b[:6] + "********" + head_b[-4:]


def test_export_of_a_person_list_on_a_date_states_that_date(client, world, jobs, county_pii):
    client.force_login(world.county)
    _text, rows = export_rows(
        client, "person", {"employment": "employed", "on": "2024-02-29"}, resource="1"
    )
    assert [(r["姓名"], r["统计日期"], r["就业单位"]) for r in rows] == [
        ("户主B", "2024-02-29", "贵阳某物流公司")
    ]
    client.force_login(county_pii)
    _text, rows = export_rows(
        client, "person", {"employment": "employed", "on": "2024-02-01"}, resource="1"
    )
    assert [(r["姓名"], r["统计日期"]) for r in rows] == [("户主B", "2024-02-01")]


def test_export_with_permission_has_full_ids_and_plain_layout_works(client, world, jobs):
    client.force_login(world.worker)
    text, rows = export_rows(client, "person", {"employment": "ended_30d"})
    assert rows == []  # nobody in 阳光新区
    text, rows = export_rows(client, "person", {"employment": "unemployed"})
    assert {r["姓名"] for r in rows} == {"配偶A", "户主D", "配偶D"}
    assert jobs.heads["d"].id_number in text


def test_export_of_household_lists(client, world, jobs):
    client.force_login(world.county)
    text, rows = export_rows(client, "household", {"employment": "zero_employment"}, resource="1")
    assert {r["户编号"] for r in rows} == {"522301000002", "522301000004"}
    assert MOBILE_RE.findall(text) == []
    by_number = {r["户编号"]: r for r in rows}
    assert by_number["522301000004"]["户主"] == "户主D"
    assert (by_number["522301000004"]["劳动力人数"], by_number["522301000004"]["已就业人数"]) == (
        "2",
        "0",
    )
    _text, rows = export_rows(client, "household", {"below_line": jobs.year}, resource="1")
    assert [(r["户编号"], r["收入年度"], r["人均纯收入"]) for r in rows] == [
        ("522301000002", str(jobs.year), "5000.00")
    ]


def test_export_of_a_list_never_leaves_the_users_scope(client, world, jobs):
    client.force_login(world.worker)
    _text, rows = export_rows(client, "household", {"below_line": jobs.year}, resource="1")
    assert rows == []
    _text, rows = export_rows(
        client,
        "household",
        {"employment": "zero_employment", "settlement__id__exact": world.b.pk},
        resource="1",
    )
    # 栗坪安置点 is not the worker's: its zero-employment household never appears.
    assert "522301000002" not in {r["户编号"] for r in rows}


def test_below_line_for_a_year_without_lines_is_empty(client, world, jobs):
    from employment.models import MonitoringLine

    MonitoringLine.objects.all().delete()
    client.force_login(world.county)
    assert listed(client, HOUSEHOLD_LIST, below_line=jobs.year) == set()


def test_every_admin_page_links_to_the_work_lists(client, world):
    from django.urls import reverse

    link = reverse("worklists")
    client.force_login(world.worker)
    assert f'href="{link}"' in client.get(reverse("admin:index")).content.decode()
    assert client.get(link).status_code == 200


def test_the_work_lists_have_their_own_address_and_the_old_one_leads_there(client, world):
    client.force_login(world.county)
    assert WORKLISTS == "/admin/worklists/"
    old = "/admin/employment/employmentrecord/worklists/?on=2025-06-30&year=2024"
    response = client.get(old)
    assert response.status_code == 301
    assert response.url == "/admin/worklists/?on=2025-06-30&year=2024"
    page = client.get(response.url).content.decode()
    # The side menu marks no list as the page open (it marked 就业台账 under the old address).
    assert 'aria-current="page"' not in page and "current-model" not in page
    assert "工作清单" in page


def test_the_work_lists_address_asks_a_visitor_to_sign_in(client):
    response = client.get(WORKLISTS)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
