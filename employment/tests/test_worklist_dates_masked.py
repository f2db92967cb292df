"""Work lists for users who see birth dates only as the year: the date is a period end.

Labour is 16–60 by the exact birth date, so a list on any chosen day would find
a birthday (try the days around a 16th birthday).  Users without
「可以查看完整的身份证号和电话」 get the list on the last day of the chosen
month, or today while that month runs (``reference_date_for``); users with it
keep the exact day.  See conftest for the ``world`` and ``jobs`` fixtures.
"""

import datetime
from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from communities import enums as cenums
from communities.models import Person
from communities.tests.factories import HouseholdFactory, PersonFactory
from communities.worklists import reference_date_for
from employment.admin_filters import PERSON_LISTS
from employment.indicators import _households, _people
from employment.tests.test_worklists import HOUSEHOLD_LIST, PERSON_LIST, export_rows, listed
from relocation.dashboards.periods import PeriodKind, period_containing

pytestmark = pytest.mark.django_db

WORKLISTS = reverse("worklists")


def _month_end(day):
    following = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


@pytest.fixture
def teen(world, jobs):
    """少年F turns 16 on the 15th of the month two months back, in a household of their own
    with a grandmother of 70: the household has labour from that day on."""
    first = (jobs.today.replace(day=1) - datetime.timedelta(days=40)).replace(day=1)
    birthday = first.replace(day=15)
    household = HouseholdFactory(number="522301000006", settlement=world.a)
    PersonFactory(household=household, name="奶奶F", head=True, sex="F", age=70)
    person = PersonFactory(
        household=household,
        name="少年F",
        relationship=cenums.Relationship.OTHER,
        sex="M",
        birth_date=birthday.replace(year=birthday.year - 16),
    )
    return SimpleNamespace(
        person=person,
        household=household,
        birthday=birthday.isoformat(),
        day_before=(birthday - datetime.timedelta(days=1)).isoformat(),
        month_end=_month_end(birthday).isoformat(),
    )


def test_reference_date_rule(world):
    today = datetime.date(2026, 11, 20)
    county, worker = world.county, world.worker
    assert reference_date_for(county, datetime.date(2025, 6, 14), today) == datetime.date(
        2025, 6, 30
    )
    assert reference_date_for(county, datetime.date(2024, 2, 1), today) == datetime.date(
        2024, 2, 29
    )
    # The running month, and later months, give today.
    assert reference_date_for(county, datetime.date(2026, 11, 3), today) == today
    assert reference_date_for(county, datetime.date(2027, 1, 31), today) == today
    # Period ends and today stay as they are.
    for day in (datetime.date(2026, 9, 30), datetime.date(2025, 12, 31), today):
        assert reference_date_for(county, day, today) == day
    # With the permission the chosen day is used.
    assert reference_date_for(worker, datetime.date(2025, 6, 14), today) == datetime.date(
        2025, 6, 14
    )


@pytest.mark.parametrize(
    ("url", "value", "member"),
    [
        (PERSON_LIST, "labour", "少年F"),
        (PERSON_LIST, "unemployed", "少年F"),
        (HOUSEHOLD_LIST, "with_labour", "522301000006"),
    ],
)
def test_masked_user_gets_the_same_list_around_a_birthday(
    client, world, jobs, teen, url, value, member
):
    client.force_login(world.county)
    before = listed(client, url, employment=value, on=teen.day_before)
    on_day = listed(client, url, employment=value, on=teen.birthday)
    month_end = listed(client, url, employment=value, on=teen.month_end)
    assert before == on_day == month_end
    assert member in month_end


def test_user_with_the_permission_gets_the_exact_day(client, world, jobs, teen):
    client.force_login(world.worker)
    before = listed(client, PERSON_LIST, employment="labour", on=teen.day_before)
    on_day = listed(client, PERSON_LIST, employment="labour", on=teen.birthday)
    assert on_day - before == {"少年F"}
    households_before = listed(client, HOUSEHOLD_LIST, employment="with_labour", on=teen.day_before)
    households_on_day = listed(client, HOUSEHOLD_LIST, employment="with_labour", on=teen.birthday)
    assert households_on_day - households_before == {"522301000006"}
    response = client.get(PERSON_LIST, {"employment": "labour", "on": teen.day_before})
    assert f"就业情况（{teen.day_before}）" in response.content.decode()
    assert list(get_messages(response.wsgi_request)) == []


def test_masked_exports_around_a_birthday_are_identical_and_state_the_date_used(
    client, world, jobs, teen
):
    client.force_login(world.county)
    for model, value, key in (
        ("person", "labour", "姓名"),
        ("household", "with_labour", "户编号"),
    ):
        texts, rows = [], []
        for day in (teen.day_before, teen.birthday, teen.month_end):
            text, day_rows = export_rows(client, model, {"employment": value, "on": day}, "1")
            texts.append(text)
            rows.append(day_rows)
        assert texts[0] == texts[1] == texts[2]
        assert {r["统计日期"] for r in rows[0]} == {teen.month_end}
        assert {"少年F", "522301000006"} & {r[key] for r in rows[0]}


def test_user_with_the_permission_exports_the_exact_day(client, world, jobs, teen):
    client.force_login(world.worker)
    params = {"employment": "labour", "on": teen.day_before}
    _text, rows = export_rows(client, "person", params, "1")
    assert "少年F" not in {r["姓名"] for r in rows}
    assert {r["统计日期"] for r in rows} == {teen.day_before}


def test_the_page_says_which_date_was_used(client, world, jobs, teen):
    client.force_login(world.county)
    response = client.get(PERSON_LIST, {"employment": "labour", "on": teen.birthday})
    body = response.content.decode()
    assert f"就业情况（{teen.month_end}）" in body
    assert f"就业情况（{teen.birthday}）" not in body
    message = f"统计日期 {teen.birthday} 已改为 {teen.month_end}"
    assert message in body
    # A period end is used as it is, without a message.
    response = client.get(PERSON_LIST, {"employment": "labour", "on": teen.month_end})
    assert f"就业情况（{teen.month_end}）" in response.content.decode()
    assert list(get_messages(response.wsgi_request)) == []


def test_a_date_in_the_running_month_gives_todays_list(client, world, jobs, teen):
    client.force_login(world.county)
    today = jobs.today.isoformat()
    first = jobs.today.replace(day=1).isoformat()
    future = (jobs.today + datetime.timedelta(days=45)).isoformat()
    expected = listed(client, PERSON_LIST, employment="ended_30d", on=today)
    assert expected == {"户主B"}
    assert listed(client, PERSON_LIST, employment="ended_30d", on=first) == expected
    assert listed(client, PERSON_LIST, employment="ended_30d", on=future) == expected
    body = client.get(PERSON_LIST, {"employment": "ended_30d", "on": future}).content.decode()
    assert f"就业情况（{today}）" in body
    assert f"统计日期 {future} 已改为 {today}" in body


def test_dashboard_drill_downs_are_unchanged_for_a_masked_user(client, world, jobs, teen):
    """Dashboards link with period ends or today: the list is the rule on exactly that day."""
    client.force_login(world.county)
    visible = Person.objects.visible_to(world.county)
    days = {jobs.today}
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR):
        period = period_containing(kind, jobs.today)
        days |= {period.reference_date(jobs.today), period.previous().reference_date(jobs.today)}
    days.add(period_containing(PeriodKind.MONTH, datetime.date.fromisoformat(teen.birthday)).end)
    for day in sorted(days):
        window = SimpleNamespace(reference_date=day)
        for value in ("labour", "employed", "unemployed"):
            url = _people(value)(f"s{world.a.pk}", window)
            response = client.get(url)
            rows = {str(p) for p in response.context["cl"].result_list}
            rule = PERSON_LISTS[value][1]
            assert rows == {
                str(p) for p in rule(visible, day).filter(household__settlement=world.a)
            }
            assert f"就业情况（{day.isoformat()}）" in response.content.decode()
            assert list(get_messages(response.wsgi_request)) == []
        response = client.get(_households("with_labour")(f"s{world.a.pk}", window))
        assert response.status_code == 200
        assert list(get_messages(response.wsgi_request)) == []


def test_work_list_page_counts_on_the_date_used(client, world, jobs, teen):
    client.force_login(world.county)
    response = client.get(WORKLISTS, {"on": teen.birthday})
    assert response.context["on_date"].isoformat() == teen.month_end
    body = response.content.decode()
    assert f"{teen.month_end} 的工作清单" in body
    assert f"统计日期 {teen.birthday} 已改为 {teen.month_end}" in body
    dated = ("zero_employment", "unemployed", "ended_30d")
    urls = [row["url"] for row in response.context["rows"] if row["key"] in dated]
    assert urls and all(url.endswith(f"on={teen.month_end}") for url in urls)
    client.force_login(world.worker)
    response = client.get(WORKLISTS, {"on": teen.birthday})
    assert response.context["on_date"].isoformat() == teen.birthday
