"""The 工作清单 page is the core's: it shows what the apps' providers add, in their order,
with the choices they offer (``WorkListOption``), and it needs no satellite to be served.

The lists' own counts, links and scope are tested with each app's lists
(``employment/tests/test_worklists.py``, the governance and services admin tests).
"""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from communities.models import Household
from communities.plugins import WorkListOption, work_lists
from communities.worklists import work_row

WORKLISTS = reverse("worklists")


@pytest.fixture
def providers(monkeypatch):
    """Only the providers a test adds (the apps' own are put back afterwards)."""
    monkeypatch.setattr(work_lists, "_providers", {})
    return work_lists


def _households(key, label):
    def rows(request, on_date, **chosen):
        yield work_row(
            request,
            Household,
            key,
            label,
            " ".join([on_date.isoformat(), *(f"{k}={v}" for k, v in chosen.items())]),
            lambda qs: qs,
            {"q": key},
        )

    return rows


def test_the_page_shows_each_providers_rows_in_order_with_its_options(client, world, providers):
    seen = {}

    def options(request, today):
        seen["today"] = today
        raw = request.GET.get("level", "")
        yield WorkListOption(
            "level",
            "级别",
            (("low", "低"), ("high", "高")),
            raw if raw in {"low", "high"} else "low",
        )

    def rows(request, on_date, level):
        seen["level"] = level
        yield from _households("second", "第二张清单")(request, on_date, level=level)

    providers.add("z_first", _households("first", "第一张清单"), order=1)
    providers.add("a_second", rows, order=2, options=options)
    providers.add("b_none", lambda request, on_date: [None], order=3)  # None rows are skipped

    client.force_login(world.county)
    response = client.get(WORKLISTS, {"level": "high", "on": "2025-06-30"})
    assert response.status_code == 200
    assert [row["key"] for row in response.context["rows"]] == ["first", "second"]
    # The county official's two settlements, each with one household.
    assert [row["count"] for row in response.context["rows"]] == [2, 2]
    assert seen == {"today": timezone.localdate(), "level": "high"}
    body = response.content.decode()
    assert '<label for="worklists-level">级别</label>' in body
    assert '<select id="worklists-level" name="level">' in body
    assert '<option value="high" selected>高</option>' in body
    assert '<option value="low">低</option>' in body
    # The rows are counted on the date chosen (the county official sees birth dates by
    # year only: a month end is kept).
    assert response.context["on_date"] == datetime.date(2025, 6, 30)
    assert '<td class="description">2025-06-30 level=high</td>' in body

    # A value that is not offered falls back to the provider's default.
    client.get(WORKLISTS, {"level": "<script>"})
    assert seen["level"] == "low"


def test_an_option_with_nothing_to_choose_shows_its_note_and_no_control(client, world, providers):
    providers.add(
        "only",
        lambda request, on_date, year: [],
        options=lambda request, today: [
            WorkListOption("year", "收入年度", (), None, "尚未登记防返贫监测线。")
        ],
    )
    client.force_login(world.county)
    body = client.get(WORKLISTS).content.decode()
    assert "尚未登记防返贫监测线。" in body
    assert 'name="year"' not in body


def test_the_page_needs_no_satellite(client, world, providers):
    """With no app's lists the page still opens (and says there is nothing to show)."""
    client.force_login(world.county)
    response = client.get(WORKLISTS)
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert response.context["options"] == []


def test_a_user_who_may_view_neither_households_nor_people_is_refused(client, make_user, providers):
    client.force_login(make_user())
    assert client.get(WORKLISTS).status_code == 403


def test_an_invalid_date_says_so_in_chinese_and_counts_today(client, world, providers):
    providers.add("first", _households("first", "第一张清单"))
    client.force_login(world.county)
    response = client.get(WORKLISTS, {"on": "2025-02-30"})
    assert response.status_code == 200
    assert response.context["on_date"] == timezone.localdate()
    assert "日期“2025-02-30”无效" in response.content.decode()


@pytest.mark.parametrize("taken", ["on", "level"])
def test_an_option_may_not_take_a_name_already_on_the_page(client, world, providers, taken):
    """Two drop-downs by one name (or one named as the page's 统计日期) would each read
    the other's value: refused when the page is built."""

    def options(name):
        return lambda request, today: [WorkListOption(name, name, (("a", "a"),), "a")]

    providers.add("first", lambda request, on_date, level: [], order=1, options=options("level"))
    providers.add("second", lambda request, on_date, **chosen: [], order=2, options=options(taken))
    client.force_login(world.county)
    with pytest.raises(ImproperlyConfigured, match=f"option '{taken}' of 'second'"):
        client.get(WORKLISTS)


def test_counts_are_written_with_thousands_separators(client, world, providers):
    """47704 is read as 47,704, as the dashboards write it."""

    def rows(request, on_date):
        row = next(_households("big", "大清单")(request, on_date))
        row["count"] = 47704
        yield row

    providers.add("big", rows, order=1)
    client.force_login(world.county)
    body = client.get(WORKLISTS).content.decode()
    assert '<td class="count">47,704</td>' in body
