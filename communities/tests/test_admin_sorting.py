"""Sorting a list by a column's heading (``?o=``): a list longer than
``sorted_rows_max`` only by a column an index orders, never by an encrypted column;
and a settlement chosen in the 安置点 filter applies even where the filter cannot
list the user's settlements (``communities.admin_lookups.ScopedChangeList``)."""

import pytest
from django.conf import settings
from django.urls import reverse

from communities import enums
from communities.admin_lookups import ScopedChangeList
from communities.models import Household

from .factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "admin:communities_household_changelist"
PEOPLE = "admin:communities_person_changelist"
# The household list's columns after the action checkbox (0).
NUMBER, HEAD_NAME, PHONE, MEMBER_COUNT = 1, 2, 3, 4


@pytest.fixture
def twelve(world):
    """The county (兴义市) holds 12 households: the world's 2 and 10 more, whose heads'
    names run against their numbers, each with as many members as its place."""
    for i in range(10):
        household = HouseholdFactory(settlement=(world.a, world.b)[i % 2], number=f"HH{i:04d}")
        PersonFactory(
            household=household, relationship=enums.Relationship.HEAD, name=f"户主{9 - i}"
        )
        for _ in range(i % 3):
            PersonFactory(household=household, relationship=enums.Relationship.SON)
    assert Household.objects.filter(settlement__county=world.a.county).count() == 12
    return world


def page(client, user, monkeypatch, most, url=HOUSEHOLDS, language="zh-hans", **query):
    monkeypatch.setattr(ScopedChangeList, "sorted_rows_max", most)
    client.force_login(user)
    response = client.get(reverse(url), query, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response, response.content.decode()


def numbers(response):
    return [household.number for household in response.context["cl"].result_list]


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def heading_is_link(html, column):
    """Whether the list's heading of ``column`` sorts it (Django marks it ``sortable``)."""
    head = html.split('id="result_list"')[1].split("</thead>")[0]
    return f"sortable column-{column}" in head


def test_a_long_list_is_not_sorted_by_a_column_no_index_orders(client, twelve, monkeypatch):
    default, _html = page(client, twelve.county, monkeypatch, most=20)
    response, html = page(client, twelve.county, monkeypatch, most=10, o=str(HEAD_NAME))
    assert numbers(response) == numbers(default)  # the list's own order, not the heads'
    assert "o" not in response.context["cl"].params
    assert messages_of(response) == [
        "列表超过 10 条，不能按“户主”排序：请先用右侧筛选或搜索缩小范围，再点击列标题排序。"
    ]
    assert not heading_is_link(html, "head_name") and not heading_is_link(html, "member_count")
    assert heading_is_link(html, "number")  # unique: its index gives any list in order
    assert "超过 10 条的列表不按“户主”“人数”“安置点”“搬迁年度”“搬迁户类别”“入住状态”排序" in html


def test_in_english_too(client, twelve, monkeypatch):
    response, html = page(
        client, twelve.county, monkeypatch, most=10, language="en", o=f"-{MEMBER_COUNT}"
    )
    assert messages_of(response) == [
        "The list holds more than 10 rows and cannot be sorted by “Members”: narrow it with "
        "the filters on the right or a search first, then click the column heading."
    ]
    assert "Lists of more than 10 rows are not sorted by “Head of household”" in html


def test_a_short_list_is_sorted_by_any_column(client, twelve, monkeypatch):
    response, html = page(client, twelve.county, monkeypatch, most=12, o=str(HEAD_NAME))
    heads = [household.head_name for household in response.context["cl"].result_list]
    assert heads == sorted(heads) and heads[0] == "户主0"
    assert response.context["cl"].params["o"] == str(HEAD_NAME)
    assert messages_of(response) == []
    assert heading_is_link(html, "head_name") and "不按" not in html


def test_narrowed_by_a_filter_the_long_list_sorts_again(client, twelve, monkeypatch):
    response, _html = page(
        client,
        twelve.county,
        monkeypatch,
        most=10,
        o=f"-{MEMBER_COUNT}",
        settlement__id__exact=str(twelve.a.pk),
    )
    counts = [household.n_members for household in response.context["cl"].result_list]
    assert len(counts) == 6 and counts == sorted(counts, reverse=True) and counts[0] == 3


def test_a_unique_column_sorts_a_list_of_any_length(client, twelve, monkeypatch):
    response, _html = page(client, twelve.county, monkeypatch, most=1, o=f"-{NUMBER}")
    assert numbers(response) == sorted(numbers(response), reverse=True)
    assert messages_of(response) == []


def test_of_two_columns_the_one_an_index_orders_is_kept(client, twelve, monkeypatch):
    response, _html = page(client, twelve.county, monkeypatch, most=10, o=f"{NUMBER}.{HEAD_NAME}")
    assert response.context["cl"].params["o"] == str(NUMBER)
    assert numbers(response) == sorted(numbers(response))
    assert len(messages_of(response)) == 1


def test_the_encrypted_phone_is_never_sorted_by(client, twelve, monkeypatch):
    """Its order would be the ciphertext's: not offered, and refused from the query string
    without a word, to the worker who sees the phones in clear as to the others."""
    default, _html = page(client, twelve.worker, monkeypatch, most=100)
    assert "phone" in default.context["cl"].list_display  # in clear for this worker
    response, html = page(client, twelve.worker, monkeypatch, most=100, o=f"-{PHONE}")
    assert numbers(response) == numbers(default) and len(numbers(default)) == 6
    assert "o" not in response.context["cl"].params and messages_of(response) == []
    assert not heading_is_link(html, "phone") and heading_is_link(html, "head_name")


def test_the_person_list_sorts_by_household_at_any_length(client, twelve, monkeypatch):
    """所属搬迁户 orders by the household's unique number (declared ``sortable_at_any_size``)."""
    default, _html = page(client, twelve.county, monkeypatch, most=1, url=PEOPLE)
    household_link = default.context["cl"].list_display.index("household_link")
    response, _html = page(
        client, twelve.county, monkeypatch, most=1, url=PEOPLE, o=f"-{household_link}"
    )
    shown = [person.household.number for person in response.context["cl"].result_list]
    assert shown == sorted(shown, reverse=True) and messages_of(response) == []


def test_a_settlement_chosen_applies_where_the_filter_cannot_list_them(client, twelve, monkeypatch):
    """Past ``ADMIN_SETTLEMENT_CHOICES`` settlements the 安置点 filter lists none; a
    settlement given in the URL used to be dropped with it, and the whole list shown."""
    monkeypatch.setattr(settings, "ADMIN_SETTLEMENT_CHOICES", 1)
    response, html = page(
        client, twelve.admin, monkeypatch, most=100, settlement__id__exact=str(twelve.a.pk)
    )
    assert {h.settlement_id for h in response.context["cl"].result_list} == {twelve.a.pk}
    assert len(numbers(response)) == 6
    assert twelve.a.name in html.split('id="changelist-filter"')[1]  # named as chosen


def test_a_settlement_outside_the_scope_gives_nothing(client, twelve, monkeypatch):
    monkeypatch.setattr(settings, "ADMIN_SETTLEMENT_CHOICES", 1)
    response, html = page(
        client, twelve.county, monkeypatch, most=100, settlement__id__exact=str(twelve.c.pk)
    )
    assert numbers(response) == []
    assert twelve.c.name not in html


def test_a_short_list_keeps_the_columns_in_the_order_asked(client, twelve, monkeypatch):
    """``?o=4.1``: by member count first, then by number (not the other way round)."""
    response, _html = page(
        client, twelve.county, monkeypatch, most=20, o=f"{MEMBER_COUNT}.{NUMBER}"
    )
    assert response.context["cl"].params["o"] == f"{MEMBER_COUNT}.{NUMBER}"
    keys = [(h.n_members, h.number) for h in response.context["cl"].result_list]
    assert keys == sorted(keys) and keys[0][0] < keys[-1][0]
